"""An answered broadcast call (Stasis args ``broadcast,<attempt>``): the person hears their own message (their
name spliced before the leader's recording, as the preview renders it), then the menu: 1 hear it again, 2
leave a voice message for the leader (recorded, kept with their AC and booth), 3 talk to an operator (the
operators' queue), 9 never be called again (the opt-out every campaign honours). When the call leaves the
app its attempt is settled with one outcome (``outreach.broadcast.outcome``: a call with no voice and no key,
or gone within 2 s, is ``guarded``, counted apart from listens) and its line is freed. A call already in the app
when the service started (it restarted under the call) is hung up and left to the broadcast reconcile."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.ari import AriClient, AriError
from ari_handlers.app import CallHandler, HandlerFactory
from ari_handlers.queue import OperatorQueue
from core.tasks import Tasks
from db.engine import Database
from db.models import utcnow
from events.asterisk import (
    DtmfReceived,
    PlaybackFinished,
    RecordingFailed,
    RecordingFinished,
    StasisEnded,
    StasisStarted,
    TalkingStarted,
)
from ivr_scripts.actions import Prompt
from outreach import broadcast
from outreach.recordings import Messages
from speech.prompts import PromptStore

log = logging.getLogger(__name__)
TEXTS = {
    "menu": {"hi": "संदेश फिर सुनने के लिए 1 दबाएँ। अपना संदेश छोड़ने के लिए 2 दबाएँ। किसी साथी से बात करने के लिए 3 "
                   "दबाएँ। आगे कॉल न पाने के लिए 9 दबाएँ।",
             "en": "Press 1 to hear the message again, 2 to leave a message, 3 to talk to us, "
                   "9 not to be called again."},
    "record": {"hi": "बीप के बाद अपना संदेश बोलें, फिर # दबाएँ।",
               "en": "Speak your message after the tone, then press hash."},
    "thanks": {"hi": "धन्यवाद। नमस्कार।", "en": "Thank you. Goodbye."},
    "opted_out": {"hi": "आपको आगे कॉल नहीं किया जाएगा। नमस्कार।", "en": "You will not be called again. Goodbye."},
}


@dataclass
class BroadcastDeps:
    """What every broadcast call needs, built once by the composition root."""

    db: Database
    messages: Messages
    prompts: PromptStore
    queue: OperatorQueue
    opt_out: Callable[[str], Awaitable[object]]   # the phone: never called again (source keypad)
    ended: Callable[[int], None]                 # the attempt's line is free
    rendered: Path                               # where per-person messages are rendered
    recording_format: str = "wav"
    menu_wait: float = 8.0
    max_message_seconds: int = 60
    seconds: Callable[[], float] = time.monotonic   # a monotonic clock: how long the person stayed
    unseen: Callable[[int], None] = lambda attempt_id: None  # its end was not seen: settled from Asterisk's record


class BroadcastCall(CallHandler):
    initial_state = "new"

    def __init__(self, ari: AriClient, channel_id: str, args: list[str], deps: BroadcastDeps) -> None:
        super().__init__(ari, channel_id, args)
        self.deps = deps
        self.attempt_id = int(args[0]) if args and args[0].isdigit() else None
        self.info: broadcast.CallInfo | None = None
        self.answered = deps.seconds()
        self.voice = False
        self.keys = ""
        self.replied = self.opted = self.to_operator = False
        self.playing: str | None = None
        self.recording: str | None = None
        self.message_uri = ""
        self._seq = 0
        self._tasks = Tasks(f"broadcast call {channel_id}")
        self._timer: asyncio.Task[None] | None = None
        self.done = False
        self.adopted = False   # in our app before this run: hung up, settled by the broadcast reconcile

    @property
    def language(self) -> str:
        return self.info.language if self.info and self.info.language in ("hi", "en") else "hi"

    async def on_StasisStarted(self, event: StasisStarted) -> None:
        self.answered = self.deps.seconds()
        if self.attempt_id is None:
            await self.hangup()
            return
        self.info = await self.deps.db.run(broadcast.call_info, self.attempt_id)
        if self.info is None or not self.info.recording:
            self.transition("ended", "no attempt or no recording")
            await self.hangup()
            return
        out = self.deps.rendered / f"{self.attempt_id}.wav"
        try:
            await self.deps.messages.render(self.info.recording, self.info.name, self.language, out)
            self.message_uri = await self.deps.prompts.media(
                Prompt("broadcast/message/text", "", self.language, file=str(out)))
        except Exception:
            log.exception("broadcast %s: the message could not be rendered", self.attempt_id)
            await self.hangup()
            return
        self.transition("message", "answered: playing the person's message")
        await self._play_uri(self.message_uri)

    async def _play_uri(self, uri: str) -> None:
        self._seq += 1
        pid = f"{self.channel_id}-p{self._seq}"
        self.playing = pid
        try:
            await self.ari.request("POST", f"/channels/{self.channel_id}/play/{pid}", media=uri)
        except AriError as exc:
            self.playing = None
            log.info("broadcast %s: play: %s", self.channel_id, exc)

    async def _say(self, what: str) -> None:
        uri = await self.deps.prompts.media(Prompt(f"broadcast/{what}/text", TEXTS[what][self.language],
                                                   self.language))
        await self._play_uri(uri)

    async def on_PlaybackFinished(self, event: PlaybackFinished) -> None:
        if event.playback_id != self.playing:
            return
        self.playing = None
        if self.state == "message":
            self.transition("menu", "message played: the menu")
            await self._say("menu")
        elif self.state == "menu":
            self._arm(self.deps.menu_wait, self._no_key)
        elif self.state == "recording-prompt":
            await self._record()
        elif self.state == "closing":
            await self.hangup()

    async def _no_key(self) -> None:
        async with self.lock:
            if self.state == "menu" and not self.done:
                self.transition("closing", f"no key within {self.deps.menu_wait:.0f}s")
                await self._say("thanks")

    async def on_TalkingStarted(self, event: TalkingStarted) -> None:
        self.voice = True

    async def on_DtmfReceived(self, event: DtmfReceived) -> None:
        self.keys += event.digit
        if self.state not in ("message", "menu"):
            if self.state == "recording" and event.digit == "#":
                await self._quietly("POST", f"/recordings/live/{self.recording}/stop")
            return
        self._disarm()
        if self.playing:
            await self._quietly("DELETE", f"/playbacks/{self.playing}")
            self.playing = None
        info = self.info
        assert info is not None
        if event.digit == "1":
            self.transition("message", "key 1: the message again")
            await self._play_uri(self.message_uri)
        elif event.digit == "2":
            self.transition("recording-prompt", "key 2: a voice message for the leader")
            await self._say("record")
        elif event.digit == "3":
            self.to_operator = True
            self.transition("operator", "key 3: to the operators' queue")
            note = f"Broadcast call: {info.name or 'voter'}" + (f", AC {info.ac_no}" if info.ac_no else "") + (
                f", booth {info.booth}" if info.booth else "")
            await self.deps.queue.enter(self.channel_id, note=note, language=self.language, call_id=None,
                                        person_id=None, booth_id=None, phone=info.phone)
        elif event.digit == "9":
            self.opted = True
            await self.deps.opt_out(info.phone)
            self.transition("closing", "key 9: opted out")
            await self._say("opted_out")
        else:
            self.transition("menu", f"key {event.digit}: not on the menu")
            await self._say("menu")

    async def _record(self) -> None:
        name = f"outreach/{self.attempt_id}-{uuid.uuid4().hex[:8]}"
        self.recording = name
        self.transition("recording", "recording the voice message")
        try:
            await self.ari.request("POST", f"/channels/{self.channel_id}/record", name=name,
                                   format=self.deps.recording_format, maxDurationSeconds=self.deps.max_message_seconds,
                                   maxSilenceSeconds=5, beep=True, ifExists="fail", terminateOn="#")
        except AriError as exc:
            log.warning("broadcast %s: recording could not start: %s", self.channel_id, exc)
            self.recording = None
            self.transition("closing", "recording failed")
            await self._say("thanks")

    async def _recording_over(self, name: str, seconds: float | None) -> None:
        if name != self.recording or self.info is None:
            return
        self.recording = None
        self.replied = True
        await self.deps.db.run(broadcast.save_reply, self.info, name, utcnow(), seconds)

    async def on_RecordingFinished(self, event: RecordingFinished) -> None:
        await self._recording_over(event.name, event.duration)
        if not self.done and self.state == "recording":
            self.transition("closing", "voice message kept")
            await self._say("thanks")

    async def on_RecordingFailed(self, event: RecordingFailed) -> None:
        if event.name == self.recording:
            self.recording = None
            self.transition("closing", f"recording failed: {event.cause}")
            await self._say("thanks")

    async def on_adopted(self, start: StasisStarted) -> None:
        """A call that entered the app unseen (the service restarted under it, or the ARI link was down): what
        the person did is not known here, so it is hung up and settled from Asterisk's record of its end."""
        self.adopted = True
        await super().on_adopted(start)

    async def on_lost(self) -> None:
        """The call left the app while the ARI link was down: settled from Asterisk's record of its end."""
        await super().on_lost()
        self._unseen()

    def _unseen(self) -> None:
        if not self.done and self.attempt_id is not None:
            self.done = True
            self._disarm()
            self.deps.unseen(self.attempt_id)

    async def on_StasisEnded(self, event: StasisEnded) -> None:
        if self.adopted:
            self._unseen()
            return
        if self.done:
            return
        self.done = True
        self._disarm()
        if self.recording is not None:  # hung up while speaking: the message is kept
            await self._recording_over(self.recording, None)
        if self.to_operator:
            await self.deps.queue.gone(self.channel_id)
        if self.attempt_id is not None:
            heard = broadcast.Heard(self.deps.seconds() - self.answered, voice=self.voice, keys=self.keys,
                                    replied=self.replied, opted_out=self.opted, operator=self.to_operator)
            result = broadcast.outcome(heard)
            await self.deps.db.run(broadcast.settle, self.attempt_id, result, round(heard.seconds, 1))
            self.deps.ended(self.attempt_id)
            self.transition("ended", f"left the app: {result}")

    # -- helpers -----------------------------------------------------------------------------------------
    def _arm(self, seconds: float, fire: Callable[[], Awaitable[None]]) -> None:
        self._disarm()

        async def later() -> None:
            await asyncio.sleep(seconds)
            await fire()
        self._timer = self._tasks.spawn(later(), "menu timer")

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _quietly(self, method: str, path: str, **params: object) -> None:
        try:
            await self.ari.request(method, path, **params)
        except AriError as exc:
            log.info("broadcast %s: %s %s: %s", self.channel_id, method, path, exc)


def broadcast_factory(deps: BroadcastDeps) -> HandlerFactory:
    def make(ari: AriClient, channel_id: str, args: list[str]) -> CallHandler:
        return BroadcastCall(ari, channel_id, args, deps)
    return make
