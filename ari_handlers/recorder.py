"""Recording an operator's call with MixMonitor, after a spoken notice.

Once caller and operator are bridged, both hear "this call may be recorded" (played on their bridge); then a
Local channel joins the bridge (``Local/rec-<name>@warroom-record/n``: its half in our app is added to the
bridge, its other half runs ``MixMonitor`` in the dialplan and hears the bridge's mix, so the file holds both
parties). Our AMI user has no "system" right, so MixMonitor is started from the dialplan, never by AMI. The
recorder leaves when the call ends; its row (``call_recordings``) is then closed with the file's length."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from adapters.ari import AriClient, AriError
from ari_handlers.ivr_store import wav_seconds
from core.tasks import Tasks
from db.engine import Database
from db.models import utcnow
from events.asterisk import ChannelDestroyed, StasisEvent, StasisStarted
from ivr_scripts.actions import Prompt
from operators.recordings import NOTICE, RecordingPlan, recording_ended, recording_plan, recording_started
from speech.prompts import PromptStore

log = logging.getLogger(__name__)
CONTEXT = "warroom-record"
FOLDER = "warroom/calls"


@dataclass
class Recorder:
    leg: str          # the Local channel's half in our app (it joins the bridge)
    name: str         # warroom/calls/<id>, under the recordings directory
    bridge_id: str
    caller: str
    joined: bool = False
    gone: bool = False


class CallRecorder:
    """Records operators' calls that should be (``record_hotline``: the hotline's; a campaign's own switch for
    its calls)."""

    def __init__(self, ari: AriClient, db: Database, prompts: PromptStore, recordings_dir: Path | None, *,
                 record_hotline: bool = False, clock: Callable[[], datetime] = utcnow) -> None:
        self.ari, self.db, self.prompts, self.recordings_dir = ari, db, prompts, recordings_dir
        self.record_hotline, self.clock = record_hotline, clock
        self.by_leg: dict[str, Recorder] = {}
        self.by_caller: dict[str, Recorder] = {}
        self._pending: set[str] = set()  # callers hearing the notice (their recorder is not there yet)
        self._tasks = Tasks("call recorder")

    async def plan(self, queue_call_id: int) -> RecordingPlan | None:
        return await self.db.run(recording_plan, queue_call_id, hotline=self.record_hotline)

    def begin(self, plan: RecordingPlan, *, caller: str, bridge_id: str, user_id: int, language: str) -> None:
        """Say the notice on the call's bridge, then record it (in the background: the call goes on)."""
        self._pending.add(caller)
        self._tasks.spawn(self._begin(plan, caller, bridge_id, user_id, language), f"record {caller}")

    async def _begin(self, plan: RecordingPlan, caller: str, bridge_id: str, user_id: int, language: str) -> None:
        prompt = Prompt("recording/notice/text", NOTICE.get(language, NOTICE["en"]), language)
        try:
            media, path = await self.prompts.made(prompt)
            await self.ari.request("POST", f"/bridges/{bridge_id}/play/notice-{uuid.uuid4().hex[:12]}", media=media)
        except Exception as exc:  # no notice, no recording
            self._pending.discard(caller)
            log.warning("recording: the notice could not be played on %s (%s): not recorded", bridge_id, exc)
            return
        await asyncio.sleep(float(wav_seconds(path) or 3) + 0.3)  # the notice is heard in full first
        if caller not in self._pending:  # the call ended meanwhile
            return
        self._pending.discard(caller)
        tail = uuid.uuid4().hex[:16]
        name, leg = f"{FOLDER}/{tail}", f"rec-{tail}"
        rec = Recorder(leg, name, bridge_id, caller)
        await self.db.run(recording_started, plan, name=name, channel_id=caller, user_id=user_id, at=self.clock())
        self.by_leg[leg], self.by_caller[caller] = rec, rec
        try:
            await self.ari.request("POST", f"/channels/{leg}", endpoint=f"Local/rec-{tail}@{CONTEXT}/n",
                                   app=self.ari.config.app, appArgs=f"recorder,{caller}", timeout=10)
        except AriError as exc:
            log.warning("recording: the recorder for %s could not start (%s)", caller, exc)
            await self._closed(rec, "failed")
            return
        log.info("recording: %s's call is recorded as %s", caller, name)

    def owns(self, channel_id: str) -> bool:
        return channel_id in self.by_leg

    async def on_event(self, event: StasisEvent) -> None:
        """The recorder's leg answered (joins the bridge) or is gone (the row is closed)."""
        rec = self.by_leg.get(event.channel_id)
        if rec is None:
            return
        if isinstance(event, StasisStarted):
            if rec.gone:
                await self._hangup(rec.leg)
                return
            try:
                await self.ari.request("POST", f"/bridges/{rec.bridge_id}/addChannel", channel=rec.leg)
                rec.joined = True
            except AriError as exc:
                log.warning("recording: %s could not join %s (%s)", rec.leg, rec.bridge_id, exc)
                await self._hangup(rec.leg)
        elif isinstance(event, ChannelDestroyed):
            self.by_leg.pop(rec.leg, None)
            self._tasks.spawn(self._closed(rec, "done" if rec.joined else "failed"), f"close {rec.name}")

    async def stop(self, caller: str) -> None:
        """The call is over: the recorder leaves (its file is then complete)."""
        rec = self.by_caller.get(caller)
        if rec is None:
            self._pending.discard(caller)
            return
        rec.gone = True
        await self._hangup(rec.leg)

    async def _closed(self, rec: Recorder, state: str) -> None:
        self.by_leg.pop(rec.leg, None)
        self.by_caller.pop(rec.caller, None)
        await asyncio.sleep(0.5)  # MixMonitor finishes its file as the channel goes
        duration = (wav_seconds(self.recordings_dir / f"{rec.name}.wav") if self.recordings_dir else None)
        await self.db.run(recording_ended, rec.name, state=state, duration=duration, at=self.clock())
        log.info("recording: %s %s (%s s)", rec.name, state, duration)

    async def _hangup(self, channel: str) -> None:
        try:
            await self.ari.request("DELETE", f"/channels/{channel}")
        except AriError as exc:
            log.debug("recording: hang-up of %s: %s", channel, exc)

    async def close(self) -> None:
        for rec in list(self.by_leg.values()):
            await self._hangup(rec.leg)
        await self._tasks.cancel_all()
