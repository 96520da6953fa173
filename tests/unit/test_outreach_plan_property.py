"""Property test of planning itself (the database, the opt-outs, the DND store and the poll calendar
together): over random clocks, zones, poll calendars, opt-outs and DND entries, no contact planned is
opted out, on the DND file, inside their AC's silence (or the earliest poll's) or in 22:00-06:00."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.engine import make_engine
from db.models import Unit, UnitKind
from db.outreach import Contact, ListEntry, OptOut, OutreachCampaign, OutreachList
from dialer.rules import CallingRules
from outreach.campaigns import create, plan_due, start
from outreach.dnd import DndList, build
from outreach.rules import in_ban

PHONES = [f"+9198260{i:05d}" for i in range(30)]
ZONES = ["Asia/Kolkata", "UTC", "America/New_York", "Asia/Tokyo"]
clocks = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('plan') / 'p.db'}")
    migrate.upgrade(engine)
    yield sessionmaker(engine)
    engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(now=clocks, zone=st.sampled_from(ZONES), ban_zone=st.sampled_from(ZONES),
       closes=st.dictionaries(st.integers(1, 4), clocks, max_size=4),
       acs=st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=30, max_size=30),
       stopped=st.sets(st.sampled_from(PHONES)), dnd=st.sets(st.sampled_from(PHONES)))
def test_no_planned_contact_breaks_the_law(sessions: sessionmaker[Session], tmp_path: Path, now: datetime, zone: str,
                                           ban_zone: str, closes: dict[int, datetime], acs: list[int | None],
                                           stopped: set[str], dnd: set[str]) -> None:
    with sessions.begin() as s:
        for model in (ListEntry, OutreachCampaign, OptOut, Contact, OutreachList, Unit):
            s.execute(delete(model))
        for ac, close in closes.items():
            s.add(Unit(kind=UnitKind.ac, name=f"AC {ac}", key=f"ac:{ac}", number=ac, poll_end_at=close))
        lst = OutreachList(name="l")
        s.add(lst)
        s.flush()
        for phone, ac in zip(PHONES, acs, strict=True):
            contact = Contact(phone=phone, ac_no=ac, consent_source="form", fields={})
            s.add(contact)
            s.flush()
            s.add(ListEntry(list_id=lst.id, contact_id=contact.id))
        s.add_all(OptOut(phone=p, source="keypad") for p in stopped)
        create(s, "c", "l", mcmc_ref="M/1", caller_id="0755", trunk_category="x")
        start(s, "c")
    (tmp_path / "dnd.txt").write_text("\n".join(dnd) + "\n")
    build(tmp_path / "dnd.txt", tmp_path / "dnd.bin")
    rules = CallingRules(window_start=time(6), window_end=time(22), timezone=zone, min_gap=timedelta(0))
    with DndList(tmp_path / "dnd.bin") as store, sessions.begin() as s:
        due, _ = plan_due(s, "c", now, rules, store.__contains__, 100, ban_zone)
    earliest = min(closes.values()) if closes else None
    for d in due:
        assert d.phone not in stopped and d.phone not in dnd
        assert not in_ban(now, ban_zone)
        assert time(6) <= now.astimezone(ZoneInfo(zone)).time() < time(22)
        close = closes.get(d.ac_no) if d.ac_no in closes else earliest
        if close is not None:
            assert not close - timedelta(hours=48) <= now < close
