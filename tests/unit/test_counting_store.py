"""Counting day over a real database (SQLite and PostgreSQL): a counting plan's rounds run as dialer
campaigns of the AC's counting agents (a table's first post at once, its alternate later, before the
calling window opens), their answers become each table's votes per party, a complete table's other calls
are cancelled, a hotline report keeps the table out of the round, the checks raise alerts, an operator's
correction, the result sheet and its export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.log import Actor
from db.campaigns import Campaign, CampaignState, Target, TargetState
from db.engine import Database
from db.ivr import IvrCall
from db.models import Committee, Membership, Person, Unit, UnitKind
from db.pollday import CountAlert, CountReport, CountRound
from dialer.rules import CallingRules, check
from dialer.store import AcIndex, due_targets
from events.bus import EventBus
from events.types import IvrAnswered, PollDayChanged
from pollday import counting_store as counts
from pollday.counting import CountingPlan, Party
from pollday.counting_board import sheet, sheet_report
from pollday.errors import PlanInvalid
from pollday.service import PollDayService
from pollday.store import FALLBACK
from reports.export import to_csv

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2026, 11, 23)


def at(h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(2026, 11, 23, h, m, s, tzinfo=IST)


def make_ac(sessions: sessionmaker[Session]) -> dict[str, int]:
    """AC 9 (polled three days before counting) with six booths of 1,000 electors, a booth committee with a
    BLA-2, and the AC committee: counting agents for tables 1-3 and an alternate for table 1."""
    with sessions.begin() as s:
        ac = Unit(key="ac:9", kind=UnitKind.ac, name="AC 9", number=9,
                  poll_end_at=at(18).astimezone(UTC) - timedelta(days=3))
        s.add(ac)
        s.flush()
        ids = {"ac": ac.id}
        for n in range(1, 7):
            booth = Unit(key=f"booth:9:{n}", kind=UnitKind.booth, name=f"Booth {n}", number=n, parent_id=ac.id,
                         ac_id=ac.id, voter_count=1000)
            s.add(booth)
            s.flush()
            ids[f"booth{n}"] = booth.id
        committee = Committee(unit_id=ac.id)
        booth_committee = Committee(unit_id=ids["booth1"])
        s.add_all([committee, booth_committee])
        s.flush()
        for name, post, where in (("ca1", "Counting agent 1", committee), ("ca2", "Counting Agent 2", committee),
                                  ("ca3", "counting-agent-03", committee), ("alt1", "Counting alternate 1", committee),
                                  ("bla", "BLA-2", booth_committee)):
            p = Person(name=name, phone=f"+91980001{len(ids):04d}")
            s.add(p)
            s.flush()
            s.add(Membership(person_id=p.id, committee_id=where.id, post=post))
            ids[name] = p.id
    return ids


def plan(ac_id: int) -> CountingPlan:
    return CountingPlan(ac_id=ac_id, counting_date=DAY, round_count=2, tables=3,
                        parties=(Party("BJP", "Suresh Sharma"), Party("INC")),
                        posts=("counting agent", "counting alternate"))


def call(sessions: sessionmaker[Session], person: int, *, campaign: int | None = None,
         started: datetime | None = None, pin: bool = True) -> int:
    """A call of the round's campaign, or (no campaign) a hotline call whose caller gave their PIN (``pin``)."""
    with sessions.begin() as s:
        row = IvrCall(channel_id=f"c-{person}-{campaign}-{started}-{pin}", script="counting", language="en",
                      direction="outbound" if campaign else "inbound", campaign_id=campaign, person_id=person,
                      started_at=(started or at(8, 33)).astimezone(UTC), caller_verified=None if campaign else pin)
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture
def ids(session_factory: sessionmaker[Session]) -> dict[str, int]:
    ids = make_ac(session_factory)
    with session_factory.begin() as s:
        counts.save_plan(s, plan(ids["ac"]))
    return ids


def _acs(s: Session) -> AcIndex:
    acs = AcIndex()
    acs.load(s)
    return acs


async def answer(svc: PollDayService, cid: int, *figures: int, when: datetime) -> None:
    for i, n in enumerate(figures, start=1):
        await svc.record_count(IvrAnswered(cid, f"p{i}", str(n), n, True, when))


