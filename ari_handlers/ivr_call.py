"""One IVR call in our Stasis app: a campaign survey (outbound) or a hotline call (inbound).

The handler carries out what the script engine (:mod:`ivr_scripts.engine`) asks for — play a prompt,
wait for a key, record, store an answer, open a ticket, queue for an operator, hang up — and feeds the
call's events back to it. Every change of state (``phase@step``) is logged as a transition. One lock per
call (the handler's own); timers take the same lock, so nothing about one call runs twice at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.ari import AriClient, AriError
from ari_handlers import ivr_store as store
from ari_handlers.app import CallHandler
from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.ivr_info import load_info
from core.tasks import Tasks
from events.asterisk import (
    DtmfReceived,
    HangupRequested,
    PlaybackFinished,
    RecordingFailed,
    RecordingFinished,
    StasisEnded,
    StasisStarted,
)
from events.types import IvrAnswered
from ivr_scripts.actions import (
    Action,
    CheckPin,
    HangUp,
    JoinQueue,
    OpenTicket,
    OptOutMember,
    Play,
    SaveAnswer,
    StartRecording,
    StopPlay,
    WaitForKey,
)
from ivr_scripts.engine import Engine

log = logging.getLogger(__name__)


class IvrCall(CallHandler):
    """Stasis args: outbound ``dialer,<campaign>,<attempt>``; inbound ``hotline,<exten>,<person>,<booth>,
    <status>,<language>,<lookup status>`` (the FastAGI lookup's channel variables)."""

    initial_state = "new"

    def __init__(self, ari: AriClient, channel_id: str, args: list[str], deps: IvrDeps, direction: str) -> None:
        super().__init__(ari, channel_id, args)
        self.deps, self.direction = deps, direction
        self.engine: Engine | None = None
        self.info: store.CallInfo | None = None
        self.call_id: int | None = None
        self.playback_id: str | None = None
        self.recording: str | None = None
        self._recording_row: asyncio.Future[int] | None = None  # its row, written while the member speaks
        self.finished = False
        self._early: list[str] = []
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_gen = 0
        self._tasks = Tasks(f"call {channel_id}")

    # -- Asterisk events --------------------------------------------------------------------------
    async def on_StasisStarted(self, event: StasisStarted) -> None:
        self.deps.stats.started += 1
        self.deps.stats.live += 1
        try:
            info = await load_info(self.deps, self.direction, self.args, event, self.channel_id)
            script = (self.deps.library.get(self.deps.hotline_script) if self.direction == "inbound"
                      else self.deps.library.for_status(info.scripts, info.booth_status))
        except Exception:
            log.exception("call %s: cannot prepare the script; hanging up", self.channel_id)
            self.transition("failed", "script could not be prepared")
            await self._finish("script could not be prepared")
            await self.hangup()
            return
        self.info = info
        self.engine = Engine(script, info.language, info.context)
        self.call_id = await self.deps.db.run_for_caller(store.open_call, self.channel_id, info, script.name,
                                                         self.engine.language, self.deps.clock())
        self.transition("ready", f"script {script.name} ({self.engine.language}) for booth status "
                                 f"{info.booth_status or 'none'}")
        if self.direction == "inbound":
            await self.ari.request("POST", f"/channels/{self.channel_id}/answer")
        actions = self.engine.start()
        for key in self._early:
            actions += self.engine.digit(key)
        await self._run(actions, "script started")

    async def on_adopted(self, start: StasisStarted) -> None:
        """Answered while the ARI link was down: the person is on the line, hearing nothing. Start now.
        A call this service was already running when it stopped cannot resume midway: it ends partial."""
        if await self.deps.db.run(store.end_interrupted, self.channel_id, self.deps.clock()):
            self.finished = True
            self.transition("ended", "interrupted by a restart of the service: partial")
            await self.hangup()
            return
        await self.on_StasisStarted(start)

    async def on_DtmfReceived(self, event: DtmfReceived) -> None:
        key = event.digit
        if self.engine is None:
            self._early.append(key)
            return
        self._cancel_timer()
        await self._run(self.engine.digit(key), f"key {key}", received=time.monotonic())

    async def on_PlaybackFinished(self, event: PlaybackFinished) -> None:
        pid = event.playback_id
        if self.engine is not None and pid and pid == self.playback_id:
            self.playback_id = None
            await self._run(self.engine.played(), "prompt finished")

    async def on_RecordingFinished(self, event: RecordingFinished) -> None:
        await self._recording_over(event.name, "done", event.duration, event.talking)

    async def on_RecordingFailed(self, event: RecordingFailed) -> None:
        await self._recording_over(event.name, "failed")

    async def on_HangupRequested(self, event: HangupRequested) -> None:
        await self._finish("hung up")

    async def on_StasisEnded(self, event: StasisEnded) -> None:
        await self._finish("left the app")

    async def on_lost(self) -> None:
        await self._finish("channel gone while the ARI link was down")

    async def on_resumed(self) -> None:
        """The ARI link is back and the channel is still here: catch up on what we could not see."""
        if self.engine is None or self.finished:
            return
        if self.playback_id is not None and not await self._exists(f"/playbacks/{self.playback_id}"):
            self.playback_id = None
            await self._run(self.engine.played(), "prompt finished while the link was down")
        if self.recording is not None and not await self._exists(f"/recordings/live/{self.recording}"):
            await self._recording_over(self.recording, "done")

    # -- carrying out the engine's actions --------------------------------------------------------
    async def _run(self, actions: list[Action], why: str, received: float | None = None) -> None:
        assert self.engine is not None
        todo = list(actions)
        while todo and not self.finished:
            more = await self._do(todo.pop(0), received)
            todo = more + todo
        if self.engine.state != self.state and not self.finished:
            self.transition(self.engine.state, why)

    async def _do(self, action: Action, received: float | None) -> list[Action]:
        engine, deps = self.engine, self.deps
        assert engine is not None and self.call_id is not None
        if isinstance(action, Play):
            return await self._play(action)
        if isinstance(action, StopPlay):
            pid, self.playback_id = self.playback_id, None
            if pid:  # not awaited: under a burst of keys Asterisk takes ~100 ms to reply, and the answer need not wait
                self._tasks.spawn(self._stop_play(pid, received), "stop the prompt")
            return []
        if isinstance(action, WaitForKey):
            self._arm(action.seconds, self._no_key)
            return []
        if isinstance(action, SaveAnswer):
            at = deps.clock()
            await deps.db.run_for_caller(store.save_answer, self.call_id, step=action.step,
                                         question=action.question, key=action.key, value=action.value,
                                         valid=action.valid, at=at, number=action.number)
            deps.publish(IvrAnswered(self.call_id, action.step, action.value, action.number, action.valid, at))
            if received is not None:
                deps.stats.answer_latency.append(time.monotonic() - received)
            return []
        if isinstance(action, StartRecording):
            return await self._record(action)
        if isinstance(action, OptOutMember):
            if self.info is not None and self.info.person_id is not None:
                await deps.db.run_for_caller(store.opt_out, self.info.person_id, deps.clock())
            return []
        if isinstance(action, OpenTicket):
            try:
                number = await deps.tickets.open_with(store.ticket_from_call, self.call_id, action.category,
                                                      action.note_step, deps.clock())
            except Exception:
                log.exception("call %s: the ticket could not be opened", self.channel_id)
                number = None
            return engine.ticket_opened(number, action.category)
        if isinstance(action, CheckPin):
            info = self.info
            assert info is not None
            check, heard = await deps.db.run_for_caller(store.check_caller_pin, self.call_id, info.person_id,
                                                        action.digits, unit_id=info.instructions_unit,
                                                        language=engine.language, at=deps.clock())
            log.info("call %s: PIN %s", self.channel_id, "right" if check.ok else check.why)
            return engine.pin_checked(check.ok, check.why, heard)
        if isinstance(action, JoinQueue):
            info = self.info
            assert info is not None
            await deps.queue.enter(self.channel_id, note=action.note, language=engine.language, call_id=self.call_id,
                                   person_id=info.person_id, booth_id=info.booth_id, phone=info.phone)
            return []
        assert isinstance(action, HangUp)
        await self.hangup()
        return []

    async def _play(self, action: Play) -> list[Action]:
        assert self.engine is not None
        try:
            media = await self.deps.prompts.media(action.prompt)
        except Exception:
            log.exception("call %s: prompt %s could not be made; skipping it", self.channel_id, action.prompt.key)
            return self.engine.played()
        self._seq += 1
        pid = f"{self.channel_id}-p{self._seq}"
        self.playback_id = pid
        try:
            await self.ari.request("POST", f"/channels/{self.channel_id}/play/{pid}", media=media,
                                   lang=action.prompt.language)
        except AriError as exc:
            self.playback_id = None
            if exc.status == 404:  # the channel is gone; its hang-up events finish the call
                return []
            log.warning("call %s: playing %s failed (%s); skipping it", self.channel_id, action.prompt.key, exc)
            return self.engine.played()
        return []

    async def _stop_play(self, playback_id: str, received: float | None) -> None:
        await self._quietly("DELETE", f"/playbacks/{playback_id}")
        if received is not None:
            self.deps.stats.stop_latency.append(time.monotonic() - received)

    async def _record(self, action: StartRecording) -> list[Action]:
        assert self.engine is not None and self.call_id is not None
        deps = self.deps
        name = f"warroom/{self.call_id}-{action.step}-{uuid.uuid4().hex[:8]}"
        attempt_id = self.info.attempt_id if self.info else None
        # the row is written while Asterisk starts recording: waiting for it first (a busy database) would
        # lose the member's first words; the name is ours, and the row is in before the recording is closed
        self._recording_row = asyncio.ensure_future(deps.db.run_for_caller(
            store.recording_started, self.call_id, attempt_id, action.step, name, deps.recording_format,
            deps.clock()))
        self.recording = name
        try:
            await self.ari.request("POST", f"/channels/{self.channel_id}/record", name=name,
                                   format=deps.recording_format, maxDurationSeconds=action.max_seconds,
                                   maxSilenceSeconds=action.silence_seconds, beep=action.beep, ifExists="fail",
                                   terminateOn="#")
        except AriError as exc:
            log.warning("call %s: recording could not start: %s", self.channel_id, exc)
            await self._recording_over(name, "failed")
            return []
        # Asterisk stops at max_seconds itself; this only guards against a lost event
        self._arm(action.max_seconds + 15, self._stop_recording, timer_only=True)
        return []

    async def _stop_recording(self) -> None:
        if self.recording is not None:
            await self._quietly("POST", f"/recordings/live/{self.recording}/stop")

    async def _recording_over(self, name: str, state: str, duration: float | None = None,
                              talking: float | None = None) -> None:
        if not name or name != self.recording:
            return
        self.recording = None
        await self._row_written()
        if duration is None and self.deps.recordings_dir is not None:
            duration = store.wav_seconds(self.deps.recordings_dir / f"{name}.{self.deps.recording_format}")
        await self.deps.db.run(store.recording_ended, name, state=state, duration=duration,
                        talking=talking)
        if self.engine is not None and not self.finished:
            await self._run(self.engine.recorded(), f"recording {state}")

    async def _row_written(self) -> None:
        row, self._recording_row = self._recording_row, None
        if row is not None:
            try:
                await row
            except Exception:
                log.exception("call %s: the recording's row could not be written", self.channel_id)

    # -- timers -----------------------------------------------------------------------------------
    def _arm(self, seconds: float, fire: Callable[[], Awaitable[None]], *, timer_only: bool = False) -> None:
        """Arm the call's timer (a new one replaces the old); ``timer_only`` arms an independent guard that
        keys and other timers do not cancel (it checks for itself whether it is still needed)."""
        if not timer_only:
            self._cancel_timer()
        gen = -1 if timer_only else self._timer_gen
        handle = asyncio.get_running_loop().call_later(seconds, self._spawn_timer, gen, fire)
        if not timer_only:
            self._timer = handle

    def _spawn_timer(self, gen: int, fire: Callable[[], Awaitable[None]]) -> None:
        self._tasks.spawn(self._fire(gen, fire), "timer")

    async def _fire(self, gen: int, fire: Callable[[], Awaitable[None]]) -> None:
        async with self.lock:
            if self.finished or (gen != -1 and gen != self._timer_gen):
                return
            try:
                await fire()
            except Exception:
                log.exception("call %s: timer failed; hanging up", self.channel_id)
                await self.hangup()

    def _cancel_timer(self) -> None:
        self._timer_gen += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _no_key(self) -> None:
        assert self.engine is not None
        await self._run(self.engine.timeout(), "no key in time")

    # -- the end ----------------------------------------------------------------------------------
    async def _finish(self, why: str) -> None:
        if self.finished:
            return
        self.finished = True
        self.deps.stats.live -= 1
        self._cancel_timer()
        if self.recording is not None:  # hung up while speaking: the voice note is kept
            name, self.recording = self.recording, None
            await self._row_written()
            duration = (store.wav_seconds(self.deps.recordings_dir / f"{name}.{self.deps.recording_format}")
                        if self.deps.recordings_dir else None)
            await self.deps.db.run(store.recording_ended, name, state="done", duration=duration,
                            talking=None)
        if self.engine is None:
            self.transition("ended", why)
            return
        state, queued = self.engine.state, self.engine.phase == "queued"
        result = self.engine.hangup()
        self.deps.stats.results[result] = self.deps.stats.results.get(result, 0) + 1
        if queued:  # waiting for an operator, or with one: the queue and the operators' side let go
            await self.deps.queue.gone(self.channel_id)
        if self.call_id is not None:
            await self.deps.db.run(store.finish_call, self.call_id, result, state, self.deps.clock())
        self.transition("ended", f"{why}: {result}")

    # -- helpers ----------------------------------------------------------------------------------
    async def _exists(self, path: str) -> bool:
        try:
            await self.ari.request("GET", path)
        except AriError as exc:
            return exc.status != 404
        return True

    async def _quietly(self, method: str, path: str, **params: Any) -> None:
        try:
            await self.ari.request(method, path, **params)
        except AriError as exc:
            log.debug("call %s: %s %s: %s", self.channel_id, method, path, exc)
