"""Caller ID is not proof, and operators' calls are recorded with notice (issue 13, findings 3 and 9), through
real Asterisk and SIPp callers:

- three callers at once from a member's number: one without the PIN asks for the instructions (never played)
  and one reports a problem (the ticket says "unverified"), while one with the PIN hears them; a fourth
  dials the hotline with commas in the number, trying to pass as that member: the Stasis arguments do not
  shift, the caller stays unknown;
- a hotline call taken by an operator is recorded with MixMonitor after the notice: a WAV with sound in it,
  linked to the queue entry; a supervisor plays it over HTTP (audited), an operator is refused (403), and
  erasing the caller deletes the file and the row."""

from __future__ import annotations

import array
import asyncio
import re
import uuid
import wave
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.service import add_user
from ari_handlers.ivr_store import wav_seconds
from audit.log import Actor
from db.audit import AuditEntry
from db.ivr import IvrCall
from db.models import utcnow
from db.operators import OperatorState
from db.security import CallRecording
from db.tickets import Ticket
from events.asterisk import PlaybackStarted, StasisStarted
from events.types import OperatorCall
from hotline.lookup import add_instruction
from hotline.pins import set_pin
from ivr_scripts.actions import Prompt
from ivr_scripts.engine import Engine
from operators.recordings import NOTICE
from operators.softphones import FILENAME
from operators.states import change
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import _info, booth_directory, calls, seconds_until
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"
FARHAN = "09826012345"
PIN = "4719"
SECRET = "गेट तीन पर सुबह छह बजे पहुँचें।"


