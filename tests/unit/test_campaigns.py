"""Campaign targets from the directory, the retry policy, and the directory sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db.campaigns import Attempt, CampaignState, Disposition, Target, TargetState
from db.engine import Database
from db.models import Committee, Membership, Person
from dialer import store
from dialer.campaigns import CampaignError, Selection, change_state, create_campaign, parse_retry, progress
from dialer.rules import CallingRules
from dialer.sync import DirectorySync
from directory.changes import record_change
from tests.directory_builder import Dir, build

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 11:30 IST


@pytest.fixture
def directory(session_factory: sessionmaker[Session]) -> Dir:
    with session_factory.begin() as s:
        return build(s)


def _targets(sf: sessionmaker[Session], campaign_id: int) -> dict[int, Target]:
    with sf() as s:
        return {t.person_id: t for t in s.scalars(select(Target).where(Target.campaign_id == campaign_id))}


def test_selection_by_unit_level_post_and_status(session_factory: sessionmaker[Session], directory: Dir) -> None:
    ids = {k: p.id for k, p in directory.people.items()}
    with session_factory.begin() as s:
        everyone = create_campaign(s, name="all", mode="ivr", selection=Selection())
        booths = create_campaign(s, name="booths", mode="ivr", selection=Selection(levels=("booth",)))
        weak = create_campaign(s, name="weak", mode="ivr", selection=Selection(statuses=("weak",)))
        presidents = create_campaign(s, name="pres", mode="operator",
                                     selection=Selection(units=(directory.units["mandal:1"].id,), posts=("President",)))
    assert set(_targets(session_factory, everyone.id)) == set(ids.values())  # 6 people, mandal_pres once
    assert _targets(session_factory, everyone.id)[ids["mandal_pres"]].committee_id == \
        directory.committees["booth:112:2"].id  # the deepest of their committees
    assert set(_targets(session_factory, booths.id)) == {ids[k] for k in
                                                         ("b1_pres", "b1_bla", "b2_pres", "b2_bla", "mandal_pres")}
    assert set(_targets(session_factory, weak.id)) == {ids[k] for k in ("b2_pres", "b2_bla", "mandal_pres")}
    assert set(_targets(session_factory, presidents.id)) == {ids[k] for k in ("mandal_pres", "b1_pres", "b2_pres")}


def test_bad_campaigns_are_refused(session_factory: sessionmaker[Session], directory: Dir) -> None:
    with session_factory.begin() as s:
        create_campaign(s, name="x", mode="ivr", selection=Selection())
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "x", "mode": "ivr"}, "already exists"), ({"name": "y", "mode": "robo"}, "use ivr or operator"),
             ({"name": "y", "mode": "ivr", "selection": Selection(statuses=("hot",))}, "booth status hot"),
             ({"name": "y", "mode": "ivr", "rules": {"window_start": "05:00"}}, "banned")]
    for kwargs, message in cases:
        kwargs.setdefault("selection", Selection())
        with session_factory.begin() as s, pytest.raises(CampaignError, match=message):
            create_campaign(s, **kwargs)
    with pytest.raises(CampaignError, match="outcome must be one of"):
        parse_retry(["ringing=3/1m"])
    assert parse_retry(["no-answer=2/90s"])["no_answer"] == {"tries": 2, "after": 90}
    with session_factory.begin() as s:
        change_state(s, "x", "start")
        with pytest.raises(CampaignError, match="cannot resume campaign 'x': it is running"):
            change_state(s, "x", "resume")


def _dial(sf: sessionmaker[Session], campaign_id: int, person_id: int, now: datetime, n: int) -> store.Launch:
    with sf.begin() as s:
        campaign = s.get(store.Campaign, campaign_id)
        assert campaign is not None
        due = [d for d in store.due_targets(s, campaign, now, 100, CallingRules(), store.AcIndex(), set())
               if d.person_id == person_id]
        assert due, "target not due"
        launch = store.begin_attempt(s, due[0], "lines", f"wr-{n}", f"wr-a-{n}", now)
        assert launch is not None, "the campaign is not running"
        return launch


def _finish(sf: sessionmaker[Session], launch: store.Launch, disposition: Disposition, now: datetime) -> None:
    with sf.begin() as s:
        assert store.finish_attempt(s, launch.attempt_id, disposition=disposition, cause=None,
                                    answered_at=now if disposition is Disposition.answered else None,
                                    ended_at=now, talk_seconds=5 if disposition is Disposition.answered else None,
                                    detail="test", now=now)
        assert not store.finish_attempt(s, launch.attempt_id, disposition=disposition, cause=None, answered_at=None,
                                        ended_at=now, talk_seconds=None, detail="again", now=now)


def test_retry_policy_then_alternate_then_done(session_factory: sessionmaker[Session], directory: Dir) -> None:
    pid = directory.people["b1_pres"].id
    with session_factory.begin() as s:
        c = create_campaign(s, name="r", mode="ivr", selection=Selection(levels=("booth",)),
                            retry=parse_retry(["no_answer=2/10m"]))
    now = NOW
    launch = _dial(session_factory, c.id, pid, now, 1)
    assert launch.phone == "+919826000003"
    _finish(session_factory, launch, Disposition.no_answer, now)
    t = _targets(session_factory, c.id)[pid]
    assert t.state == TargetState.queued and t.next_at == now + timedelta(minutes=10)
    now += timedelta(minutes=40)
    _finish(session_factory, _dial(session_factory, c.id, pid, now, 2), Disposition.no_answer, now)
    t = _targets(session_factory, c.id)[pid]
    assert t.use_alternate and t.state == TargetState.queued  # out of tries on the primary
    now += timedelta(minutes=40)
    launch = _dial(session_factory, c.id, pid, now, 3)
    assert launch.phone == "+919826000013"
    _finish(session_factory, launch, Disposition.answered, now)
    t = _targets(session_factory, c.id)[pid]
    assert t.state == TargetState.done and t.last_disposition == "answered"
    with session_factory() as s:
        person = s.get(Person, pid)
        assert person is not None and person.verified_at == now
        assert progress(s, c.id)["dispositions"] == {"no_answer": 2, "answered": 1}


def test_a_paused_campaign_gets_no_new_attempt(session_factory: sessionmaker[Session], directory: Dir) -> None:
    pid = directory.people["b1_pres"].id
    with session_factory.begin() as s:
        c = create_campaign(s, name="p", mode="ivr", selection=Selection(levels=("booth",)))
        change_state(s, "p", "start")
        due = [d for d in store.due_targets(s, c, NOW, 100, CallingRules(), store.AcIndex(), set())
               if d.person_id == pid]
    with session_factory.begin() as s:
        change_state(s, "p", "pause")  # between the dialer's read of the due targets and its launch
    with session_factory.begin() as s:
        assert store.begin_attempt(s, due[0], "lines", "wr-p", "wr-a-p", NOW) is None
    with session_factory() as s:
        assert progress(s, c.id)["in_flight"] == 0 and _targets(session_factory, c.id)[pid].tries == 0


def test_invalid_number_marks_phone_and_uses_alternate(session_factory: sessionmaker[Session],
                                                       directory: Dir) -> None:
    with session_factory.begin() as s:
        c = create_campaign(s, name="inv", mode="ivr", selection=Selection(levels=("booth",)))
    pid = directory.people["b1_pres"].id
    _finish(session_factory, _dial(session_factory, c.id, pid, NOW, 1), Disposition.invalid_number, NOW)
    with session_factory() as s:
        p = s.get(Person, pid)
        assert p is not None and p.phone_invalid_at is not None and p.dial_phone() == "+919826000013"
    assert _dial(session_factory, c.id, pid, NOW, 2).phone == "+919826000013"
    other = directory.people["b1_bla"].id  # no alternate: done, marked wrong number
    _finish(session_factory, _dial(session_factory, c.id, other, NOW, 3), Disposition.invalid_number, NOW)
    assert _targets(session_factory, c.id)[other].state == TargetState.done
    with session_factory() as s:
        assert s.scalar(select(Attempt.phone).where(Attempt.channel_id == "wr-3")) == "+919826000004"


def test_rules_hold_back_and_remove(session_factory: sessionmaker[Session], directory: Dir) -> None:
    with session_factory.begin() as s:
        c = create_campaign(s, name="hb", mode="ivr", selection=Selection(levels=("booth",)))
        s.execute(update(Person).where(Person.id == directory.people["b1_bla"].id).values(dnd=True))
    with session_factory.begin() as s:
        campaign = s.get(store.Campaign, c.id)
        assert campaign is not None
        from dialer.rules import check

        night = NOW + timedelta(hours=12)
        for due in store.due_targets(s, campaign, night, 100, CallingRules(), store.AcIndex(), set()):
            store.hold_back(s, due.target_id, check(due.facts, night, CallingRules()))
    targets = _targets(session_factory, c.id)
    assert targets[directory.people["b1_bla"].id].state == TargetState.removed
    held = targets[directory.people["b2_bla"].id]
    assert held.state == TargetState.queued and held.blocked_rule == "window" and held.next_at is not None
    with session_factory() as s:
        assert progress(s, c.id)["blocked"] == {"window": 4}


def test_directory_sync_removes_opted_out_and_adds_new_members(session_factory: sessionmaker[Session],
                                                              database: Database, directory: Dir) -> None:
    with session_factory.begin() as s:
        c = create_campaign(s, name="sync", mode="ivr", selection=Selection(levels=("booth",)))
        change_state(s, "sync", "start")
    sync = DirectorySync(database)
    with session_factory() as s:
        from directory.changes import last_change_id

        sync.position = last_change_id(s)
    assert not sync.step()
    with session_factory.begin() as s:
        p = s.get(Person, directory.people["b2_bla"].id)
        assert p is not None
        p.dnd = True
        record_change(s, p.id, "dnd")
        newcomer = Person(name="new", phone="+919826000099")
        s.add(newcomer)
        s.flush()
        s.add(Membership(person_id=newcomer.id, committee_id=directory.committees["booth:112:1"].id, post="member"))
        record_change(s, newcomer.id, "created")
        outsider = Person(name="district only", phone="+919826000098")
        s.add(outsider)
        s.flush()
        s.add(Membership(person_id=outsider.id, committee_id=directory.committees["district:bhopal"].id, post="x"))
        record_change(s, outsider.id, "created")
    assert sync.step()
    targets = _targets(session_factory, c.id)
    assert targets[directory.people["b2_bla"].id].state == TargetState.removed
    assert targets[directory.people["b2_bla"].id].blocked_by == "directory: opted out"
    assert newcomer.id in targets and targets[newcomer.id].state == TargetState.queued
    assert outsider.id not in targets  # does not match the campaign's selection
    with session_factory() as s:
        campaign = s.get(store.Campaign, c.id)
        assert campaign is not None and campaign.state == CampaignState.running
        assert s.scalar(select(Committee.id).where(Committee.id == targets[newcomer.id].committee_id))
