"""The dialer through real Asterisk and the SIPp phone farm."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from db.campaigns import Disposition
from db.models import Person
from directory.changes import record_change
from sandbox.asterisk import Sandbox
from sandbox.cdr import read_cdr
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import FAST_RETRY, channel_count, start_harness, stop_harness
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration

BEHAVIOURS = {
    "+919000000001": Behaviour("answer", hold_ms=1500),
    "+919000000002": Behaviour("busy"),
    "+919000000003": Behaviour("congestion"),
    "+919000000004": Behaviour("notfound"),
    "+919000000005": Behaviour("unavailable"),
    "+919000000006": Behaviour("noanswer"),
    "+919000000007": Behaviour("hangup", hold_ms=500),
}
INBOUND_CALLER = Path(__file__).resolve().parents[1] / "sipp" / "uac_inbound" / "uac_inbound.xml"
EXPECTED = {
    "+919000000001": Disposition.answered, "+919000000002": Disposition.busy,
    "+919000000003": Disposition.congestion, "+919000000004": Disposition.invalid_number,
    "+919000000005": Disposition.no_answer, "+919000000006": Disposition.no_answer,
    "+919000000007": Disposition.answered,
}


async def test_each_sip_behaviour_maps_to_its_disposition_and_retries_follow_policy(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    phones = phone_farm(BEHAVIOURS)
    h = await start_harness(settings, tmp_path, {n: n for n in BEHAVIOURS})
    try:
        cid = h.campaign("sip", retry=FAST_RETRY, use_alternate=False)
        max_channels = 0

        def finished() -> bool:
            return h.campaign_state(cid) == "completed"

        deadline = asyncio.get_running_loop().time() + 90
        while not finished():
            assert asyncio.get_running_loop().time() < deadline, "campaign did not complete in 90 s"
            max_channels = max(max_channels, await channel_count(h.ami))
            await asyncio.sleep(0.2)
        attempts = h.attempts(cid)
        by_phone: dict[str, list[Disposition | None]] = {}
        for a in attempts:
            by_phone.setdefault(a.phone, []).append(a.disposition)
        for phone, expected in EXPECTED.items():
            assert set(by_phone[phone]) == {expected}, (phone, by_phone[phone])
        # retry policy: busy 3 tries, congestion 2, no answer 2; answered and invalid numbers once
        counts = {p: len(v) for p, v in by_phone.items()}
        assert counts == {"+919000000001": 1, "+919000000002": 3, "+919000000003": 2, "+919000000004": 1,
                          "+919000000005": 2, "+919000000006": 2, "+919000000007": 1}
        assert all(a.state.value == "ended" for a in attempts)
        assert max_channels <= 10
        answered = [a for a in attempts if a.disposition is Disposition.answered]
        assert all(a.talk_seconds is not None and a.answered_at is not None for a in answered)
        # Asterisk's CDR and the phone farm agree with our count of answered calls
        await until(lambda: len({r.uniqueid for r in read_cdr(sandbox.log_dir())} &
                                  {a.channel_id for a in attempts}) == len(attempts), 10, "CDR records")
        cdr = {r.uniqueid: r for r in read_cdr(sandbox.log_dir())}
        assert sum(cdr[a.channel_id].disposition == "ANSWERED" for a in attempts) == len(answered)
        assert phones.answered_count() == len(answered)
        with h.sessions() as s:
            invalid = s.get(Person, h.people["+919000000004"])
            assert invalid is not None and invalid.phone_invalid_at is not None  # written back
    finally:
        await stop_harness(h)


async def test_line_cap_holds_against_asterisk(sandbox: Sandbox, settings: Settings, tmp_path: Path,
                                               phone_farm: FarmFactory) -> None:
    numbers = {f"+91900001{i:04d}": Behaviour("answer", hold_ms=1500) for i in range(12)}
    phones = phone_farm(numbers)
    h = await start_harness(settings, tmp_path, {n: n for n in numbers}, lines=4)
    try:
        cid = h.campaign("cap")
        peak = 0
        while h.campaign_state(cid) != "completed":
            peak = max(peak, await channel_count(h.ami))
            assert peak <= 4, f"{peak} channels on a 4-line trunk"
            await asyncio.sleep(0.1)
        assert peak == 4  # and the lines were kept busy
        assert Counter(a.disposition for a in h.attempts(cid)) == {Disposition.answered: 12}
        assert phones.answered_count() == 12
        assert h.dialer.stats.line_delays and max(h.dialer.stats.line_delays) < 1.0
    finally:
        await stop_harness(h)


async def test_inbound_calls_count_against_the_lines(sandbox: Sandbox, settings: Settings, tmp_path: Path,
                                                     phone_farm: FarmFactory) -> None:
    numbers = {f"+91900003{i:04d}": Behaviour("answer", hold_ms=1500) for i in range(10)}
    phone_farm(numbers)
    h = await start_harness(settings, tmp_path, {n: n for n in numbers}, lines=4)
    callers = [await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(INBOUND_CALLER), "-s", "100", f"127.0.0.1:{settings.asterisk.sip_port}", "-i", "127.0.0.1",
        "-p", str(17500 + i), "-mp", str(17600 + 10 * i), "-m", "1", "-d", "8000", "-nostdin", "-timeout", "30s",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL) for i in range(2)]
    trunk = h.dialer.lines.trunks["lines"]
    try:
        await until(lambda: len(trunk.inbound) == 2, 10, "two inbound calls on the lines")
        cid = h.campaign("inbound")
        await until(lambda: len(h.attempts(cid)) >= 2, 10, "outbound calls")
        while len(trunk.inbound) == 2:  # while the two booth workers hold on, only two lines dial out
            assert len(trunk.outbound) <= 2
            assert await channel_count(h.ami) <= 4
            await asyncio.sleep(0.1)
        await until(lambda: h.campaign_state(cid) == "completed", 60, "campaign end")
        codes = [await asyncio.wait_for(c.wait(), 20) for c in callers]
        assert codes == [0, 0], "an inbound caller's call did not go as scripted"
        assert h.dialer.stats.inbound == 2
    finally:
        for c in callers:
            if c.returncode is None:
                c.kill()
        await stop_harness(h)


async def test_rules_stop_calls_outside_window_and_in_silence(sandbox: Sandbox, settings: Settings,
                                                              tmp_path: Path,
                                                              phone_farm: FarmFactory) -> None:
    phones = phone_farm({"+919000000101": Behaviour("answer", hold_ms=500)})
    def night() -> datetime:
        return datetime.now(UTC).replace(hour=18, minute=0)  # 23:30 IST

    h = await start_harness(settings, tmp_path, {"p": "+919000000101"}, clock=night)
    try:
        cid = h.campaign("night")
        await until(lambda: bool(h.targets(cid)[0].blocked_rule), 10, "the window rule")
        t = h.targets(cid)[0]
        assert t.blocked_rule == "window" and "calling window" in (t.blocked_by or "")
        await asyncio.sleep(1.5)  # proving that nothing is dialled: no condition to wait for
        assert h.attempts(cid) == [] and phones.calls() == []
    finally:
        await stop_harness(h)
    poll = datetime.now(UTC) + timedelta(hours=20)
    h = await start_harness(settings, tmp_path / "silence", {"p": "+919000000101"}, poll_end_at=poll)
    try:
        cid = h.campaign("silence")
        await until(lambda: bool(h.targets(cid)[0].blocked_rule), 10, "the silence rule")
        assert h.targets(cid)[0].blocked_rule == "silence"
        assert h.attempts(cid) == [] and phones.calls() == []
    finally:
        await stop_harness(h)


async def test_member_opted_out_mid_campaign_is_not_called_again(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    phones = phone_farm({"+919000000201": Behaviour("noanswer"), "+919000000202": Behaviour("noanswer")})
    h = await start_harness(settings, tmp_path, {"a": "+919000000201", "b": "+919000000202"}, ring_timeout=2)
    try:  # the service's directory sync follows the change feed
        cid = h.campaign("optout", retry=FAST_RETRY | {"no_answer": {"tries": 5, "after": 2}})
        await until(lambda: len(h.attempts(cid)) >= 2, 20, "first attempts")
        with h.sessions.begin() as s:
            s.execute(update(Person).where(Person.id == h.people["a"]).values(dnd=True))
            record_change(s, h.people["a"], "dnd")
        await until(lambda: h.campaign_state(cid) == "completed", 60, "campaign end")
        calls_a = [a for a in h.attempts(cid) if a.phone == "+919000000201"]
        calls_b = [a for a in h.attempts(cid) if a.phone == "+919000000202"]
        assert len(calls_b) == 5 and len(calls_a) <= 2  # at most the call already in flight
        assert sum(c.number == "+919000000201" for c in phones.calls()) == len(calls_a)
    finally:
        await stop_harness(h)
