"""Targets claimed ahead (``dialer.hopper``): a freed line is dialed from them at once, without waiting
for the database; what is not dialed is given back as if never claimed (no attempt, the try not used)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.campaigns import Attempt, AttemptState, Disposition, Target, TargetState
from db.engine import Database, Priority, Turns, make_engine, turns_of
from dialer import claims
from dialer.campaigns import change_state
from dialer.hopper import Hopper, Ready, ahead
from dialer.rules import CallingRules, Facts
from dialer.store import Launch
from events.types import CampaignChanged
from tests.unit.test_dialer_unit import World, _world
from tests.waiting import until

PHONES = [f"+91982601{i:04d}" for i in range(8)]


def _ready(campaign: int, n: int, claimed: float, trunk: str = "lines") -> Ready:
    launch = Launch(n, n, campaign, n, f"+9198260{n:05d}", f"wr-{n}", f"wr-a-{n}")
    return Ready(launch, trunk, CallingRules(), Facts(), claimed)


@given(st.integers(0, 500), st.floats(0, 1), st.one_of(st.none(), st.floats(0, 1000)))
def test_ahead_is_a_seconds_calls_within_the_share_of_lines(lines: int, share: float, rate: float | None) -> None:
    n = ahead(lines, share, rate)
    if share == 0 or lines == 0:
        assert n == 0
        return
    assert 1 <= n <= max(1, -(-lines * share // 1))  # at least one, never over the share (rounded up)
    if rate is not None:
        assert n <= max(1, math.ceil(rate * 2)), f"{n} ready for {rate}/s: more than two seconds' calls"


def test_the_hopper_gives_the_oldest_first_and_returns_the_old_and_the_stopped() -> None:
    now = [100.0]
    hopper = Hopper(max_age=10, clock=lambda: now[0])
    for n, at in ((1, 90.0), (2, 95.0), (3, 99.0)):
        hopper.add(_ready(7, n, at))
    hopper.add(_ready(8, 4, 99.0))
    assert len(hopper) == 4 and hopper.count(7, "lines") == 3
    now[0] = 100.5  # the first is now 10.5 s old
    assert [r.launch.attempt_id for r in hopper.stale([7, 8])] == [1]
    taken = hopper.take(7, "lines")
    assert taken is not None and taken.launch.attempt_id == 2
    assert [r.launch.attempt_id for r in hopper.stale([7])] == [4]  # campaign 8 no longer runs
    assert hopper.take(8, "lines") is None and hopper.trunks_of(7) == ["lines"]
    assert [r.launch.attempt_id for r in hopper.drain()] == [3] and len(hopper) == 0


def test_transactions_waiting_go_by_priority() -> None:
    turns, order, hold = Turns(), [], threading.Event()

    def holder() -> None:
        with turns.turn():
            with turns.turn():  # re-entrant
                hold.wait(5)

    def waiter(name: str, priority: Priority) -> None:
        with turns.turn(priority):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    time.sleep(0.05)
    threads = [threading.Thread(target=waiter, args=(f"settle{i}", Priority.OTHER)) for i in range(3)]
    threads += [threading.Thread(target=waiter, args=("answer", Priority.CALLER))]
    threads += [threading.Thread(target=waiter, args=("claim", Priority.CLAIM))]
    for t in threads:  # in this order: the claim comes last
        t.start()
        time.sleep(0.05)
    hold.set()
    for t in (first, *threads):
        t.join(5)
    assert order[:2] == ["claim", "answer"] and sorted(order[2:]) == ["settle0", "settle1", "settle2"]


def originated(w: World) -> set[str]:
    return {r.channel_id for r in w.ami.originated}


async def _claimed_ahead(w: World, ready: int) -> None:
    await until(lambda: len(w.dialing()) == 2 and len(w.dialer.scheduler.hopper) == ready, 5,
                f"two calls up and {ready} targets claimed ahead")


async def test_a_freed_line_is_dialed_from_the_targets_claimed_ahead_without_the_database(
        database: Database) -> None:
    async with _world(database, PHONES, lines=2, ready_ahead=1.0) as w:
        cid = w.campaign()
        await _claimed_ahead(w, 2)  # no rate known yet: the whole share (both lines' worth)
        attempts = w.attempts()
        assert len(attempts) == 4 and all(a.state is AttemptState.dialing for a in attempts)
        ready = [a.channel_id for a in attempts if a.channel_id not in originated(w)]
        assert len(ready) == 2 and all(t.tries == 1 for t in w.targets() if t.state is TargetState.dialing)

        stuck = asyncio.Event()  # the database stops answering the dialer's passes
        urgent = w.db.run_urgent

        async def never(*_args: object, **_kwargs: object) -> object:
            await stuck.wait()
            return await urgent(*_args, **_kwargs)  # type: ignore[arg-type]

        w.db.run_urgent = never  # type: ignore[method-assign, assignment]
        first = w.dialing()[0]
        w.ami.answer(first)
        w.ami.hang_up(first)
        await until(lambda: len(w.dialing()) == 2, 2, "the freed line dialed again")
        assert ready[0] in w.dialing(), "the oldest target claimed ahead took the line"
        stuck.set()
        w.db.run_urgent = urgent  # type: ignore[method-assign]

        with w.db.sessions.begin() as s:  # paused: what was claimed ahead is given back, not dialed
            change_state(s, "c", "pause")
        w.bus.publish(CampaignChanged(cid, "paused"))
        await until(lambda: not len(w.dialer.scheduler.hopper)
                    and sum(a.state is AttemptState.dialing for a in w.attempts()) <= 2, 5, "the rest given back")
        await asyncio.sleep(0.2)
        assert {a.channel_id for a in w.attempts()} == originated(w), "an attempt only for each call dialed"
        assert all(a.disposition is not Disposition.cancelled for a in w.attempts()), "nothing left a trace"
        queued = [t for t in w.targets() if t.state is TargetState.queued]
        assert len(queued) == len(PHONES) - 3 and all(t.tries == 0 for t in queued), \
            "a target given back has not used up a try"


async def test_a_target_claimed_ahead_is_not_dialed_once_the_calling_window_has_closed(
        database: Database) -> None:
    async with _world(database, PHONES, lines=2, ready_ahead=1.0) as w:
        w.campaign()
        await _claimed_ahead(w, 2)
        w.now[0] += timedelta(hours=9, minutes=1)  # 21:01 in Asia/Kolkata: the window closed
        for cid in w.dialing():
            w.ami.answer(cid)
            w.ami.hang_up(cid)
        await until(lambda: not w.dialing() and all(a.state is AttemptState.ended for a in w.attempts()), 5,
                    "both calls settled and nothing dialed")
        await until(lambda: len(w.attempts()) == 2, 5, "the targets claimed ahead given back")
        assert len(w.ami.originated) == 2
        assert all(t.tries == 0 for t in w.targets() if t.state is TargetState.queued)
        ended = [a.id for a in w.attempts()]  # given back only while still dialing: a call's attempt stays
        assert database.transaction(claims.give_back, ended) == 0 and len(w.attempts()) == 2


async def test_stopping_gives_back_what_was_claimed_ahead(database: Database) -> None:
    async with _world(database, PHONES, lines=2, ready_ahead=1.0) as w:
        w.campaign()
        await _claimed_ahead(w, 2)
    with database.sessions() as s:
        open_ = s.scalars(select(Attempt).where(Attempt.state != AttemptState.ended)).all()
        assert len(open_) == 2, "only the two calls Asterisk has are left for the next start's reconcile"
        assert s.scalar(select(Target).where(Target.state == TargetState.queued).limit(1)) is not None



def test_two_databases_on_one_engine_take_the_same_turns(tmp_path: Path) -> None:
    """Tests and the web app build several :class:`Database` on one engine: each transaction gives back
    exactly the turn it took, whichever built it, so none waits for ever."""
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    first, second = Database(engine), Database(engine)
    assert turns_of(engine) is turns_of(engine)

    def insert(session: Session, n: int) -> None:
        session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})

    def writes(db: Database, start: int) -> None:
        for n in range(start, start + 25):
            db.transaction(insert, n)

    threads = [threading.Thread(target=writes, args=(db, i * 100), daemon=True)
               for i, db in enumerate((first, second, first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads), "a transaction waits for a turn nobody will give back"
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM t")) == 100
    first.close()
    second.close()
