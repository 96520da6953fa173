"""The dialer's scheduling, settling and reconcile, with a fake AMI (no Asterisk): fast, and on both
databases. The real-Asterisk integration tests cover the same paths end to end."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.campaigns import Attempt, AttemptState, Disposition, Target, TargetState
from db.engine import Database
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from dialer.controller import Dialer, DialerConfig
from dialer.lines import Trunk
from dialer.rules import CallingRules
from dialer.scheduler import Prepare
from events.asterisk import HangupCause, OriginateReason
from events.bus import EventBus
from events.types import AttemptChanged, CallHandled
from tests.fake_ami import FakeAmi
from tests.waiting import until

NOON_IST = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # 12:00 in Asia/Kolkata


@dataclass
class World:
    db: Database
    ami: FakeAmi
    dialer: Dialer
    bus: EventBus
    phones: dict[str, int]
    events: list[AttemptChanged]
    now: list[datetime]

    def campaign(self, name: str = "c", retry: list[str] | None = None) -> int:
        with self.db.sessions.begin() as s:
            c = create_campaign(s, name=name, mode="ivr", selection=Selection(),
                                retry=parse_retry(retry or ["busy=2/0s", "no_answer=1/0s", "failed=2/0s"]))
            change_state(s, name, "start")
            return c.id

    def attempts(self) -> list[Attempt]:
        with self.db.sessions() as s:
            return list(s.scalars(select(Attempt).order_by(Attempt.id)))

    def targets(self) -> list[Target]:
        with self.db.sessions() as s:
            return list(s.scalars(select(Target).order_by(Target.id)))

    def dialing(self) -> list[str]:
        """Channel ids of calls the fake Asterisk has up now."""
        return list(self.ami.live)


def _people(session: Session, phones: list[str]) -> dict[str, int]:
    ac = Unit(key="ac:1", kind=UnitKind.ac, name="AC", number=1)
    session.add(ac)
    session.flush()
    booth = Unit(key="booth:1:1", kind=UnitKind.booth, name="B", number=1, parent_id=ac.id, ac_id=ac.id)
    session.add(booth)
    session.flush()
    committee = Committee(unit_id=booth.id)
    session.add(committee)
    session.flush()
    ids = {}
    for i, phone in enumerate(phones):
        p = Person(name=f"p{i}", phone=phone)
        session.add(p)
        session.flush()
        session.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
        ids[phone] = p.id
    return ids


@asynccontextmanager
async def _world(database: Database, phones: list[str], lines: int, prepare: Prepare | None = None,
                 **config_: Any) -> AsyncIterator[World]:
    bus = EventBus()
    ami = FakeAmi(bus)
    now = [NOON_IST]
    ids = database.transaction(_people, phones)
    config = DialerConfig(trunks=[Trunk("lines", lines)], rules=CallingRules(min_gap=timedelta(0), max_per_day=20),
                          **{"settle_seconds": 0.1, "poll_interval": 0.05, "reconcile_grace": 0, "sweep_after": 60,
                             **config_})
    dialer = Dialer(ami, bus, database, config, clock=lambda: now[0], prepare=prepare)
    events: list[AttemptChanged] = []
    bus.subscribe(AttemptChanged, events.append)
    await dialer.start()
    try:
        yield World(database, ami, dialer, bus, ids, events, now)
    finally:
        await dialer.stop()


PHONES = [f"+91982600{i:04d}" for i in range(6)]


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    async with _world(database, PHONES, lines=2) as w:
        yield w


async def test_never_more_calls_than_lines_and_each_attempt_written_before_its_originate(world: World) -> None:
    world.campaign()
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    await until(lambda: len(world.attempts()) == 2, 5, "two attempts written")
    written = {a.channel_id: a for a in world.attempts()}
    for request in world.ami.originated:
        assert request.channel_id in written and written[request.channel_id].state is AttemptState.dialing
        assert request.action_id == written[request.channel_id].action_id
        assert request.channel == f"PJSIP/{written[request.channel_id].phone}@lines"
    assert len(world.ami.originated) == 2, "a third call would exceed the two lines"
    # each line freed is dialed again at once, until everyone was called
    while len(world.ami.originated) < len(PHONES) or world.dialing():
        for cid in world.dialing():
            world.ami.answer(cid)
            world.ami.hang_up(cid)
        await until(lambda: len(world.dialing()) == min(2, len(PHONES) - len(world.ami.originated))
                    or len(world.ami.originated) == len(PHONES), 5, "the next calls")
        assert len(world.dialing()) <= 2
    await until(lambda: all(a.state is AttemptState.ended for a in world.attempts()), 5, "all settled")
    assert sorted(a.phone for a in world.attempts()) == sorted(PHONES)
    assert {a.disposition for a in world.attempts()} == {Disposition.answered}
    assert all(t.state is TargetState.done for t in world.targets())


async def test_one_disposition_whatever_order_the_ending_arrives_in(world: World) -> None:
    world.campaign(retry=["busy=1/0s", "no_answer=1/0s"])
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    first, second = world.dialing()
    world.ami.ring(first)
    world.ami.answer(first)
    world.now[0] += timedelta(seconds=30)
    world.ami.hang_up(first, HangupCause.NORMAL_CLEARING)            # answer, then hangup
    world.ami.hang_up(second, HangupCause.USER_BUSY)                  # hangup first...
    world.ami.fail(second, HangupCause.USER_BUSY, OriginateReason.BUSY)  # ...then the Originate's verdict
    await until(lambda: sum(e.what == "ended" for e in world.events) >= 2, 5, "both settled")
    by_channel = {a.channel_id: a for a in world.attempts()}
    assert by_channel[first].disposition is Disposition.answered and by_channel[first].talk_seconds == 30
    assert by_channel[second].disposition is Disposition.busy
    assert sum(e.what == "ended" and e.attempt_id == by_channel[second].id for e in world.events) == 1


async def test_a_missing_originate_response_is_settled_by_the_timer(world: World) -> None:
    world.campaign(retry=["no_answer=1/0s"])
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    cid = world.dialing()[0]
    world.ami.hang_up(cid, HangupCause.NO_ANSWER)  # no OriginateResponse ever comes
    await until(lambda: any(a.channel_id == cid and a.state is AttemptState.ended for a in world.attempts()), 5,
                "the settle timer")
    assert next(a for a in world.attempts() if a.channel_id == cid).disposition is Disposition.no_answer


async def test_busy_is_retried_by_the_policy_and_one_phone_is_never_called_twice_at_once(
        database: Database) -> None:
    async with _world(database, ["+919826009999"], lines=3) as w:
        w.campaign(retry=["busy=2/0s"])
        await until(lambda: len(w.dialing()) == 1, 5, "the call")
        cid = w.dialing()[0]
        w.ami.fail(cid, HangupCause.USER_BUSY, OriginateReason.BUSY)
        await until(lambda: len(w.ami.originated) == 2, 5, "the retry")
        assert len(w.dialing()) == 1, "one call to the phone at a time, though three lines are free"
        retry = w.dialing()[0]
        assert retry != cid
        w.ami.fail(retry, HangupCause.USER_BUSY, OriginateReason.BUSY)
        await until(lambda: all(t.state is TargetState.done for t in w.targets()), 5, "out of tries")
        assert [a.disposition for a in w.attempts()] == [Disposition.busy, Disposition.busy]


async def test_reconcile_after_the_link_returns_settles_what_ended_and_keeps_what_lives(world: World) -> None:
    world.campaign()
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    ended, living = world.dialing()
    world.ami.ring(ended)
    world.ami.answer(living)
    world.ami.link(False)
    # while the link is down: one call is answered and ends 42 s later (only Asterisk's own record knows),
    # the other goes on
    now = time.time()
    world.bus.publish(CallHandled(ended, "dialer"))  # ARI stayed up: the script ran
    world.ami.hang_up(ended, answered_at=now - 42, ended_at=now)
    world.ami.link(True)
    await until(lambda: any(a.channel_id == ended and a.state is AttemptState.ended for a in world.attempts()), 5,
                "the missed ending settled")
    got = {a.channel_id: a for a in world.attempts()}
    assert got[ended].disposition is Disposition.answered and got[ended].talk_seconds == 42
    assert got[living].state is not AttemptState.ended and living in world.dialer.active
    originated = [r.channel_id for r in world.ami.originated]
    assert len(originated) == len(set(originated)) == 3, "the ended call's line dialed someone new, once"
    assert ended not in world.ami.hung_up and living not in world.ami.hung_up


async def test_a_call_that_vanished_without_a_record_fails_and_is_retried(world: World) -> None:
    world.campaign(retry=["failed=2/0s"])
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    lost = world.dialing()[0]
    world.ami.link(False)
    world.ami.live.pop(lost)  # Asterisk lost it too (no hangup handler record)
    world.ami.started = "2026-11-29 11:00:00"  # and Asterisk restarted
    world.ami.link(True)
    await until(lambda: any(a.channel_id == lost and a.state is AttemptState.ended for a in world.attempts()), 5,
                "the lost call settled")
    attempt = next(a for a in world.attempts() if a.channel_id == lost)
    assert attempt.disposition is Disposition.failed and attempt.answered_at is None
    target = next(t for t in world.targets() if t.id == attempt.target_id)
    assert target.state in (TargetState.queued, TargetState.dialing), "failed once: tried again"


async def test_an_open_attempt_nobody_tracks_is_swept(world: World) -> None:
    world.campaign()
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    orphan = world.dialing()[0]
    call = world.dialer.book.finish(orphan)  # as if the service lost it (its write went missing)
    assert call is not None
    world.ami.hang_up(orphan, HangupCause.USER_BUSY)
    world.now[0] += timedelta(minutes=5)
    await world.dialer.reconciler.sweep(60)
    await until(lambda: next(a for a in world.attempts() if a.channel_id == orphan).state is AttemptState.ended,
                5, "the sweep")
    assert next(a for a in world.attempts() if a.channel_id == orphan).disposition is Disposition.busy


async def test_a_settlement_the_database_refused_is_written_later(world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    world.campaign()
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    cid = world.dialing()[0]
    real_run = world.db.run
    refusals: list[int] = []

    async def flaky(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(fn, "__name__", "") == "finish_attempts" and not refusals:
            refusals.append(1)
            raise RuntimeError("database away")
        return await real_run(fn, *args, **kwargs)

    monkeypatch.setattr(world.db, "run", flaky)
    world.dialer.settler.timings = type(world.dialer.settler.timings)(settle_seconds=0.1, retry_write=0.2)
    world.ami.answer(cid)
    world.ami.hang_up(cid)
    await until(lambda: next(a for a in world.attempts() if a.channel_id == cid).state is AttemptState.ended, 5,
                "the settlement written after the refusal")
    assert refusals == [1]


async def test_a_channel_with_our_prefix_that_no_attempt_owns_is_hung_up(world: World) -> None:
    from events.asterisk import ChannelCreated

    world.bus.publish(ChannelCreated("wr-stray", channel="PJSIP/lines-0000ffff"))
    await until(lambda: world.ami.hung_up == ["wr-stray"], 5, "the stray hung up")


async def test_an_answered_call_that_never_reached_its_script_is_failed_and_retried(world: World) -> None:
    world.campaign(retry=["failed=2/0s"])
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    unheard = world.dialing()[0]
    world.ami.answer(unheard, handled=False)  # answered while the Stasis app could not see it...
    world.ami.hang_up(unheard)                # ...and gone before it could be adopted
    await until(lambda: any(a.channel_id == unheard and a.state is AttemptState.ended for a in world.attempts()),
                5, "settled")
    attempt = next(a for a in world.attempts() if a.channel_id == unheard)
    assert attempt.disposition is Disposition.failed and "script never started" in (attempt.detail or "")
    target = next(t for t in world.targets() if t.id == attempt.target_id)
    assert target.state is TargetState.queued and target.tries_by == {"failed": 1}, "to be called again"


async def test_ringing_and_answered_reach_the_database_while_the_call_goes_on(world: World) -> None:
    world.campaign()
    await until(lambda: len(world.dialing()) == 2, 5, "two calls up")
    ringing, answered = world.dialing()
    world.ami.ring(ringing)
    world.ami.answer(answered)

    def states() -> dict[str, tuple[AttemptState, bool]]:
        return {a.channel_id: (a.state, a.answered_at is not None) for a in world.attempts()}

    await until(lambda: states().get(ringing) == (AttemptState.ringing, False)
                and states().get(answered) == (AttemptState.answered, True), 5, "the states written")
