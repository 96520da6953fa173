"""The demo's operator desk (`warroom phones operator`) through real Asterisk: its endpoint applied over
AMI, the SIPp softphone registers (and again and again), the operator is ready, and a hotline caller pressing
0 rings the softphone, which answers, talks, and hangs up."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from accounts.service import add_user
from events.types import OperatorCall
from operators.softphones import FILENAME
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory
from tests.waiting import until
from warroom.demo_operator import apply_endpoints, find_operator, make_ready, softphone_for
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"


async def test_the_demo_operator_registers_and_answers_a_hotline_caller_pressing_0(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    events: list[OperatorCall] = []
    h.bus.subscribe(OperatorCall, events.append)
    name = f"demo{uuid.uuid4().hex[:6]}"
    phone = None
    try:
        assert h.softphones is not None
        with h.sessions.begin() as s:
            add_user(s, name, "operator", "Operator-pass-1", "Demo operator")
        with h.sessions() as s:
            desk = find_operator(s, name)
        await apply_endpoints(settings, h.service.db, desk.endpoint)  # what the command does before the service
        # the operator talks 12 s: longer than the queue's hold message, which the caller hears to its end
        # before being put through when the operator answers during it
        phone = softphone_for(settings, desk, hold_seconds=12)
        phone.every = 10  # registers again every 10 s (the command: every minute)
        assert await asyncio.to_thread(phone.start) == "registered"
        assert await h.softphones.registered(desk.endpoint), "Asterisk has the softphone online"
        with h.sessions.begin() as s:
            make_ready(s, desk.user_id)
        caller = asyncio.create_task(asyncio.to_thread(
            call_in, "09826012345", service=HOTLINE, sip_port=settings.asterisk.sip_port,
            workdir=tmp_path / "caller", digits="0", delay_ms=1500, hold_ms=30_000))
        await until(lambda: any(e.what == "connected" for e in events), 40, "the caller bridged to the operator",
                       caller)
        assert [e.user_id for e in events if e.what == "connected"] == [desk.user_id]
        # the operator hangs up: the war room releases the caller
        assert (await asyncio.wait_for(caller, 30)).hung_up_by == "war room"
        assert [event for _call, event in phone.events()] == ["ringing", "answered", "hung_up"]
        # the registration is kept alive in the background
        await until(lambda: phone is not None and
                       phone.log_path.read_text().count("softphone registered") >= 2, 15, "a second registration")
        assert await h.softphones.registered(desk.endpoint)
    finally:
        if phone is not None:
            phone.stop()
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)
