"""The operators' queue: callers waiting for a person (a hotline caller who pressed 0, an unknown number,
a survey that offered an operator). They wait in one holding bridge, hear a hold message now and then, and
are recorded in ``queue_calls`` with the note the operator will see. Operators take calls from here (the
operators' console builds that side)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from adapters.ari import AriClient, AriError
from db.engine import Database
from db.ivr import QueueCall
from db.models import utcnow
from ivr_scripts.actions import Prompt
from speech.prompts import PromptStore

log = logging.getLogger(__name__)

HOLD_TEXT = {"hi": "कृपया लाइन पर बने रहें, वार रूम का अगला साथी आपसे बात करेगा।",
             "en": "Please stay on the line; the next person in the war room will talk to you."}


@dataclass
class Waiting:
    channel_id: str
    row_id: int
    note: str
    language: str
    progressive: bool = False  # an answered campaign call waiting for its operator (it does not wait long)
    entered: float = field(default_factory=time.monotonic)
    hold_task: asyncio.Task[None] | None = None
    playback_id: str | None = None  # the hold message playing now

    @property
    def waited(self) -> float:
        return time.monotonic() - self.entered


class OperatorQueue:
    """Holding bridge + queue rows. ``enter`` and ``leave`` are called by the call's handler."""

    def __init__(self, ari: AriClient, db: Database, prompts: PromptStore, *,
                 bridge_id: str = "warroom-queue", hold_every: float = 20.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.ari, self.db, self.prompts, self.clock = ari, db, prompts, clock
        self.bridge_id, self.hold_every = bridge_id, hold_every
        self.waiting: dict[str, Waiting] = {}
        # told ("entered" | "gone", channel id): the operators' dispatcher follows the queue through these
        self.listeners: list[Callable[[str, str], Awaitable[None]]] = []

    async def _tell(self, what: str, channel_id: str) -> None:
        for listener in self.listeners:
            try:
                await listener(what, channel_id)
            except Exception:
                log.exception("queue: listener failed on %s %s", what, channel_id)

    async def _bridge(self) -> None:
        """Create the holding bridge unless Asterisk has it (it is gone after an Asterisk restart)."""
        try:
            await self.ari.request("GET", f"/bridges/{self.bridge_id}")
            return
        except AriError as exc:
            if exc.status != 404:
                raise
        try:
            await self.ari.request("POST", f"/bridges/{self.bridge_id}", type="holding", name="operators' queue")
        except AriError as exc:
            if exc.status != 409:  # made by a call entering the queue at the same moment
                raise

    async def enter(self, channel_id: str, *, note: str, language: str, call_id: int | None,
                    person_id: int | None, booth_id: int | None, phone: str | None,
                    attempt_id: int | None = None, hold_message: bool = True) -> None:
        """Put the channel in the queue bridge and record it waiting (``attempt_id``: a progressive
        campaign's answered call)."""
        row = QueueCall(channel_id=channel_id, call_id=call_id, person_id=person_id, booth_id=booth_id,
                        caller_phone=phone, note=note, state="waiting", entered_at=self.clock(),
                        attempt_id=attempt_id)

        def add(session: Session) -> int:
            session.add(row)
            session.flush()
            return row.id

        row_id = await self.db.run(add)
        entry = Waiting(channel_id, row_id, note, language, progressive=attempt_id is not None)
        self.waiting[channel_id] = entry
        await self._bridge()
        await self.ari.request("POST", f"/bridges/{self.bridge_id}/addChannel", channel=channel_id,
                               role="participant")
        if hold_message:
            entry.hold_task = asyncio.create_task(self._hold(entry), name=f"hold-{channel_id}")
        log.info("queue: %s waiting (%s)", channel_id, note or "no note")
        await self._tell("entered", channel_id)

    async def _hold(self, entry: Waiting) -> None:
        prompt = Prompt("queue/hold/text", HOLD_TEXT.get(entry.language, HOLD_TEXT["en"]), entry.language)
        try:
            media = await self.prompts.media(prompt)
            played = 0
            while entry.channel_id in self.waiting:
                played += 1
                entry.playback_id = f"hold-{entry.channel_id}-{played}"
                try:
                    await self.ari.request("POST", f"/channels/{entry.channel_id}/play/{entry.playback_id}",
                                           media=media)
                except AriError as exc:
                    if exc.status == 404:
                        return
                    log.warning("queue: hold message for %s: %s", entry.channel_id, exc)
                await asyncio.sleep(self.hold_every)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("queue: hold loop for %s failed", entry.channel_id)

    async def quiet(self, channel_id: str) -> None:
        """Stop the hold message now (an operator took the call: a channel playing media moves to the
        operator's bridge only once the message ends)."""
        entry = self.waiting.get(channel_id)
        if entry is None:
            return
        if entry.hold_task:
            entry.hold_task.cancel()
        if entry.playback_id is not None:
            try:
                await self.ari.request("DELETE", f"/playbacks/{entry.playback_id}")
            except AriError as exc:
                log.debug("queue: hold message of %s: %s", channel_id, exc)  # already over
            entry.playback_id = None

    async def leave(self, channel_id: str, state: str = "abandoned") -> None:
        """The caller left the queue: taken by an operator (``answered``) or gone (``abandoned``)."""
        entry = self.waiting.pop(channel_id, None)
        if entry is None:
            return
        if entry.hold_task:
            entry.hold_task.cancel()
        at = self.clock()

        def close(session: Session) -> None:
            session.execute(update(QueueCall).where(QueueCall.id == entry.row_id, QueueCall.state == "waiting")
                            .values(state=state, left_at=at))

        await self.db.run(close)
        log.info("queue: %s left (%s after %.0fs)", channel_id, state, entry.waited)

    async def gone(self, channel_id: str) -> None:
        """The caller's channel is gone (waiting or already with an operator)."""
        await self.leave(channel_id, "abandoned")
        await self._tell("gone", channel_id)

    def oldest_first(self) -> list[Waiting]:
        return sorted(self.waiting.values(), key=lambda w: w.entered)

    async def abandon_stale(self) -> int:
        """At start-up: rows left ``waiting`` by a previous run have no caller any more."""
        at = self.clock()

        def close(session: Session) -> int:
            res = session.execute(update(QueueCall).where(QueueCall.state == "waiting")
                                  .values(state="abandoned", left_at=at))
            return int(getattr(res, "rowcount", 0) or 0)

        return await self.db.run(close)

    def waiting_progressive(self) -> int:
        return sum(w.progressive for w in self.waiting.values())

    def snapshot(self) -> dict[str, object]:
        """Live figures: how many wait, and the longest wait so far."""
        waits = [w.waited for w in self.waiting.values()]
        return {"waiting": len(waits), "longest_wait": round(max(waits), 1) if waits else 0.0,
                "calls": [{"channel_id": w.channel_id, "note": w.note, "waited": round(w.waited, 1)}
                          for w in self.oldest_first()]}