async def test_a_counting_round_calls_the_counting_agents_by_table(database: Database, ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus())
    assert await svc.tick(at(8, 20)) == []
    assert await svc.tick(at(8, 32)) == [(ids["ac"], 1)]
    assert await svc.tick(at(8, 33)) == []
    with database.sessions() as s:
        [rnd] = s.scalars(select(CountRound)).all()
        campaign = s.get(Campaign, rnd.campaign_id)
        assert campaign is not None and campaign.state is CampaignState.running
        assert campaign.fields == {"parties": "2", "round": "1", "party1": "Suresh Sharma (BJP)", "party2": "INC"}
        assert campaign.rules["count_plan"] and campaign.scripts["strong"] == "counting"
        targets = {t.person_id: t for t in s.scalars(select(Target).where(Target.campaign_id == campaign.id))}
        assert set(targets) == {ids[n] for n in ("ca1", "ca2", "ca3", "alt1")}, "not the BLA-2"
        assert targets[ids["ca1"]].next_at is None
        later = targets[ids["alt1"]].next_at
        assert later is not None and later.astimezone(UTC) == (at(8, 32) + FALLBACK).astimezone(UTC)
        # 08:32 is before the calling window (09:00): the plan's own counting agents are called all the same
        due = due_targets(s, campaign, at(8, 32), 50, CallingRules(), _acs(s), set())
        assert len(due) == 3 and all(check(d.facts, at(8, 32), CallingRules()).allowed for d in due)
        assert all(not check(d.facts, at(22, 30), CallingRules()).allowed for d in due), "never 22:00-06:00"


async def test_answers_fill_the_table_and_cancel_its_other_calls(database: Database, ids: dict[str, int]) -> None:
    bus = EventBus()
    seen: list[PollDayChanged] = []
    bus.subscribe(PollDayChanged, seen.append)
    svc = PollDayService(database, bus, clock=lambda: at(8, 50))
    await svc.tick(at(8, 32))
    with database.sessions() as s:
        campaign_id = s.scalar(select(CountRound.campaign_id))
    cid = call(database.sessions, ids["ca1"], campaign=campaign_id)
    found = await svc.record_count(IvrAnswered(cid, "p1", "300", 300, True, at(8, 34)))
    assert found is not None and (found.table, found.round, found.complete) == (1, 1, False)
    with database.sessions() as s:  # one party in: the alternate is still to be called
        alt = s.scalar(select(Target).where(Target.person_id == ids["alt1"]))
        assert alt is not None and alt.state is TargetState.queued
    await svc.record_count(IvrAnswered(cid, "p2", "250", 250, True, at(8, 35)))
    await svc.record_count(IvrAnswered(cid, "p2", "260", 260, True, at(8, 35)))  # re-entered: the latest wins
    assert seen and seen[-1] == PollDayChanged(ids["ac"], "count", at=seen[-1].at)
    with database.sessions() as s:
        rows = {(r.round, r.table_no, r.party): (r.votes, r.source) for r in s.scalars(select(CountReport))}
        assert rows == {(1, 1, "BJP"): (300, "call"), (1, 1, "INC"): (260, "call")}
        alt = s.scalar(select(Target).where(Target.person_id == ids["alt1"]))
        assert alt is not None and alt.state is TargetState.done and "reported" in (alt.blocked_by or "")
        other = s.scalar(select(Target).where(Target.person_id == ids["ca2"]))
        assert other is not None and other.state is TargetState.queued
    board = await svc.counting_sheet(ids["ac"])
    one = board["rows"][0]
    assert (board["round"], one["votes"], one["total"], one["leader"], one["margin"]) == (1, [300, 260], 560, "BJP", 40)
    assert (one["reported"], one["missing"], one["state"]) == ([1], [2, 3], "running")
    assert one["tables"][0] == {"table": 1, "booth": 1, "votes": [300, 260], "total": 560, "complete": True,
                                "source": "call", "at": one["tables"][0]["at"], "alerts": []}
    assert board["rows"][1]["state"] == "planned" and board["rows"][1]["missing"] == [1, 2, 3]
    # a step of another kind, or a call that is no counting round's, changes nothing
    assert await svc.record_count(IvrAnswered(cid, "votes", "9", 9, True, at(8, 36))) is None
    stray = call(database.sessions, ids["bla"], started=at(8, 40))
    assert await svc.record_count(IvrAnswered(stray, "p1", "9", 9, True, at(8, 40))) is None
    early = call(database.sessions, ids["ca3"], started=at(8, 10))  # before the first round's time
    assert await svc.record_count(IvrAnswered(early, "p1", "9", 9, True, at(8, 10))) is None


async def test_a_hotline_report_first_keeps_the_table_out_of_the_round(database: Database,
                                                                     ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus())
    hotline = call(database.sessions, ids["ca2"], started=at(8, 30, 30))
    await answer(svc, hotline, 410, 390, when=at(8, 31))
    await svc.tick(at(8, 32))
    with database.sessions() as s:
        t = s.scalar(select(Target).where(Target.person_id == ids["ca2"]))
        assert t is not None and t.state is TargetState.done
        assert {r.source for r in s.scalars(select(CountReport))} == {"hotline"}
        assert {r.table_no for r in s.scalars(select(CountReport))} == {2}


