"""Poll day over a real database: a plan's rounds run as dialer campaigns of the chosen posts (the first
post at once, the next later), answers become booth reports with their checks and alerts, a hotline
report cancels the round's call, booths silent two rounds raise alerts, the board and the export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.log import Actor
from db.campaigns import Campaign, CampaignState, Target, TargetState
from db.engine import Database
from db.ivr import IvrCall
from db.models import BoothResult, BoothStatus, Committee, Election, Membership, Person, Unit, UnitKind
from db.pollday import PollAlert, PollReport, PollRound
from dialer.rules import CallingRules, check
from dialer.store import AcIndex, due_targets
from events.bus import EventBus
from events.types import IvrAnswered, PollDayChanged
from pollday import store
from pollday.board import board, export_round, round_report
from pollday.plan import PollDayPlan
from pollday.service import PollDayService
from reports.export import to_csv

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2026, 11, 20)


def at(h: int, m: int = 0) -> datetime:
    return datetime(2026, 11, 20, h, m, tzinfo=IST)


def make_ac(sessions: sessionmaker[Session]) -> dict[str, int]:
    """AC 7 with three booths (weak, swing, strong; 1,000 voters each), each with a BLA-2, a president and a
    treasurer; the weak booth polled 60% last time."""
    with sessions.begin() as s:
        ac = Unit(key="ac:7", kind=UnitKind.ac, name="AC 7", number=7, poll_end_at=at(18).astimezone(UTC))
        s.add(ac)
        s.flush()
        election = Election(year=2021, kind="assembly")
        s.add(election)
        ids = {"ac": ac.id}
        for i, status in enumerate((BoothStatus.weak, BoothStatus.swing, BoothStatus.strong), start=1):
            booth = Unit(key=f"booth:7:{i}", kind=UnitKind.booth, name=f"Booth {i}", number=i, parent_id=ac.id,
                         ac_id=ac.id, voter_count=1000, status_override=status)
            s.add(booth)
            s.flush()
            ids[f"booth{i}"] = booth.id
            committee = Committee(unit_id=booth.id)
            s.add(committee)
            s.flush()
            for k, post in enumerate(("BLA-2", "president", "treasurer")):
                p = Person(name=f"{post} {i}", phone=f"+9198000{i}{k:04d}")
                s.add(p)
                s.flush()
                s.add(Membership(person_id=p.id, committee_id=committee.id, post=post))
                ids[f"{post}{i}"] = p.id
        s.flush()
        s.add(BoothResult(booth_id=ids["booth1"], election_id=election.id, electors=1000, votes_polled=600,
                          party_votes={"PARTY": 300}))
    return ids


def plan(ac_id: int) -> PollDayPlan:
    return PollDayPlan(ac_id=ac_id, poll_date=DAY, report_times=(time(9), time(11), time(13)))


def call(sessions: sessionmaker[Session], booth: int, person: int, *, campaign: int | None = None,
         started: datetime | None = None, pin: bool = True) -> int:
    """A call of the round's campaign, or (no campaign) a hotline call whose caller gave their PIN (``pin``)."""
    with sessions.begin() as s:
        row = IvrCall(channel_id=f"c-{booth}-{person}-{campaign}-{started}-{pin}", script="turnout", language="en",
                      direction="outbound" if campaign else "inbound", campaign_id=campaign, booth_id=booth,
                      person_id=person, started_at=(started or at(9, 5)).astimezone(UTC),
                      caller_verified=None if campaign else pin)
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture
def ids(session_factory: sessionmaker[Session]) -> dict[str, int]:
    ids = make_ac(session_factory)
    with session_factory.begin() as s:
        store.save_plan(s, plan(ids["ac"]))
    return ids