async def test_the_hotline_reads_instructions_only_after_the_pin_and_marks_unverified_tickets(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    played: dict[str, list[str]] = {}
    started: dict[str, tuple[str, ...]] = {}
    h.bus.subscribe(PlaybackStarted, lambda e: played.setdefault(e.channel_id, []).append(e.media_uri))
    h.bus.subscribe(StasisStarted, lambda e: started.__setitem__(e.channel_id, e.args))
    try:
        farhan = h.people["Farhan"]
        with h.sessions.begin() as s:
            add_instruction(s, SECRET, unit_id=h.people["booth:Farhan"], language="hi", by="hq")
            set_pin(s, farhan, PIN, by="sup", at=utcnow())
        # what the instructions sound like, as a call of Farhan's would play them
        info = h.service.db.transaction(_info, farhan)
        script = h.ivr.library.get("hotline")
        engine = Engine(script, info.language, {**info.context, "instructions": SECRET})
        secret_media, _path = await h.ivr.prompts.made(engine.prompt(script.step("instructions"), "text"))
        before = await seconds_until(h.ivr, h.sessions, farhan, "hotline", "13")
        port = iter(range(15091, 15099))

        def caller(number: str, digits: str, name: str, service: str = HOTLINE, **kw: int) -> asyncio.Task[object]:
            return asyncio.create_task(asyncio.to_thread(
                call_in, number, service=service, sip_port=settings.asterisk.sip_port, workdir=tmp_path / name,
                delay_ms=1000, local_port=next(port), media_port=16600 + 20 * len(name), digits=digits, **kw))

        spoofed = caller(FARHAN, "21111#", "spoofed", gap_ms=1200, hold_ms=16_000)
        reporter = caller(FARHAN, "13", "reporter", gap_ms=1500, voice_ms=int(before * 1000) + 1500,
                          hold_ms=60_000)
        member = caller(FARHAN, f"2{PIN}#", "member", gap_ms=1200, hold_ms=22_000)
        # a number dialed with commas: without the filter they would become the member's id and booth
        forged = f"{HOTLINE},{farhan},{h.people['booth:Farhan']},swing,hi,KNOWN"
        comma = caller("9425098765", "", "comma", service=forged, hold_ms=6_000)
        results = await asyncio.gather(spoofed, reporter, member, comma)
        assert all(r.exit_code == 0 for r in results), results  # type: ignore[attr-defined]
        await until(lambda: len(calls(h)) == 4 and all(c.result is not None for c in calls(h)), 15,
                    "the four calls' results")
        by_phone: dict[str | None, list[IvrCall]] = {}
        for call in calls(h):
            by_phone.setdefault(call.caller_phone, []).append(call)
        [forged_call] = by_phone["+919425098765"]
        assert forged_call.person_id is None and forged_call.booth_id is None, "the commas made no member"
        args = started[forged_call.channel_id]
        assert len(args) == 7 and args[1] == f"{HOTLINE}{farhan}{h.people['booth:Farhan']}", args
        assert args[2:5] == ("", "", "") and args[6] == "UNKNOWN", args
        with h.sessions() as s:
            [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.reporter_id == farhan and ticket.reporter_verified is False, "caller ID alone proves nothing"
        member_calls = by_phone["+919826012345"]
        verified = [c for c in member_calls if c.caller_verified]
        assert len(verified) == 1 and verified[0].id != ticket.call_id
        heard = {c.id: secret_media in played.get(c.channel_id, []) for c in member_calls}
        assert heard == {c.id: c.caller_verified for c in member_calls}, (heard, played)
    finally:
        await stop_harness(h)


def _loud(path: Path) -> float:
    """The WAV's RMS level (16-bit samples)."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        samples = array.array("h", w.readframes(w.getnframes()))
    return (sum(x * x for x in samples) / max(1, len(samples))) ** 0.5


def _sign_in(client: TestClient, user: str, password: str) -> None:
    page = client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    resp = client.post("/signin", data={"username": user, "password": password, "csrf_token": csrf.group(1),
                                        "next": "/"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text


async def test_an_operators_call_is_recorded_after_the_notice_played_by_supervisors_only_and_erased(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    recording = settings.model_copy(update={"privacy": settings.privacy.model_copy(update={"record_hotline": True})})
    h = await start_harness(recording, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    events: list[OperatorCall] = []
    connected_at = []
    h.bus.subscribe(OperatorCall, events.append)
    h.bus.subscribe(OperatorCall, lambda e: connected_at.append(h.dialer.clock()) if e.what == "connected" else None)
    run = uuid.uuid4().hex[:6]
    try:
        with h.sessions.begin() as s:
            op = add_user(s, f"op{run}", "operator", "Operator-pass-1", "Asha Devi")
            add_user(s, f"sup{run}", "supervisor", "Supervisor-pass-1", "Super Visor")
            op_id, endpoint, secret = op.id, op.sip_username, op.sip_secret
        assert await h.softphones.sync()
        assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings.asterisk.sip_port,
                                       workdir=tmp_path / "softphone",
                                       local_port=settings.asterisk.farm_port) == "registered"
        # the operator answers, speaks after 4 s (the notice is over by then) and hangs up after 10 s
        phone_farm({endpoint: Behaviour("answer", hold_ms=10_000, delay_ms=300, voice_ms=4_000)})
        with h.sessions.begin() as s:
            change(s, op_id, OperatorState.ready, registered=await h.softphones.registered(endpoint))
        result = await asyncio.to_thread(call_in, FARHAN, service=HOTLINE, sip_port=settings.asterisk.sip_port,
                                         workdir=tmp_path / "caller", digits="0", delay_ms=1500, hold_ms=40_000)
        assert result.exit_code == 0 and result.hung_up_by == "war room", result
        assert [e.what for e in events][:2] == ["ringing", "connected"]

        def finished() -> CallRecording | None:
            with h.sessions() as s:
                return s.scalars(select(CallRecording).where(CallRecording.state != "recording")).first()

        await until(lambda: finished() is not None, 10, "the recording to be closed")
        row = finished()
        assert row is not None and row.state == "done" and row.source == "hotline" and row.queue_call_id
        assert row.user_id == op_id and row.person_id == h.people["Farhan"]
        _uri, notice = await h.ivr.prompts.made(Prompt("recording/notice/text", NOTICE["hi"], "hi"))
        assert notice.exists(), "the notice was made (and played on the call's bridge)"
        waited = (row.started_at - connected_at[0]).total_seconds()
        assert waited >= (wav_seconds(notice) or 1), f"recording began {waited:.1f} s after the call was connected"
        assert h.ivr.recordings_dir is not None
        path = h.ivr.recordings_dir / row.filename
        assert path.is_file() and row.duration is not None and row.duration >= 3
        assert _loud(path) > 300, "the recording holds the call's sound, not silence"

        client = TestClient(h.service.app)
        _sign_in(client, f"sup{run}", "Supervisor-pass-1")
        listed = client.get("/api/recordings").json()
        assert [r["id"] for r in listed] == [row.id] and listed[0]["queue_call_id"] == row.queue_call_id
        audio = client.get(f"/api/recordings/{row.id}/audio")
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF" and audio.content == path.read_bytes()
        with h.sessions() as s:
            [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "recording.play")).all()
        assert entry.actor == f"sup{run}" and entry.target == f"recording:{row.id}"
        operator = TestClient(h.service.app)
        _sign_in(operator, f"op{run}", "Operator-pass-1")
        assert operator.get(f"/api/recordings/{row.id}/audio").status_code == 403
        assert operator.get("/api/recordings").status_code == 403

        done = await h.service.privacy.erase(FARHAN, actor=Actor.cli())
        assert done["call_recordings"] == 1
        assert not path.exists(), "the recording's file is gone"
        with h.sessions() as s:
            assert s.scalars(select(CallRecording)).all() == []
    finally:
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)
