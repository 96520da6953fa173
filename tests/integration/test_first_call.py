"""The first call through real Asterisk: AMI Originate -> SIPp phone answers and presses 1 -> our ARI app
sees StasisStart and the DTMF, hangs up, and Asterisk has no channel left."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from adapters import ari_events
from adapters.ami import AmiClient
from adapters.ari import AriClient
from ari_handlers.app import CallHandler, StasisApp
from events.asterisk import DtmfReceived, StasisEnded, StasisStarted
from events.bus import EventBus
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import channel_count
from tests.waiting import until
from warroom.compose import build_ami, build_ari
from warroom.settings import Settings

pytestmark = pytest.mark.integration


async def test_originate_answer_dtmf_and_clean_end(
    sandbox: Sandbox, settings: Settings, phone_farm: FarmFactory
) -> None:
    farm = phone_farm({"9100001": Behaviour("answer", digits="1", delay_ms=300, hold_ms=15000)})
    bus = EventBus()
    ami: AmiClient = build_ami(settings.asterisk, bus)
    ari: AriClient = build_ari(settings.asterisk, bus)
    seen: list[str] = []
    done = asyncio.Event()

    class Probe(CallHandler):
        async def on_StasisStarted(self, event: StasisStarted) -> None:
            seen.append("StasisStart")
            self.transition("in_app", "entered Stasis")

        async def on_DtmfReceived(self, event: DtmfReceived) -> None:
            seen.append(f"dtmf {event.digit}")
            self.transition("hanging_up", f"digit {event.digit}")
            await self.hangup()

        async def on_StasisEnded(self, event: StasisEnded) -> None:
            seen.append("StasisEnd")
            done.set()

    handlers: list[Probe] = []

    def factory(client: AriClient, channel_id: str, args: list[str]) -> Probe:
        handlers.append(Probe(client, channel_id, args))
        return handlers[-1]

    StasisApp(ari, bus, {"probe": factory}).start()
    await ami.start()
    await ari.start()
    try:
        assert await ami.wait_up(10), f"AMI did not come up: {ami.detail}"
        assert await ari.wait_up(10), f"ARI did not come up: {ari.detail}"
        channel_id = f"test-{uuid.uuid4()}"
        reply = await ami.action({
            "Action": "Originate", "Channel": "PJSIP/9100001@farm", "Context": "warroom-stasis",
            "Exten": "probe", "Priority": "1", "ChannelId": channel_id, "Async": "true",
            "Timeout": "15000", "CallerID": "War Room <7550000000>",
        }, timeout=20)
        responses = reply if isinstance(reply, list) else [reply]
        assert any(r.get("Event") == "OriginateResponse" and r.get("Response") == "Success" for r in responses)
        await asyncio.wait_for(done.wait(), 20)
        assert seen == ["StasisStart", "dtmf 1", "StasisEnd"]
        assert handlers[0].channel_id == channel_id  # the id we chose is the channel's id
        assert [t[1] for t in handlers[0].transitions] == ["in_app", "hanging_up"]
        async def no_channels() -> bool:
            return await channel_count(ami) == 0

        await until(no_channels, 5, "Asterisk to have no channel left after the call", every=0.1)
        await until(lambda: ami.events_seen["Hangup"] >= 1, 5, "the Hangup event over AMI", every=0.1)
        # the AMI user's filter: the events the service reads come through, the rest of the classes do not
        assert ami.events_seen["Newchannel"] >= 1 and ami.events_seen["Newstate"] >= 1, ami.events_seen
        assert not {"Newexten", "VarSet", "DialState", "RTCPSent", "TestEvent"} & set(ami.events_seen), \
            ami.events_seen
        # and the Stasis application's: only the events the service parses are sent
        app = await ari.request("GET", f"/applications/{settings.asterisk.ari_app}")
        assert sorted(e["type"] for e in app["events_allowed"]) == sorted(ari_events.EVENTS_READ), app
        assert ari.events_seen["StasisStart"] == 1 and "ChannelVarset" not in ari.events_seen, ari.events_seen
        calls = farm.calls()
        assert len(calls) == 1 and calls[0].number == "9100001" and calls[0].answered
    finally:
        await ari.close()
        await ami.close()