async def test_tick_starts_rounds_as_campaigns_of_the_chosen_posts(database: Database, ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus())
    assert await svc.tick(at(8, 30)) == []
    assert await svc.tick(at(9, 3)) == [(ids["ac"], 1)]
    assert await svc.tick(at(9, 4)) == []  # once
    with database.sessions() as s:
        [rnd] = s.scalars(select(PollRound)).all()
        campaign = s.get(Campaign, rnd.campaign_id)
        assert campaign is not None and campaign.state is CampaignState.running and campaign.priority == 9
        targets = s.scalars(select(Target).where(Target.campaign_id == campaign.id)).all()
        people = {t.person_id: t for t in targets}
        assert set(people) == {ids[f"{p}{i}"] for p in ("BLA-2", "president") for i in (1, 2, 3)}
        assert all(people[ids[f"BLA-2{i}"]].next_at is None for i in (1, 2, 3))
        later = people[ids["president1"]].next_at
        assert later is not None and later.astimezone(UTC) == at(9, 18).astimezone(UTC)
        # inside the silence period the round's own agents may be called, with the plan's script
        due = due_targets(s, campaign, at(9, 5), 50, CallingRules(), _acs(s), set())
        verdicts = {d.person_id: check(d.facts, at(9, 5), CallingRules()) for d in due}
        assert all(v.allowed for v in verdicts.values()) and len(verdicts) == 3
    # at 13:30 round 2 was never run: it is let go, round 3 runs
    assert await svc.tick(at(13, 30)) == [(ids["ac"], 3)]
    with database.sessions() as s:
        states = {r.number: r.state for r in s.scalars(select(PollRound))}
        assert states == {1: "running", 2: "superseded", 3: "running"}


def _acs(s: Session) -> AcIndex:
    acs = AcIndex()
    acs.load(s)
    return acs


def test_an_ordinary_campaign_stays_blocked_in_the_silence(session_factory: sessionmaker[Session],
                                                           ids: dict[str, int]) -> None:
    from dialer.campaigns import Selection, create_campaign
    with session_factory.begin() as s:
        c = create_campaign(s, name="outreach", mode="ivr", selection=Selection(units=(ids["ac"],)))
        due = due_targets(s, c, at(9, 5), 50, CallingRules(), _acs(s), set())
        assert due and all(check(d.facts, at(9, 5), CallingRules()).rule == "silence" for d in due)
        # a round whose campaign plays a script not in the plan stays blocked too
        c.rules = {"poll_plan": 1, "poll_scripts": ["turnout"]}
        c.scripts = {"strong": "general"}
        c.selection = {**c.selection, "posts": ["BLA-2"]}
        due = due_targets(s, c, at(9, 5), 50, CallingRules(), _acs(s), set())
        assert all(check(d.facts, at(9, 5), CallingRules()).rule == "silence" for d in due)


async def test_answers_make_the_report_and_cancel_the_rounds_other_calls(database: Database,
                                                                       ids: dict[str, int]) -> None:
    bus = EventBus()
    seen: list[PollDayChanged] = []
    bus.subscribe(PollDayChanged, seen.append)
    svc = PollDayService(database, bus, clock=lambda: at(9, 30))
    await svc.tick(at(9, 3))
    with database.sessions() as s:
        campaign_id = s.scalar(select(PollRound.campaign_id))
    cid = call(database.sessions, ids["booth1"], ids["BLA-21"], campaign=campaign_id)
    assert await svc.record(IvrAnswered(cid, "votes", "412", 412, True, at(9, 6))) is not None
    await svc.record(IvrAnswered(cid, "ours", "150", 150, True, at(9, 6)))
    assert seen and seen[-1].ac_id == ids["ac"] and seen[-1].booth_id == ids["booth1"]
    with database.sessions() as s:
        report = s.scalar(select(PollReport))
        assert report is not None and (report.round, report.votes, report.ours, report.source) == (1, 412, 150, "call")
        president = s.scalar(select(Target).where(Target.person_id == ids["president1"]))
        assert president is not None and president.state is TargetState.done
        assert "reported" in (president.blocked_by or "")
        other = s.scalar(select(Target).where(Target.person_id == ids["president2"]))
        assert other is not None and other.state is TargetState.queued
    b = await svc.board(ids["ac"])
    weak = b["groups"]["weak"][0]
    assert (weak["votes"], weak["turnout"], weak["last_turnout"], weak["ours_share"]) == (412, 41.2, 60.0, 36.4)
    assert weak["reported_this_round"] and b["reported"] == 1 and b["not_reported"] == 2
    assert b["groups"]["swing"][0]["silent_since"] == "start"
    # a key that is not a poll-day report, or a call of another campaign, changes nothing
    assert await svc.record(IvrAnswered(cid, "ready", "1", None, True, at(9, 6))) is None
    stray = call(database.sessions, ids["booth2"], ids["BLA-22"], campaign=None, started=at(8, 0))
    assert await svc.record(IvrAnswered(stray, "votes", "9", 9, True, at(8, 1))) is None


