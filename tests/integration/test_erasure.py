"""Erasure through real Asterisk: a member calls the hotline and leaves a voice note (a ticket, an IVR call,
a recording on disk, Asterisk's CDR records); the service built as ``warroom serve`` builds it erases them,
and no copy of their number is left in the database, the recordings or the CDR files, which Asterisk goes
on writing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from audit.log import Actor
from db.ivr import IvrRecording
from privacy.cdr import cdr_files
from privacy.phones import PhonePattern
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.cdr import read_cdr
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory, calls, seconds_until
from tests.unit.test_privacy import full_scan
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"
FARHAN = "+919826012345"


async def test_a_caller_is_erased_from_the_database_recordings_and_cdr(sandbox: Sandbox, settings: Settings,
                                                                     tmp_path: Path) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    number = PhonePattern.of(FARHAN)
    try:
        assert h.ivr is not None and h.service.privacy.cdr_dir == sandbox.log_dir()
        before = await seconds_until(h.ivr, h.sessions, h.people["Farhan"], "hotline", "13")
        result = await asyncio.to_thread(call_in, "09826012345", service=HOTLINE,
                                         sip_port=settings.asterisk.sip_port, workdir=tmp_path / "caller",
                                         digits="13", delay_ms=1000, gap_ms=1500,
                                         voice_ms=int(before * 1000) + 1500, hold_ms=90_000)
        assert result.exit_code == 0, result
        await until(lambda: bool(calls(h)) and calls(h)[0].result is not None, 10, "the call's result")
        [call] = calls(h)
        await until(lambda: call.channel_id in {r.uniqueid for r in read_cdr(sandbox.log_dir())}, 10,
                    "Asterisk's CDR record of the call")
        recordings = h.ivr.recordings_dir
        with h.sessions() as s:
            notes = [recordings / r.filename for r in s.scalars(select(IvrRecording))] if recordings else []
        assert notes and all(p.exists() for p in notes)
        assert full_scan(h.service.db.engine, number.regex), "the call is on record"
        files = list(cdr_files(sandbox.log_dir()))
        inodes = {p: p.stat().st_ino for p in files}

        done = await h.service.privacy.erase("098260 12345", actor=Actor.cli())
        assert done["person_id"] == h.people["Farhan"] and done["recording_files"] >= 1 and done["cdr_records"] >= 2
        assert full_scan(h.service.db.engine, number.regex, "Farhan") == []
        assert not any(p.exists() for p in notes), "the voice note's file is gone"
        for path in files:
            assert not number.found(path.read_text(errors="replace")), path
            assert path.stat().st_ino == inodes[path], "rewritten in place"

        # Asterisk goes on writing its records into the same files
        again = await asyncio.to_thread(call_in, "09100000001", service=HOTLINE,
                                        sip_port=settings.asterisk.sip_port, workdir=tmp_path / "again",
                                        digits="2", delay_ms=1000, hold_ms=6_000)
        assert again.exit_code == 0, again
        await until(lambda: len(calls(h)) == 2 and calls(h)[1].result is not None, 20, "the second call")
        second = calls(h)[1].channel_id
        await until(lambda: second in {r.uniqueid for r in read_cdr(sandbox.log_dir())}, 10,
                    "the next call's CDR record, in the rewritten file")
        assert any("9100000001" in p.read_text() for p in files)
    finally:
        await stop_harness(h)
