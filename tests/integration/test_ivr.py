"""IVR surveys through real Asterisk: the SIPp phone farm answers campaign calls and presses real RFC 2833
keys (and speaks a message); our Stasis app plays espeak-ng prompts and stores what it gets."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from db.campaigns import Attempt
from db.models import MemberStatus, Person
from sandbox.asterisk import Sandbox
from sandbox.ivr_timing import waiting_on
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import FAST_RETRY, channel_count, start_harness, stop_harness
from tests.integration.ivr_harness import (
    MEMBERS,
    answers,
    app_channels,
    booth_directory,
    booths,
    calls,
    cut_websocket,
    recordings,
    seconds_until,
    write_quick_script,
)
from tests.waiting import until
from warroom.settings import IvrSettings, Settings

pytestmark = pytest.mark.integration
DELAY, GAP = 500, 700


def phone(name: str) -> str:
    return MEMBERS[name][0]


def with_scripts(settings: Settings, tmp: Path) -> Settings:
    return settings.model_copy(update={"ivr": IvrSettings(scripts_dir=write_quick_script(tmp / "scripts"))})


async def test_full_survey_for_each_booth_status_with_its_script(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        assert h.ivr is not None
        # the weak and swing phones speak once the recording has begun (after the prompts before it)
        weak = await seconds_until(h.ivr, h.sessions, h.people["Bina"], "weak", "2")
        swing = await seconds_until(h.ivr, h.sessions, h.people["Chetan"], "swing", "122")
        farm = phone_farm({
            phone("Asha"): Behaviour("answer", digits="11", delay_ms=DELAY, digit_gap_ms=GAP, hold_ms=90_000),
            phone("Bina"): Behaviour("answer", digits="2", delay_ms=DELAY, digit_gap_ms=GAP, hold_ms=90_000,
                                     voice_ms=int(weak * 1000) + 1500 - DELAY),
            phone("Chetan"): Behaviour("answer", digits="122", delay_ms=DELAY, digit_gap_ms=GAP, hold_ms=120_000,
                                       voice_ms=int(swing * 1000) + 1500 - DELAY - 2 * GAP),
        })
        cid = h.campaign("booths", selection=booths(h, "Asha", "Bina", "Chetan"),
                         retry=FAST_RETRY, use_alternate=False)
        await until(lambda: h.campaign_state(cid) == "completed", 150, "the survey campaign to complete")
        by_person = {c.person_id: c for c in calls(h)}
        strong, weak_call, swing_call = (by_person[h.people[n]] for n in ("Asha", "Bina", "Chetan"))
        assert (strong.script, strong.booth_status, strong.language) == ("strong", "strong", "hi")
        assert (weak_call.script, weak_call.booth_status, weak_call.language) == ("weak", "weak", "en")
        assert (swing_call.script, swing_call.booth_status) == ("swing", "swing")
        assert answers(h, strong.id) == [("ready", "1", True), ("turnout", "1", True)]
        assert answers(h, weak_call.id) == [("lacks", "2", True)]
        assert answers(h, swing_call.id) == [("ready", "1", True), ("lacks", "2", True), ("offer", "2", True)]
        assert {c.result.value for c in (strong, weak_call, swing_call) if c.result} == {"completed"}
        for call in (weak_call, swing_call):
            recs = recordings(h, call.id)
            assert len(recs) == 1 and recs[0].state == "done" and recs[0].attempt_id == call.attempt_id
            assert recs[0].duration is not None and recs[0].duration >= 3, "the phone's message was recorded"
            path = h.ivr.recordings_dir / recs[0].filename if h.ivr.recordings_dir else None
            assert path is not None and path.stat().st_size > 8000 * 3  # real audio, not an empty file
        with h.sessions() as s:
            results = {a.person_id: a.result for a in s.scalars(select(Attempt).where(Attempt.campaign_id == cid))}
        assert set(results.values()) == {"completed"}
        # the campaign completes on our records; the phones' log of each call's end may come a moment later
        try:
            await until(lambda: len(farm.calls()) == 3 and all(c.hung_up_by != "none" for c in farm.calls()),
                        30, "the phones to log the calls' ends")
        except AssertionError as exc:  # say what each phone saw: which one missed the end, and where it was
            raise AssertionError(f"{exc}: {[(c.number, c.hung_up_by, c.events) for c in farm.calls()]}") from None
        seen = {c.number: c for c in farm.calls()}
        assert seen[phone("Bina")].spoke and seen[phone("Chetan")].spoke
        assert all(c.answered and c.hung_up_by == "far end" for c in seen.values())  # we ended each call
        assert await app_channels(h) == [] and await channel_count(h.ami) == 0
    finally:
        await stop_harness(h)


async def test_invalid_key_and_no_input_follow_the_scripts_retries(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        phone_farm({phone("Asha"): Behaviour("answer", digits="7", delay_ms=DELAY, hold_ms=60_000),
                    phone("Deepak"): Behaviour("answer", digits="511", delay_ms=DELAY, digit_gap_ms=GAP,
                                               hold_ms=60_000)})
        cid = h.campaign("retries", selection=booths(h, "Asha", "Deepak"),
                         scripts={"strong": "quick"}, retry=FAST_RETRY, use_alternate=False)
        await until(lambda: h.campaign_state(cid) == "completed", 90, "the campaign to complete")
        by_person = {c.person_id: c for c in calls(h)}
        silent, fixer = by_person[h.people["Asha"]], by_person[h.people["Deepak"]]
        # 7 is not offered; then nothing twice: three tries (1 + 2 retries), then on_fail -> bye
        assert answers(h, silent.id) == [("ready", "7", False)]
        assert silent.result is not None and silent.result.value == "completed" and silent.script == "quick"
        assert silent.ended_at is not None and (silent.ended_at - silent.started_at).total_seconds() >= 4
        assert answers(h, fixer.id) == [("ready", "5", False), ("ready", "1", True), ("turnout", "1", True)]
    finally:
        await stop_harness(h)


async def test_hangup_mid_survey_keeps_the_answers_and_is_partial(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        assert h.ivr is not None
        # presses 2 ("not ready"), then hangs up while the next question waits for a key
        before_needs = await seconds_until(h.ivr, h.sessions, h.people["Deepak"], "quick", "2",
                                           until=waiting_on("needs"))
        assert before_needs > 0
        phone_farm({phone("Deepak"): Behaviour("answer", digits="2", delay_ms=DELAY,
                                               hold_ms=int(before_needs * 1000) + 1500)})
        cid = h.campaign("partial", selection=booths(h, "Deepak"),
                         scripts={"strong": "quick"}, retry=FAST_RETRY, use_alternate=False)
        await until(lambda: h.campaign_state(cid) == "completed", 60, "the campaign to complete")
        [call] = calls(h)
        assert answers(h, call.id) == [("ready", "2", True)]
        assert call.result is not None and call.result.value == "partial"
        assert call.state.endswith("@needs")  # it was waiting on the next question when the phone hung up
        with h.sessions() as s:
            assert s.scalars(select(Attempt.result)).all() == ["partial"]
    finally:
        await stop_harness(h)


async def test_opt_out_marks_dnd_and_the_dialer_never_calls_again(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        farm = phone_farm({phone("Esha"): Behaviour("answer", digits="9", delay_ms=DELAY, hold_ms=30_000)})
        first = h.campaign("first", selection=booths(h, "Esha"), scripts={"strong": "quick"},
                           retry=FAST_RETRY, use_alternate=False)
        await until(lambda: h.campaign_state(first) == "completed", 60, "the first campaign to complete")
        [call] = calls(h)
        assert call.result is not None and call.result.value == "opted_out"
        with h.sessions() as s:
            person = s.get(Person, h.people["Esha"])
            assert person is not None and person.dnd and person.status is MemberStatus.opted_out
            assert person.dnd_source == "ivr"
        second = h.campaign("second", selection=booths(h, "Esha"), scripts={"strong": "quick"},
                            retry=FAST_RETRY, use_alternate=False)
        await until(lambda: h.campaign_state(second) == "completed", 30, "the second campaign to finish")
        assert h.attempts(second) == []
        blocked = [t for t in h.targets(second) if t.person_id == h.people["Esha"]]
        assert all(t.state.value == "removed" for t in blocked)
        assert len(farm.calls()) == 1, "the phone rang once only"
    finally:
        await stop_harness(h)


async def test_websocket_cut_mid_call_leaves_no_channel_in_stasis(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    """The websocket is down for 6 s: one call's prompt ends and its key is pressed unseen, the other
    caller hangs up unseen. After the reconnect both are settled and nothing is left in Stasis."""
    caplog.set_level(logging.INFO, logger="ari_handlers")
    h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        phone_farm({phone("Asha"): Behaviour("answer", digits="1", delay_ms=4000, hold_ms=40_000),
                    phone("Deepak"): Behaviour("answer", hold_ms=3000)})
        cid = h.campaign("cut", selection=booths(h, "Asha", "Deepak"),
                         scripts={"strong": "quick"}, retry=FAST_RETRY, use_alternate=False)
        await until(lambda: len(calls(h)) == 2, 30, "both calls in the IVR")
        await cut_websocket(h.ari, 6.0)
        await until(lambda: h.campaign_state(cid) == "completed", 60, "the campaign to complete")
        by_person = {c.person_id: c for c in calls(h)}
        stayed, left = by_person[h.people["Asha"]], by_person[h.people["Deepak"]]
        assert stayed.result is not None and stayed.result.value == "completed"
        assert left.result is not None and left.result.value == "partial" and left.ended_at is not None
        messages = [r.getMessage() for r in caplog.records]
        assert any("prompt finished while the link was down" in m for m in messages)
        assert any("channel gone while the ARI link was down" in m for m in messages)
        assert await app_channels(h) == [] and await channel_count(h.ami) == 0
    finally:
        await stop_harness(h)


async def test_calls_orphaned_by_a_restart_are_hung_up(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    """Our service stops while a call sits in Stasis; the next one finds it unowned and hangs it up."""
    h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        phone_farm({phone("Asha"): Behaviour("answer", hold_ms=60_000)})
        h.campaign("orphan", selection=booths(h, "Asha"), scripts={"strong": "quick"},
                   retry=FAST_RETRY, use_alternate=False)
        await until(lambda: len(calls(h)) == 1, 30, "the call in the IVR")
    finally:
        await stop_harness(h)
    assert await _orphans_after_restart(settings, tmp_path) == []


async def _orphans_after_restart(settings: Settings, tmp_path: Path) -> list[str]:
    from ari_handlers.app import StasisApp
    from events.bus import EventBus
    from warroom.compose import build_ari

    bus = EventBus()
    ari = build_ari(settings.asterisk, bus)
    StasisApp(ari, bus, {}).start()
    await ari.start()
    try:
        assert await ari.wait_up(10)
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            info = await ari.request("GET", f"/applications/{ari.config.app}")
            left = list(info.get("channel_ids", []))
            if not left or asyncio.get_running_loop().time() > deadline:
                return left
            await asyncio.sleep(0.2)
    finally:
        await ari.close()
