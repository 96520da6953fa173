"""Two nodes starting the same round (poll day's and counting day's): the round is claimed in the same
transaction as its campaign (insert or ignore on the plan/number unique constraint), so it starts once,
and the node that loses starts nothing, logs no error and fails no tick; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.campaigns import Campaign
from db.engine import Database
from db.pollday import CountRound, PollRound
from events.bus import EventBus
from pollday import store
from pollday.rounds import round_now
from pollday.service import PollDayService
from tests.unit.test_pollday_store import at, make_ac, plan


@pytest.fixture
def ac(session_factory: sessionmaker[Session]) -> int:
    ids = make_ac(session_factory)
    with session_factory.begin() as s:
        store.save_plan(s, plan(ids["ac"]))
    return ids["ac"]


def _rounds(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(PollRound)) or 0,
                s.scalar(select(func.count()).select_from(Campaign)) or 0)


async def test_a_node_that_read_before_the_other_started_the_round_starts_nothing_quietly(
        database: Database, ac: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    first, second = PollDayService(database, EventBus()), PollDayService(database, EventBus())
    assert await first.tick(at(9, 3)) == [(ac, 1)]
    # the second node read the started rounds before the first committed: it still thinks none started
    monkeypatch.setattr(store, "started_rounds", lambda _s, _plan_id: {})
    caplog.set_level(logging.INFO, logger="pollday")
    assert await second.tick(at(9, 3)) == []
    assert _rounds(database.sessions) == (1, 1)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # a round let go (superseded) is claimed the same way: round 3 starts once, round 2 is noted once
    assert await first.tick(at(13, 30)) == [(ac, 3)]
    assert await second.tick(at(13, 30)) == []
    with database.sessions() as s:
        assert sorted((r.number, r.state) for r in s.scalars(select(PollRound))) == [
            (1, "running"), (2, "superseded"), (3, "running")]


def test_two_nodes_starting_a_round_at_once_start_it_once(session_factory: sessionmaker[Session], ac: int) -> None:
    """Node A has claimed the round and not committed yet; node B, starting it meanwhile in its own
    transaction, waits for A (PostgreSQL: the unique index; SQLite: the write lock), then finds it taken."""
    with session_factory() as s:
        row = store.plan_for_ac(s, ac)
        rnd = round_now(store.plan_of(row), at(9, 3)).round
        assert rnd is not None
    claimed = threading.Event()
    release = threading.Event()
    results: dict[str, object] = {}

    def node_a() -> None:
        with session_factory.begin() as s:
            results["a"] = store.start_round(s, store.plan_for_ac(s, ac), rnd, late=False, superseded=(),
                                             now=at(9, 3)) is not None
            claimed.set()
            release.wait(10)

    def node_b() -> None:
        claimed.wait(10)
        try:
            with session_factory.begin() as s:
                results["b"] = store.start_round(s, store.plan_for_ac(s, ac), rnd, late=False, superseded=(),
                                                 now=at(9, 3)) is not None
        except Exception as exc:  # what the fix removes: a unique violation, or "campaign already exists"
            results["b"] = exc

    a, b = threading.Thread(target=node_a), threading.Thread(target=node_b)
    a.start()
    b.start()
    claimed.wait(10)
    b.join(0.5)  # B is waiting for A's transaction
    release.set()
    a.join(20)
    b.join(20)
    assert results == {"a": True, "b": False}
    assert _rounds(session_factory) == (1, 1)


async def test_a_counting_round_started_by_two_nodes_starts_once(database: Database, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from pollday import counting_store as counts
    from tests.unit.test_counting_store import at as counting_at
    from tests.unit.test_counting_store import make_ac as counting_ac
    from tests.unit.test_counting_store import plan as counting_plan
    ids = counting_ac(database.sessions)
    with database.sessions.begin() as s:
        counts.save_plan(s, counting_plan(ids["ac"]))
    first, second = PollDayService(database, EventBus()), PollDayService(database, EventBus())
    assert await first.tick(counting_at(8, 32)) == [(ids["ac"], 1)]
    monkeypatch.setattr(counts, "started_rounds", lambda _s, _plan_id: {})
    caplog.set_level(logging.INFO, logger="pollday")
    assert await second.tick(counting_at(8, 32)) == []
    with database.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CountRound)) == 1
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