async def test_the_hotline_takes_a_count_only_after_the_pin_and_tells_the_agent_their_round(
        database: Database, ids: dict[str, int]) -> None:
    from ari_handlers.ivr_store import inbound_info
    svc = PollDayService(database, EventBus())
    spoofed = call(database.sessions, ids["ca2"], started=at(8, 40), pin=False)
    assert await svc.record_count(IvrAnswered(spoofed, "p1", "400", 400, True, at(8, 41))) is None
    with database.sessions() as s:
        assert s.scalars(select(CountReport)).all() == []
        # what the hotline's templates see: the agent's round on counting day, nothing for anyone else
        fields = inbound_info(s, phone=None, person_id=ids["ca2"], booth_id=None, language="en", party="BJP",
                              at=at(9, 5)).context["campaign"]
        assert (fields["round"], fields["parties"], fields["party1"], fields["party2"]) == \
            ("2", "2", "Suresh Sharma (BJP)", "INC")
        other = inbound_info(s, phone=None, person_id=ids["bla"], booth_id=ids["booth1"], language="en",
                             party="BJP", at=at(9, 5)).context["campaign"]
        assert other["round"] == "" and other["parties"] == "0"
        early = inbound_info(s, phone=None, person_id=ids["ca2"], booth_id=None, language="en", party="BJP",
                             at=at(8)).context["campaign"]
        assert early["round"] == ""


async def test_checks_raise_alerts_and_an_operator_corrects_the_table(database: Database,
                                                                     ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus(), clock=lambda: at(9, 10))
    await svc.tick(at(8, 32))
    cid = call(database.sessions, ids["ca3"], started=at(8, 40))
    await answer(svc, cid, 900, 200, when=at(8, 41))       # booth 3 has 1,000 electors
    cid2 = call(database.sessions, ids["ca2"], started=at(9, 1))
    await answer(svc, cid2, 4000, 10, when=at(9, 2))        # round 2, table 2: booth 5
    with database.sessions() as s:
        alerts = {(a.round, a.table_no, a.kind) for a in s.scalars(select(CountAlert))}
    assert alerts == {(1, 3, "above_electors"), (2, 2, "absurd"), (2, 2, "above_electors")}
    board = await svc.counting_sheet(ids["ac"])
    assert board["open_alerts"] == 3
    assert [a["kind"] for a in board["rows"][0]["tables"][2]["alerts"]] == ["above_electors"]
    assert "booth 3" in board["rows"][0]["tables"][2]["alerts"][0]["message"]
    # the operator called table 3 back: 600 and 200; the alert is done
    out = await svc.enter_votes(ids["ac"], 1, 3, {"BJP": 600}, Actor("op"))
    assert out == {"ac_id": ids["ac"], "round": 1, "table": 3, "complete": True}
    first = next(a["id"] for a in board["alerts"] if a["round"] == 1)
    await svc.close_count_alert(first, Actor("op"))
    board = await svc.counting_sheet(ids["ac"])
    assert board["open_alerts"] == 2 and board["rows"][0]["votes"] == [600, 200]
    assert board["rows"][0]["tables"][2]["source"] == "operator"
    with pytest.raises(PlanInvalid, match="table 4"):
        await svc.enter_votes(ids["ac"], 1, 4, {"BJP": 1}, Actor("op"))
    with pytest.raises(PlanInvalid, match="AAP"):
        await svc.enter_votes(ids["ac"], 1, 1, {"AAP": 1}, Actor("op"))
    with pytest.raises(PlanInvalid, match="round 3"):
        await svc.enter_votes(ids["ac"], 3, 1, {"BJP": 1}, Actor("op"))


async def test_the_sheet_exports_a_row_per_round_and_the_totals(database: Database, ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus(), clock=lambda: at(9, 40))
    await svc.tick(at(8, 32))
    await answer(svc, call(database.sessions, ids["ca1"], started=at(8, 40)), 300, 250, when=at(8, 41))
    await answer(svc, call(database.sessions, ids["ca2"], started=at(9, 5)), 100, 200, when=at(9, 6))
    text = to_csv(sheet_report(await svc.counting_sheet(ids["ac"])))
    lines = text.splitlines()
    assert lines[0] == ("round,time,BJP,INC,round_total,BJP (cumulative),INC (cumulative),cumulative_total,leader,"
                        "margin,tables_reported,tables_missing,tables_partial")
    assert lines[1] == "1,08:30,300,250,550,300,250,550,BJP,50,1,2 3,"
    assert lines[2] == "2,09:00,100,200,300,400,450,850,INC,50,1,1 3,"
    assert lines[3] == "total,,400,450,850,400,450,850,INC,50,,,"
    with database.sessions() as s:
        assert sheet(s, ids["ac"], at(8))["round"] == 0


def test_a_counting_plan_for_a_unit_that_is_not_an_ac_is_refused(session_factory: sessionmaker[Session],
                                                                 ids: dict[str, int]) -> None:
    with session_factory.begin() as s, pytest.raises(PlanInvalid, match="not an assembly constituency"):
        counts.save_plan(s, plan(ids["booth1"]))