async def test_a_hotline_report_first_keeps_the_booth_out_of_the_round(database: Database,
                                                                     ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus())
    hotline = call(database.sessions, ids["booth2"], ids["BLA-22"], started=at(9, 0, ))
    found = await svc.record(IvrAnswered(hotline, "votes", "300", 300, True, at(9, 1)))
    assert found is not None and found.round == 1
    await svc.tick(at(9, 3))
    with database.sessions() as s:
        for person in ("BLA-22", "president2"):
            t = s.scalar(select(Target).where(Target.person_id == ids[person]))
            assert t is not None and t.state is TargetState.done, person
        assert s.scalar(select(PollReport.source)) == "hotline"


async def test_a_hotline_report_needs_the_pin_and_one_of_the_plans_agents(database: Database,
                                                                          ids: dict[str, int]) -> None:
    """Key 3 is guarded by the PIN in the hotline script; the database side also refuses what comes without
    it (a script that skipped the gate), and what a member not in the plan's posts reports for the booth."""
    svc = PollDayService(database, EventBus())
    spoofed = call(database.sessions, ids["booth2"], ids["BLA-22"], started=at(9, 0), pin=False)
    assert await svc.record(IvrAnswered(spoofed, "votes", "300", 300, True, at(9, 1))) is None
    treasurer = call(database.sessions, ids["booth2"], ids["treasurer2"], started=at(9, 0))
    assert await svc.record(IvrAnswered(treasurer, "votes", "300", 300, True, at(9, 1))) is None
    with database.sessions() as s:
        assert s.scalars(select(PollReport)).all() == []
    agent = call(database.sessions, ids["booth2"], ids["president2"], started=at(9, 0))
    assert await svc.record(IvrAnswered(agent, "votes", "300", 300, True, at(9, 1))) is not None


async def test_checks_raise_alerts_and_two_silent_rounds_raise_one(database: Database, ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus())
    await svc.tick(at(9, 3))
    first = call(database.sessions, ids["booth1"], ids["BLA-21"], started=at(9, 10))
    await svc.record(IvrAnswered(first, "votes", "400", 400, True, at(9, 10)))
    second = call(database.sessions, ids["booth1"], ids["BLA-21"], started=at(11, 10))
    await svc.record(IvrAnswered(second, "votes", "1200", 1200, True, at(11, 10)))
    with database.sessions() as s:
        kinds = {a.kind for a in s.scalars(select(PollAlert))}
        assert kinds == {"above_voters"}
    third = call(database.sessions, ids["booth1"], ids["BLA-21"], started=at(13, 10))
    await svc.record(IvrAnswered(third, "votes", "350", 350, True, at(13, 10)))
    with database.sessions() as s:
        assert {a.kind for a in s.scalars(select(PollAlert))} == {"above_voters", "falling"}
    await svc.tick(at(13, 5))   # rounds 1 and 2 are over: booths 2 and 3 said nothing in either
    await svc.tick(at(13, 6))   # once only
    with database.sessions() as s:
        silent = s.scalars(select(PollAlert).where(PollAlert.kind == "silent")).all()
        assert sorted(a.booth_id for a in silent) == [ids["booth2"], ids["booth3"]]
        assert "rounds 1 and 2" in silent[0].message and silent[0].state == "open"
        alert_id = silent[0].id
    b = await svc.board(ids["ac"])
    assert b["open_alerts"] == 4
    await svc.close_alert(alert_id, Actor("op"))
    assert (await svc.board(ids["ac"]))["open_alerts"] == 3


async def test_export_of_a_round(database: Database, ids: dict[str, int]) -> None:
    svc = PollDayService(database, EventBus())
    cid = call(database.sessions, ids["booth3"], ids["BLA-23"], started=at(9, 10))
    await svc.record(IvrAnswered(cid, "votes", "=412", 412, True, at(9, 10)))
    rows = await svc.export(ids["ac"], 1)
    assert [r["votes"] for r in rows] == [None, None, 412]
    text = to_csv(round_report(rows, ids["ac"], 1))
    assert text.splitlines()[0].startswith("booth_number,booth_name,status") and ",41.2," in text
    with database.sessions() as s:
        assert export_round(s, ids["ac"], 2)[2]["votes"] is None
        assert board(s, ids["ac"], at(10))["round"] == 1


def test_a_plan_for_a_unit_that_is_not_an_ac_is_refused(session_factory: sessionmaker[Session],
                                                        ids: dict[str, int]) -> None:
    with session_factory.begin() as s, pytest.raises(Exception, match="not an assembly constituency"):
        store.save_plan(s, PollDayPlan(ac_id=ids["booth1"], poll_date=DAY))
    _ = timedelta
