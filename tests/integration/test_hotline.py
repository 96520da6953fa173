"""The booth workers' hotline through real Asterisk: a SIPp caller dials the war room's number on the phone
lines; the dialplan asks our FastAGI lookup who it is; the Stasis app runs the hotline script."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from db.ivr import IvrRecording, QueueCall
from db.models import Unit, UnitKind
from db.tickets import Ticket, TicketStatus
from hotline.lookup import add_instruction
from ivr_scripts.actions import Action, Play
from ivr_scripts.engine import Engine
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.ivr_timing import Until
from tests.integration.dialer_harness import channel_count, start_harness, stop_harness
from tests.integration.ivr_harness import answers, app_channels, booth_directory, calls, seconds_until
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"  # the war room's number, as dialed


async def test_known_caller_reports_a_problem_and_a_ticket_holds_the_voice_note(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        assert h.ivr is not None and h.agi is not None
        # 1 = report a problem, 3 = opposing party's activity; then the voice note once recording began
        before = await seconds_until(h.ivr, h.sessions, h.people["Farhan"], "hotline", "13")
        result = await asyncio.to_thread(call_in, "09826012345", service=HOTLINE,
                                         sip_port=settings.asterisk.sip_port, workdir=tmp_path / "caller",
                                         digits="13", delay_ms=1000, gap_ms=1500,
                                         voice_ms=int(before * 1000) + 1500, hold_ms=90_000)
        assert result.exit_code == 0, result
        assert result.hung_up_by == "war room" and "voice" in result.events
        await until(lambda: bool(calls(h)) and calls(h)[0].result is not None, 10, "the call's result")
        [call] = calls(h)
        assert (call.direction, call.script, call.person_id) == ("inbound", "hotline", h.people["Farhan"])
        assert call.caller_phone == "+919826012345" and call.booth_status == "swing"
        assert call.result is not None and call.result.value == "completed"
        assert answers(h, call.id) == [("menu", "1", True), ("category", "3", True)]
        assert h.agi.served == 1, "the dialplan asked our FastAGI lookup who was calling"
        with h.sessions() as s:
            [ticket] = s.scalars(select(Ticket)).all()
            booth = s.get(Unit, ticket.booth_id)
            note = s.get(IvrRecording, ticket.recording_id)
        assert ticket.status is TicketStatus.open and ticket.category == "opposing_activity"
        assert ticket.source == "hotline" and ticket.reporter_id == h.people["Farhan"]
        assert booth is not None and booth.id == h.people["booth:Farhan"] and booth.kind is UnitKind.booth
        assert note is not None and note.state == "done" and note.duration is not None and note.duration >= 3
        assert h.ivr.recordings_dir is not None and (h.ivr.recordings_dir / note.filename).stat().st_size > 24_000
        assert await app_channels(h) == [] and await channel_count(h.ami) == 0
    finally:
        await stop_harness(h)


async def test_known_caller_without_a_pin_asks_for_instructions_then_reaches_the_operator_queue(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        assert h.ivr is not None
        with h.sessions.begin() as s:
            ac = s.scalars(select(Unit).where(Unit.kind == UnitKind.ac)).one()
            add_instruction(s, "सुबह सात बजे तक बूथ पर पहुँचें।", unit_id=ac.id, language="hi", by="hq")
        # 2 = instructions (without a PIN they are not read: the menu comes back), then 0 = an operator
        # (test_hotline_trust.py: the PIN, then the instructions)
        before_menu_again = await seconds_until(h.ivr, h.sessions, h.people["Farhan"], "hotline", "2",
                                                until=_asking_menu_again())
        caller = asyncio.create_task(asyncio.to_thread(
            call_in, "+919826012345", service=HOTLINE, sip_port=settings.asterisk.sip_port,
            workdir=tmp_path / "caller", digits="20", delay_ms=1000,
            gap_ms=int(before_menu_again * 1000) + 1500, hold_ms=int(before_menu_again * 1000) + 12_000))
        await until(lambda: _waiting(h) == 1, 60, "the caller waiting in the operators' queue", caller)
        bridge = await h.ari.request("GET", f"/bridges/{h.ivr.queue.bridge_id}")
        [call] = calls(h)
        assert call.channel_id in bridge["channels"]
        assert bridge["bridge_type"] == "holding"
        with h.sessions() as s:
            [row] = s.scalars(select(QueueCall)).all()
        assert row.note.startswith("Hotline: Farhan, president, booth") and row.person_id == h.people["Farhan"]
        result = await caller
        assert result.hung_up_by == "caller"
        await until(lambda: _state(h) == "abandoned" and calls(h)[0].result is not None, 10,
                       "the queue entry and the call to close")
        [call] = calls(h)
        assert answers(h, call.id) == [("menu", "2", True), ("menu", "0", True)]
        assert call.result is not None and call.result.value == "transferred"
        assert h.ivr.queue.waiting == {}
    finally:
        await stop_harness(h)


async def test_unknown_number_goes_to_the_operator_queue_with_a_note(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        caller = asyncio.create_task(asyncio.to_thread(
            call_in, "9425098765", service=HOTLINE, sip_port=settings.asterisk.sip_port,
            workdir=tmp_path / "caller", hold_ms=15_000))
        await until(lambda: _waiting(h) == 1, 30, "the unknown caller waiting in the queue", caller)
        with h.sessions() as s:
            [row] = s.scalars(select(QueueCall)).all()
        assert row.note == "Unknown number ending 8765: not in the directory"
        assert row.person_id is None and row.caller_phone == "+919425098765"
        await caller
        await until(lambda: _state(h) == "abandoned" and calls(h)[0].result is not None, 10,
                       "the queue entry and the call to close")
        [call] = calls(h)
        assert call.person_id is None and call.result is not None and call.result.value == "transferred"
        assert await app_channels(h) == []
    finally:
        await stop_harness(h)


def _asking_menu_again() -> Until:
    """True when the menu is about to be asked for the second time (after the instructions)."""
    seen = {"menu": 0}

    def until(action: Action, engine: Engine) -> bool:
        if isinstance(action, Play) and action.prompt.key == "hotline/menu/text":
            seen["menu"] += 1
        return seen["menu"] == 2 and isinstance(action, Play) and action.prompt.key == "hotline/menu/text"

    return until


def _waiting(h: object) -> int:
    from tests.integration.dialer_harness import Harness

    assert isinstance(h, Harness)
    with h.sessions() as s:
        return len(s.scalars(select(QueueCall).where(QueueCall.state == "waiting")).all())


def _state(h: object) -> str | None:
    from tests.integration.dialer_harness import Harness

    assert isinstance(h, Harness)
    with h.sessions() as s:
        return s.scalar(select(QueueCall.state))
