"""A predictive campaign through real Asterisk, operators being SIPp softphones: the dialer dials ahead of
ready operators from the campaign's measured figures (an earlier part of today's run is in the database),
abandons stay under the campaign's cap, and an abandoned call (its operator lets the phone ring) hears the
apology naming the party and the call-back number, and leaves a call-back task."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.service import add_user
from db.callbacks import CallbackTask
from db.campaigns import Attempt, AttemptState, CampaignPacing
from db.operators import OperatorState
from dialer.campaigns import Selection, change_state, create_campaign
from operators.softphones import FILENAME
from operators.states import change
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import FAST_RETRY, Harness, start_harness, stop_harness
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
NUMBERS = {f"p{i}": f"+9191000002{i:02d}" for i in range(9)}
CAP = 0.03
EARLIER = 100   # answered calls of the campaign earlier today (what the pacing measures first)


def _earlier_today(h: Harness, campaign_id: int) -> None:
    """The campaign's calls of the last twenty minutes: every one answered after half a second and talked 4 s."""
    now = h.dialer.clock()
    with h.sessions.begin() as s:
        for i in range(EARLIER):
            at = now - timedelta(minutes=20) + timedelta(seconds=10 * i)
            s.add(Attempt(channel_id=f"earlier-{campaign_id}-{i}", action_id=f"earlier-a-{campaign_id}-{i}",
                          campaign_id=campaign_id, phone="+919100009999", trunk="lines", state=AttemptState.ended,
                          created_at=at, answered_at=at + timedelta(seconds=0.5), ended_at=at + timedelta(seconds=4.5),
                          talk_seconds=4, result="connected"))


async def test_predictive_campaign_dials_ahead_under_the_cap_and_abandons_hear_the_apology(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    base = settings.model_copy(update={"dialer": settings.dialer.model_copy(update={
        "predictive_min_answered": 5, "predictive_min_operators": 1, "predictive_abandon_seconds": 2.0,
        "callback_number": "0755 2551234"})})
    phone_farm({phone: Behaviour("answer", hold_ms=20_000) for phone in NUMBERS.values()})
    h = await start_harness(base, tmp_path, NUMBERS, ivr=True, operators=True)
    farms: list[PhoneFarm] = []
    run = uuid.uuid4().hex[:5]
    try:
        # "away" lets its phone ring (its first call is abandoned after 2 s); three others answer, talk 2.5 s
        ops = {}
        with h.sessions.begin() as s:
            for name in ("away", "one", "two", "three"):
                u = add_user(s, f"{name}{run}", "operator", "Operator-pass-1")
                ops[name] = (u.id, u.sip_username, u.sip_secret)
        assert await h.softphones.sync()
        for i, name in enumerate(ops, start=1):
            user_id, endpoint, secret = ops[name]
            port = settings.asterisk.farm_port + 10 + i
            assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings.asterisk.sip_port,
                                           workdir=tmp_path / f"reg-{name}", local_port=port) == "registered"
            behaviour = Behaviour("noanswer") if name == "away" else Behaviour("answer", hold_ms=2500)
            farm = PhoneFarm({endpoint: behaviour}, port=port, media_port=16200 + 100 * i,
                             workdir=tmp_path / f"softphone-{name}")
            farm.start()
            farms.append(farm)
        for name in ops:  # "away" first: ready the longest, it is offered the first call
            with h.sessions.begin() as s:
                change(s, ops[name][0], OperatorState.ready)
            await asyncio.sleep(0.05)
        with h.sessions.begin() as s:
            c = create_campaign(s, name="predictive", mode="operator", selection=Selection(), trunk="lines",
                                retry=FAST_RETRY, use_alternate=False)
            c.pacing, c.abandon_cap = CampaignPacing.predictive, CAP
            s.flush()
            cid = c.id
        _earlier_today(h, cid)
        with h.sessions.begin() as s:
            change_state(s, "predictive", "start")
        await until(lambda: h.campaign_state(cid) == "completed", 60, "the predictive campaign to complete")
        await until(lambda: not h.stasis.calls, 15, "every call's handler to finish")

        pacing = h.dialer.pacing()[cid]
        assert pacing["predictive_passes"] > 0 and pacing["dialed_ahead"] > 0, pacing
        with h.sessions() as s:
            today = [a for a in s.scalars(select(Attempt).where(Attempt.campaign_id == cid))
                     if not a.channel_id.startswith("earlier-")]
            tasks = list(s.scalars(select(CallbackTask).where(CallbackTask.campaign_id == cid)))
        answered = [a for a in today if a.answered_at is not None]
        abandoned = [a for a in answered if a.result == "abandoned"]
        assert len(answered) == len(NUMBERS), [(a.phone, a.disposition, a.result) for a in today]
        assert 1 <= len(abandoned), "the call offered to 'away' is abandoned"
        assert len(abandoned) / (EARLIER + len(answered)) <= CAP, f"{len(abandoned)} abandoned"
        figures = h.progressive
        assert figures.apologised == len(abandoned) and "PARTY" in figures.last_apology
        assert "0 7 5 5 2 5 5 1 2 3 4" in figures.last_apology
        assert sorted(t.attempt_id for t in tasks) == sorted(a.id for a in abandoned)
        assert all(t.phone in NUMBERS.values() and t.state.value == "open" for t in tasks)
    finally:
        for farm in farms:
            farm.stop()
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)
