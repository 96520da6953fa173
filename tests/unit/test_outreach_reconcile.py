"""Broadcast calls in flight when the service restarted: their attempts are settled from Asterisk's record of
how each call ended (the hangup handler's AstDB entry), with what the call left behind (a voice message, an
opt-out); a call Asterisk still has keeps its line until it ends; one with no record fails only once no call
of it can still be going. Nothing is dialled before this reconcile, which runs inside the dialer's (before
Asterisk's records are forgotten). A call that entered the Stasis app unseen is hung up and left to it.
With fakes: the dialer's fake AMI, a fake ARI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ari_handlers.broadcast_call import BroadcastCall, BroadcastDeps
from db.engine import Database
from dialer.controller import Dialer, DialerConfig
from dialer.lines import Trunk
from dialer.rules import CallingRules
from events.asterisk import ChannelState, LiveChannel, StasisEnded, StasisStarted
from events.bus import EventBus
from outreach import broadcast
from outreach.dialing import Broadcaster
from outreach.service import OutreachConfig, OutreachService
from tests.fake_ami import FakeAmi
from tests.unit.test_outreach_broadcast import (
    NOON_IST,
    FakeAri,
    FakeMessages,
    FakePrompts,
    FakeQueue,
    _attempts,
    _campaign,
)
from tests.waiting import until

T = 1_793_000_000.0  # when the earlier run's calls were answered (epoch seconds, as AstDB keeps them)


@pytest.fixture
def outreach(database: Database, tmp_path: Path) -> OutreachService:
    return OutreachService(database, OutreachConfig(tmp_path / "dnd.bin", CallingRules(min_gap=timedelta(0))),
                           clock=lambda: NOON_IST)


async def _earlier_run(outreach: OutreachService, database: Database, tmp_path: Path, n: int) -> list[broadcast.Dial]:
    """``n`` broadcast calls placed by a run that then stopped: their attempts written, no outcome."""
    await _campaign(outreach, tmp_path, n)
    await outreach.set_recording("b", "leader")
    return await database.run(broadcast.plan_calls, "b", NOON_IST, outreach.config.rules, outreach.on_dnd, n, set())


async def test_calls_in_flight_at_a_restart_are_settled_from_asterisks_records(
        outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    calls = await _earlier_run(outreach, database, tmp_path, 8)
    ids = [c.attempt_id for c in calls]

    def channel(i: int) -> str:
        return f"wrbc-{ids[i]}"

    ami = FakeAmi(EventBus())
    ami.astdb.update({f"warroom/{channel(0)}": f"{T}|{T + 40}|16",     # answered, 40 s
                      f"warroom/{channel(1)}": f"{T}|{T + 1.2}|16",    # answered, gone in 1.2 s: the guard
                      f"warroom/{channel(2)}": f"0|{T}|17",            # never answered: busy
                      f"warroom/{channel(3)}": f"{T}|{T + 25}|16",     # left a voice message
                      f"warroom/{channel(4)}": f"{T}|{T + 9}|16"})     # pressed 9
    info = await database.run(broadcast.call_info, ids[3])
    assert info is not None
    await database.run(broadcast.save_reply, info, "outreach/4-abc", NOON_IST + timedelta(seconds=20), 4.0)
    await outreach.opt_out(calls[4].phone, "keypad")
    ami.live[channel(5)] = LiveChannel(channel(5), "PJSIP/lines-00000005", ChannelState.UP)  # still going
    # 6: neither live nor recorded here (another node's call, or lost); 7: its handler settled it already
    await database.run(broadcast.settle, ids[7], "listened", 31.0)

    now = [NOON_IST + timedelta(minutes=2)]
    broadcaster = Broadcaster(ami, database, outreach, lines=4, clock=lambda: now[0],
                              ring_timeout=30, max_call_seconds=600, reconciled=False)
    assert await broadcaster.tick() == 0 and ami.originated == [], "nothing is dialled before the reconcile"
    await broadcaster.reconcile(dict(ami.live), False)
    got = {a.id: (a.outcome, a.listened_s) for a in _attempts(database)}
    assert [got[i] for i in ids] == [("answered", 40.0), ("guarded", 1.2), ("busy", None), ("replied", 25.0),
                                     ("opted_out", 9.0), (None, None), (None, None), ("listened", 31.0)]
    assert broadcaster.ready and broadcaster.calls == {ids[5]: calls[5].phone}, "the live call keeps its line"
    assert set(broadcaster.unknown) == {ids[5], ids[6]}
    [found] = (await outreach.overview())["campaigns"]
    assert found["counts"]["listens"] == 1, "an answered call whose listening was not seen is no listen"

    ami.hang_up(channel(5), answered_at=T, ended_at=T + 33)  # the live call ends: the sweep settles it
    await broadcaster.sweep()
    assert {a.id: a.outcome for a in _attempts(database)}[ids[5]] == "answered"
    assert broadcaster.calls == {} and set(broadcaster.unknown) == {ids[6]}

    now[0] += broadcaster.lost_after - timedelta(minutes=3)
    await broadcaster.sweep()
    assert set(broadcaster.unknown) == {ids[6]}, "it could still be going somewhere: not yet"
    now[0] += timedelta(minutes=2)
    await broadcaster.sweep()
    assert {a.id: a.outcome for a in _attempts(database)}[ids[6]] == "failed" and broadcaster.unknown == {}


async def test_after_asterisk_restarted_unrecorded_calls_fail_at_once(
        outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    calls = await _earlier_run(outreach, database, tmp_path, 2)
    ami = FakeAmi(EventBus())
    broadcaster = Broadcaster(ami, database, outreach, lines=4, clock=lambda: NOON_IST,
                              reconciled=False)
    broadcaster.calls[calls[1].attempt_id] = calls[1].phone  # this run's call: it died with Asterisk too
    await broadcaster.reconcile({}, True)
    assert [a.outcome for a in _attempts(database)] == ["failed", "failed"] and broadcaster.unknown == {}
    assert broadcaster.calls == {}, "their lines are free again"


async def test_the_broadcast_reconcile_runs_in_the_dialers_before_the_records_are_forgotten(
        database: Database) -> None:
    bus = EventBus()
    ami = FakeAmi(bus)
    ami.astdb["warroom/wrbc-7"] = f"0|{T}|17"
    seen: list[tuple[set[str], bool, str | None]] = []

    async def other(live: Any, restarted: bool) -> None:
        seen.append((set(live), restarted, await ami.db_get("warroom", "wrbc-7")))

    dialer = Dialer(ami, bus, database, DialerConfig(trunks=[Trunk("lines", 2)], rules=CallingRules(),
                                                     reconcile_grace=0, poll_interval=0.05))
    dialer.also_reconcile(other)
    await dialer.start()
    try:
        await until(lambda: seen, 5, "the broadcast reconcile")
        assert seen[0] == (set(), False, f"0|{T}|17"), "it read the record before the dialer forgot it"
        await until(lambda: "warroom/wrbc-7" not in ami.astdb, 5, "forgotten after both")
    finally:
        await dialer.stop()


async def test_a_call_that_entered_the_app_unseen_is_hung_up_and_left_to_the_reconcile(
        outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    [call] = await _earlier_run(outreach, database, tmp_path, 1)
    ari, unseen, ended = FakeAri(), [], []

    async def opt_out(phone: str) -> bool:
        return True

    deps = BroadcastDeps(database, FakeMessages(), FakePrompts(), FakeQueue(), opt_out, ended.append,  # type: ignore[arg-type]
                         tmp_path / "rendered", unseen=unseen.append)
    handler = BroadcastCall(ari, "wrbc-1", [str(call.attempt_id)], deps)  # type: ignore[arg-type]
    await handler.on_adopted(StasisStarted("wrbc-1", args=("broadcast", str(call.attempt_id))))
    assert ("DELETE", "/channels/wrbc-1") in [(m, p) for m, p, _ in ari.sent] and ari.played() == []
    await handler.handle(StasisEnded("wrbc-1"))
    assert unseen == [call.attempt_id] and ended == [] and _attempts(database)[0].outcome is None
