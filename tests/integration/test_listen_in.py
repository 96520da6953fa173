"""Listen in through real Asterisk: a hotline caller is bridged to an operator's softphone (SIPp), then a
supervisor listens, whispers and barges in. Asterisk itself is asked what runs: the supervisor's softphone
was rung and answered, its channel runs ChanSpy on exactly the operator's channel with the mode's options,
Asterisk reports it spying on that channel (AMI ChanSpyStart), and the spy leg ends with the call."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from accounts.service import add_user
from adapters.ari import AriError
from db.operators import OperatorState
from events.asterisk import SpyStarted
from events.types import OperatorCall
from operators.listen import ListenError, ListenIn, SpyMode
from operators.softphones import FILENAME
from operators.states import change
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour, FarmCall
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import Harness, start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"
OPERATOR_HOLD_MS = 30_000    # the operator's phone hangs up this long after answering: the call ends
SUPERVISOR_HOLD_MS = 90_000  # the supervisor's phone would hold much longer: only Asterisk ends a spy leg
OPTIONS = {"listen": "qESu", "whisper": "qESuw", "barge": "qESuB"}


async def channel(h: Harness, channel_id: str) -> dict[str, Any] | None:
    """The channel as ARI shows it now; None when Asterisk has no such channel."""
    try:
        info = await h.ari.request("GET", f"/channels/{channel_id}")
    except AriError as exc:
        if exc.status == 404:
            return None
        raise
    assert isinstance(info, dict)
    return info


async def gone(h: Harness, channel_id: str, timeout: float, what: str) -> None:
    """Wait until Asterisk has no such channel."""
    async def absent() -> bool:
        return await channel(h, channel_id) is None

    await until(absent, timeout, what)


def spied_by(events: list[SpyStarted], spy: str) -> list[SpyStarted]:
    """The ChanSpyStart events of this spy leg."""
    return [e for e in events if e.channel_id == spy]


async def test_supervisor_listens_whispers_and_barges_into_an_operator_call(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    events: list[OperatorCall] = []
    spying: list[SpyStarted] = []
    h.bus.subscribe(OperatorCall, events.append)
    h.bus.subscribe(SpyStarted, spying.append)
    run = uuid.uuid4().hex[:6]  # Asterisk keeps registrations in its own database: fresh names each run
    spies: list[str] = []
    try:
        assert h.softphones is not None and h.dispatcher is not None
        dispatcher = h.dispatcher
        with h.sessions.begin() as s:
            op = add_user(s, f"op{run}", "operator", "Operator-pass-1", "Asha Devi")
            sup = add_user(s, f"sup{run}", "supervisor", "Supervisor-pass-1", "Meera Joshi")
            away = add_user(s, f"away{run}", "supervisor", "Supervisor-pass-2", "Nikhil Rao")
            op_id, op_ep, op_secret = op.id, op.sip_username, op.sip_secret
            sup_id, sup_ep, sup_secret = sup.id, sup.sip_username, sup.sip_secret
            away_id = away.id
        assert await h.softphones.sync()
        # both softphones register from the farm's port; the farm answers there what rings either of them
        farm_port, sip_port = settings.asterisk.farm_port, settings.asterisk.sip_port
        for endpoint, secret in ((op_ep, op_secret), (sup_ep, sup_secret)):
            assert await asyncio.to_thread(register, endpoint, secret, sip_port=sip_port,
                                           workdir=tmp_path / endpoint, local_port=farm_port) == "registered"
        farm = phone_farm({op_ep: Behaviour("answer", hold_ms=OPERATOR_HOLD_MS),
                           sup_ep: Behaviour("answer", hold_ms=SUPERVISOR_HOLD_MS)})
        with h.sessions.begin() as s:
            change(s, op_id, OperatorState.ready, registered=await h.softphones.registered(op_ep))
        listen = ListenIn(h.ami, h.ari, h.service.db, h.softphones, dispatcher.connected_calls, ring_seconds=10)

        with pytest.raises(ListenError, match="Asha Devi is not on a connected call"):
            await listen.start(sup_id, op_id, "listen")

        caller = asyncio.create_task(asyncio.to_thread(
            call_in, "09826012345", service=HOTLINE, sip_port=sip_port, workdir=tmp_path / "caller",
            digits="0", delay_ms=1500, hold_ms=90_000))
        await until(lambda: any(e.what == "connected" for e in events), 40, "the caller bridged to the operator",
                       caller)
        calls = dispatcher.connected_calls()
        assert list(calls) == [op_id]
        agent = calls[op_id]
        agent_info = await channel(h, agent)
        assert agent_info is not None
        agent_name = agent_info["name"]
        assert agent_name.startswith(f"PJSIP/{op_ep}-"), agent_name

        with pytest.raises(ListenError, match=f"Nikhil Rao has no registered softphone \\(op-away{run}\\)"):
            await listen.start(away_id, op_id, "listen")
        # SIPp phones send no audio unless told to; a spy leg's hang-up completes only when a frame passes on
        # the spied-on channel (Asterisk issue #978), as it always does on a real call. A tone played to the
        # operator stands in for the conversation's audio.
        await h.ari.request("POST", f"/channels/{agent}/play/tone-{run}", media="tone:440")

        modes: list[SpyMode] = ["listen", "whisper", "barge"]
        for mode in modes:
            spy = await listen.start(sup_id, op_id, mode)
            spies.append(spy)
            info = await channel(h, spy)
            assert info is not None, f"{mode}: no spy channel {spy}"
            assert info["name"].startswith(f"PJSIP/{sup_ep}-") and info["state"] == "Up", info
            assert info["dialplan"]["app_name"] == "ChanSpy", info
            # exactly the operator's channel (u), quiet (q), ends with the call (E, S); whisper w, barge B
            assert info["dialplan"]["app_data"] == f"{agent_name},{OPTIONS[mode]}", info
            await until(partial(spied_by, spying, spy), 5, f"{mode}: Asterisk to start spying")
            [start] = spied_by(spying, spy)
            assert start.spyee_channel == agent_name and start.spyee_id == agent
            if mode != "barge":  # the supervisor stops listening; the barge goes on until the call ends
                assert await listen.stop(spy) is True
                await gone(h, spy, 5, f"{mode}: the spy leg to hang up")
                assert await listen.stop(spy) is False
        assert await channel(h, agent) is not None, "the operator's call went on while the supervisor came and went"
        assert await channel(h, spies[-1]) is not None, "the barge goes on"

        # the operator's phone hangs up: the call ends, and so does the barge leg (ChanSpy's E), long before
        # the supervisor's phone would have hung up
        await until(lambda: any(e.what == "ended" for e in events), 40, "the operator's call to end")
        await gone(h, spies[-1], 5, "the barge leg to end with the call")
        result = await caller
        assert result.hung_up_by == "war room"
        assert dispatcher.connected_calls() == {}
        with pytest.raises(ListenError, match="Asha Devi is not on a connected call"):
            await listen.start(sup_id, op_id, "barge")

        # Asterisk has hung the legs up; the supervisor's phone may log the last BYE a moment later
        def legs() -> list[FarmCall]:
            return [c for c in farm.calls() if c.number == sup_ep]
        try:
            await until(lambda: len(legs()) == 3 and all(c.hung_up_by != "none" for c in legs()), 10,
                        "the supervisor's phone to log each leg's end")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {[(c.hung_up_by, c.events) for c in legs()]}") from None
        supervisor_legs = legs()
        assert len(supervisor_legs) == 3 and all(c.answered for c in supervisor_legs), supervisor_legs
        assert all(c.hung_up_by == "far end" for c in supervisor_legs), supervisor_legs
        assert [e.channel_id for e in spying] == spies
    finally:
        for spy in spies:
            try:
                await h.ari.request("DELETE", f"/channels/{spy}")
            except AriError:
                pass
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)


async def test_listen_in_is_refused_without_a_call_and_rings_nobody(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    run = uuid.uuid4().hex[:6]
    try:
        assert h.softphones is not None and h.dispatcher is not None
        with h.sessions.begin() as s:
            op = add_user(s, f"op{run}", "operator", "Operator-pass-1", "Ravi Kumar")
            sup = add_user(s, f"sup{run}", "supervisor", "Supervisor-pass-1", "Meera Joshi")
            op_id, sup_id, sup_ep, sup_secret = op.id, sup.id, sup.sip_username, sup.sip_secret
        assert await h.softphones.sync()
        assert await asyncio.to_thread(register, sup_ep, sup_secret, sip_port=settings.asterisk.sip_port,
                                       workdir=tmp_path / "sup", local_port=settings.asterisk.farm_port) == "registered"
        farm = phone_farm({sup_ep: Behaviour("answer", hold_ms=10_000)})
        listen = ListenIn(h.ami, h.ari, h.service.db, h.softphones, h.dispatcher.connected_calls, ring_seconds=5)
        with pytest.raises(ListenError, match="Ravi Kumar is not on a connected call"):
            await listen.start(sup_id, op_id, "whisper")
        with pytest.raises(ListenError, match="cannot listen in on their own call"):
            await listen.start(sup_id, sup_id, "listen")
        with pytest.raises(ListenError, match="unknown listen-in mode"):
            await listen.start(sup_id, op_id, "snoop")  # type: ignore[arg-type]  # a bad mode on purpose
        # a call the dispatcher thinks connected but Asterisk no longer has
        stale = ListenIn(h.ami, h.ari, h.service.db, h.softphones, lambda: {op_id: f"agent-{uuid.uuid4().hex}"})
        with pytest.raises(ListenError, match="Ravi Kumar is not on a connected call \\(it just ended\\)"):
            await stale.start(sup_id, op_id, "listen")
        await asyncio.sleep(1)  # proving that no refusal rings anyone: nothing to wait for
        assert farm.calls() == [], "no refusal rings the supervisor"
    finally:
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)
