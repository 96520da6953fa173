"""A progressive (operator-mode) campaign through real Asterisk: the dialer never has more answered calls
waiting than ready operators allow, answered calls are bridged to operators' softphones (SIPp phones
registered with their generated passwords), and a call no operator takes in time is counted abandoned."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.service import add_user
from db.campaigns import Attempt
from db.operators import OperatorState
from events.types import OperatorCall, ScreenPop
from operators.softphones import FILENAME
from operators.states import change
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import FAST_RETRY, start_harness, stop_harness
from tests.integration.ivr_harness import MEMBERS, booth_directory, booths
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration


async def test_progressive_campaign_paces_by_ready_operators_bridges_and_counts_abandons(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    events: list[OperatorCall] = []
    pops: list[ScreenPop] = []
    h.bus.subscribe(OperatorCall, events.append)
    h.bus.subscribe(ScreenPop, pops.append)
    farms: list[PhoneFarm] = []
    run = uuid.uuid4().hex[:5]
    try:
        assert h.softphones is not None and h.progressive is not None
        # two operators: "good" answers every call (and ends it after 4 s), "away" lets it ring out
        ops = {}
        with h.sessions.begin() as s:
            for name in ("good", "away"):
                u = add_user(s, f"{name}{run}", "operator", "Operator-pass-1")
                ops[name] = (u.id, u.sip_username, u.sip_secret)
        assert await h.softphones.sync()
        for i, (name, behaviour) in enumerate((("good", Behaviour("answer", hold_ms=4000)),
                                               ("away", Behaviour("noanswer"))), start=1):
            user_id, endpoint, secret = ops[name]
            port = settings.asterisk.farm_port + 10 + i
            assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings.asterisk.sip_port,
                                           workdir=tmp_path / f"reg-{name}", local_port=port) == "registered"
            farm = PhoneFarm({endpoint: behaviour}, port=port, media_port=16200 + 100 * i,
                             workdir=tmp_path / f"softphone-{name}")
            farm.start()
            farms.append(farm)
        # the people called answer and stay on the line
        phone_farm({phone: Behaviour("answer", hold_ms=30_000) for phone, _l, _s in MEMBERS.values()})
        # "away" is ready first: it gets the first call, lets it ring out (8 s > 3 s) -> abandoned, paused
        with h.sessions.begin() as s:
            change(s, ops["away"][0], OperatorState.ready)
        await asyncio.sleep(0.1)  # "away" must have been ready longer: the order of the two times matters
        with h.sessions.begin() as s:
            change(s, ops["good"][0], OperatorState.ready)
        cid = h.campaign("progressive", mode="operator",
                         selection=booths(h, "Asha", "Bina", "Chetan", "Deepak"), retry=FAST_RETRY,
                         use_alternate=False)
        await until(lambda: h.campaign_state(cid) == "completed", 150, "the progressive campaign to complete")
        await until(lambda: not h.stasis.calls, 10, "every call's handler to finish")
        figures = h.progressive
        assert figures.max_waiting <= 2, f"{figures.max_waiting} answered calls waited with 2 operators ready"
        assert figures.answered == 4 and figures.abandoned >= 1 and figures.connected >= 2
        assert figures.answered == figures.connected + figures.abandoned
        with h.sessions() as s:
            results = [r for (r,) in s.execute(select(Attempt.result).where(Attempt.campaign_id == cid))]
        assert results.count("abandoned") == figures.abandoned and results.count("connected") == figures.connected
        good_calls = [e for e in events if e.user_id == ops["good"][0] and e.what == "connected"]
        assert len(good_calls) == figures.connected
        assert any(e.user_id == ops["away"][0] and e.what == "missed" for e in events)
        # the operator's screen shows the campaign's script for the booth, rendered for the person called
        scripts = [p.details.get("script") or [] for p in pops]
        assert scripts and all(s and s[0].startswith(("नमस्ते", "Hello")) for s in scripts), scripts
    finally:
        for farm in farms:
            farm.stop()
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)
