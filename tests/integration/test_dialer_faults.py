"""Faults mid-campaign: the AMI link cut, and Asterisk restarted. Every attempt ends in exactly one
terminal state, no phone is ever dialed twice at once, and the campaign finishes."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

from db.campaigns import Attempt, Disposition
from sandbox.asterisk import Sandbox
from sandbox.cdr import read_cdr
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import FAST_RETRY, Harness, start_harness, stop_harness
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
NUMBERS = {f"+91900002{i:04d}": Behaviour("answer", hold_ms=2500) for i in range(8)}


@pytest.fixture
def farm(phone_farm: FarmFactory) -> PhoneFarm:
    return phone_farm(NUMBERS)


def _no_overlap_per_phone(attempts: list[Attempt]) -> None:
    """No two attempts to one phone were live at the same time."""
    by_phone: dict[str, list[Attempt]] = defaultdict(list)
    for a in attempts:
        by_phone[a.phone].append(a)
    for phone, rows in by_phone.items():
        rows.sort(key=lambda a: a.created_at)
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert earlier.ended_at is not None and earlier.ended_at <= later.created_at, \
                f"{phone}: attempt {later.id} started before {earlier.id} ended"


def _all_terminal_once(h: Harness, cid: int) -> list[Attempt]:
    attempts = h.attempts(cid)
    assert attempts and all(a.state.value == "ended" and a.disposition is not None for a in attempts)
    assert h.open_attempts() == 0
    _no_overlap_per_phone(attempts)
    return attempts


async def test_ami_link_cut_mid_campaign(sandbox: Sandbox, settings: Settings, tmp_path: Path,
                                         farm: PhoneFarm) -> None:
    h = await start_harness(settings, tmp_path, {n: n for n in NUMBERS}, lines=4)
    try:
        cid = h.campaign("cut", retry=FAST_RETRY)
        await until(lambda: len(h.dialer.active) == 4, 15, "four calls up")
        h.ami.drop_transport()  # the TCP link dies under live calls
        await until(lambda: h.campaign_state(cid) == "completed", 90, "campaign end after the cut")
        attempts = _all_terminal_once(h, cid)
        answered = [a for a in attempts if a.disposition is Disposition.answered]
        # every number was reached in the end; calls live across the cut were kept (not re-dialed)
        assert {a.phone for a in answered} == set(NUMBERS)
        assert len(answered) == len(NUMBERS)
        cdr = {r.uniqueid: r for r in read_cdr(sandbox.log_dir())}
        ours = [a for a in attempts if a.channel_id in cdr]
        assert sum(cdr[a.channel_id].disposition == "ANSWERED" for a in ours) == len(answered)
        assert farm.answered_count() == len(answered)
    finally:
        await stop_harness(h)


async def test_asterisk_restart_mid_campaign(sandbox: Sandbox, settings: Settings, tmp_path: Path,
                                             farm: PhoneFarm) -> None:
    h = await start_harness(settings, tmp_path, {n: n for n in NUMBERS}, lines=4)
    try:
        cid = h.campaign("restart", retry=FAST_RETRY)
        await until(lambda: any(a.tracker.answered_at for a in h.dialer.active.values()), 15, "an answered call")
        in_flight = set(h.dialer.active)
        await asyncio.to_thread(sandbox.down)
        await asyncio.to_thread(sandbox.up, 60)
        await until(lambda: h.campaign_state(cid) == "completed", 120, "campaign end after the restart")
        attempts = _all_terminal_once(h, cid)
        lost = [a for a in attempts if a.channel_id in in_flight]
        assert lost and all(a.disposition is Disposition.failed for a in lost)  # never counted answered
        assert all(a.talk_seconds is None for a in lost)
        answered = {a.phone for a in attempts if a.disposition is Disposition.answered}
        assert answered == set(NUMBERS), [  # the lost ones were retried by policy and reached
            (a.phone, a.disposition, a.cause, a.detail, f"{a.created_at:%H:%M:%S}") for a in attempts]
    finally:
        await stop_harness(h)
