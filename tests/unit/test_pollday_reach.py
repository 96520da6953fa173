"""The reach preview of a plan's round (who it would call, who the calling rules would hold back) judges the
plan's own agents as the dialer does: inside the 48-hour silence a poll-day round's booth agents are not
held (the preview said every one of them was), a counting round's agents not by the calling window; every
other rule still holds, and an ordinary campaign's preview stays held. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from db.engine import Database
from db.models import Person
from dialer.campaigns import Selection
from dialer.reach import PlanRound, reach
from dialer.rules import CallingRules
from events.bus import EventBus
from pollday import counting_store as counts
from pollday import store
from pollday.service import PollDayService
from tests.unit import test_counting_store as counting
from tests.unit.test_pollday_store import at, make_ac, plan


def _turnout(sessions: sessionmaker[Session]) -> dict[str, int]:
    ids = make_ac(sessions)
    with sessions.begin() as s:
        store.save_plan(s, plan(ids["ac"]))
    return ids


async def test_a_poll_day_rounds_agents_are_not_held_by_the_silence(database: Database) -> None:
    ids = _turnout(database.sessions)
    svc = PollDayService(database, EventBus(), clock=lambda: at(9, 3))
    got = await svc.reach(ids["ac"])
    assert (got["round"], got["label"], got["people"], got["held_back"]) == (1, "09:00", 6, 0), got
    # the same people in an ordinary campaign (or a clone of the round, which is not the plan's) are held
    with database.sessions() as s:
        plain = reach(s, Selection(units=(ids["ac"],), levels=("booth",), posts=("BLA-2", "president")),
                      CallingRules(), at(9, 3))
    assert plain["held_back"] == 6 and plain["reasons"][0]["rule"] == "silence"
    # every other rule still holds for the plan's agents: one opted out
    with database.sessions.begin() as s:
        s.execute(update(Person).where(Person.id == ids["BLA-21"]).values(dnd=True))
    got = await svc.reach(ids["ac"])
    assert got["held_back"] == 1 and [r["rule"] for r in got["reasons"]] == ["dnd"]


async def test_the_preview_is_of_the_next_round_and_none_after_the_last(database: Database) -> None:
    ids = _turnout(database.sessions)
    early = await PollDayService(database, EventBus(), clock=lambda: at(7, 0)).reach(ids["ac"])
    assert early["round"] == 1 and early["calls_from"] == at(9, 2).isoformat() and early["held_back"] == 0
    assert (await PollDayService(database, EventBus(), clock=lambda: at(22, 30)).reach(ids["ac"])) == {"round": None}


async def test_a_counting_rounds_agents_are_not_held_by_the_calling_window(database: Database) -> None:
    ids = counting.make_ac(database.sessions)
    with database.sessions.begin() as s:
        counts.save_plan(s, counting.plan(ids["ac"]))
    svc = PollDayService(database, EventBus(), clock=lambda: counting.at(8, 20))
    got = await svc.reach(ids["ac"], counting=True)
    assert (got["round"], got["people"], got["held_back"]) == (1, 4, 0), got
    assert got["calls_from"] == counting.at(8, 32).isoformat()
    with database.sessions() as s:  # 08:32 is before the window (09:00) for anyone else
        posts = ("Counting agent 1", "Counting Agent 2", "counting-agent-03", "Counting alternate 1")
        plain = reach(s, Selection(units=(ids["ac"],), posts=posts), CallingRules(), counting.at(8, 32))
    assert plain["calls_from"] == counting.at(9).isoformat()
    with database.sessions() as s:
        own = reach(s, Selection(units=(ids["ac"],), posts=posts), CallingRules(), counting.at(21, 50),
                    plan=PlanRound(posts, booths_only=False))
    assert own["held_back"] == 0 and own["calls_from"] is None  # 21:50: after the window, before the ban
