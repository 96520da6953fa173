"""The operators' queue through real Asterisk: a hotline caller pressing 0 rings the longest-ready
operator's softphone (a SIPp phone registered with the operator's generated password), the operator's
console gets the caller's details as it rings, and caller and operator are bridged."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.service import add_user
from db.ivr import QueueCall
from db.operators import OperatorState
from db.operators import OperatorStatus as Status
from events.types import OperatorCall, ScreenPop
from operators.softphones import FILENAME
from operators.states import change
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory, calls
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"


async def test_hotline_caller_pressing_0_is_bridged_to_the_ready_operator_with_a_screen_pop(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    pops: list[ScreenPop] = []
    events: list[OperatorCall] = []
    h.bus.subscribe(ScreenPop, pops.append)
    h.bus.subscribe(OperatorCall, events.append)
    name = f"op{uuid.uuid4().hex[:6]}"
    try:
        assert h.softphones is not None and h.ivr is not None
        with h.sessions.begin() as s:
            user = add_user(s, name, "operator", "Operator-pass-1", "Asha Devi")
            user_id, endpoint, secret = user.id, user.sip_username, user.sip_secret
        assert await h.softphones.sync()
        # the operator's softphone registers from the farm's port, then the farm answers there what rings
        # the operator (it holds 8 s, then hangs up)
        farm_port = settings.asterisk.farm_port
        assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings.asterisk.sip_port,
                                       workdir=tmp_path / "softphone", local_port=farm_port) == "registered"
        phone_farm({endpoint: Behaviour("answer", hold_ms=8000)})
        with h.sessions.begin() as s:
            change(s, user_id, OperatorState.ready, registered=await h.softphones.registered(endpoint))
        caller = asyncio.create_task(asyncio.to_thread(
            call_in, "09826012345", service=HOTLINE, sip_port=settings.asterisk.sip_port,
            workdir=tmp_path / "caller", digits="0", delay_ms=1500, hold_ms=30_000))
        await until(lambda: any(e.what == "connected" for e in events), 40, "the caller bridged to the operator",
                       caller)
        [pop] = pops
        assert pop.user_id == user_id
        assert pop.details["name"] == "Farhan" and pop.details["phone"] == "XXXXXX2345"
        assert pop.details["booth"]["status"] == "swing" and pop.details["ac"]["name"] == "Bhopal Uttar"
        assert pop.details["note"].startswith("Hotline: Farhan")
        [call] = calls(h)
        bridges = await h.ari.request("GET", "/bridges")
        mixing = [b for b in bridges if b["bridge_type"] == "mixing" and call.channel_id in b["channels"]]
        assert len(mixing) == 1 and len(mixing[0]["channels"]) == 2, bridges
        with h.sessions() as s:
            assert s.scalar(select(QueueCall.state)) == "answered"
            status = s.get(Status, user_id)
            assert status is not None and status.state is OperatorState.on_call
            assert status.channel_id == call.channel_id
        # the operator's phone hangs up after 8 s: the caller is released, the operator wraps up
        await until(lambda: any(e.what == "ended" for e in events), 20, "the call to end")
        result = await caller
        assert result.hung_up_by == "war room"
        with h.sessions() as s:
            status = s.get(Status, user_id)
            assert status is not None and status.state in (OperatorState.wrap_up, OperatorState.ready)
        await until(lambda: _state(h, user_id) is OperatorState.ready, 10, "wrap-up to end")
        assert [e.what for e in events] == ["ringing", "connected", "ended"]
    finally:
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)


def _state(h: object, user_id: int) -> OperatorState | None:
    from tests.integration.dialer_harness import Harness

    assert isinstance(h, Harness)
    with h.sessions() as s:
        row = s.get(Status, user_id)
        return row.state if row else None
