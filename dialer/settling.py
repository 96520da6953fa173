"""Asterisk's events in, one settlement per attempt out.

Typed AMI events about our calls feed each call's :class:`AttemptTracker`; the Originate's result too.
Once a tracker has ended (both halves of the ending in, or the settle timer fired, or reconcile decided),
the attempt is written in one transaction (disposition, retry policy, directory write-back) and the call
leaves the book. A settlement that cannot be written (the database is away) is kept and written again
later: nothing is settled twice and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.tasks import Tasks
from db.campaigns import AttemptState, Disposition
from db.engine import Database
from db.models import utcnow
from dialer import store
from dialer.attempt import AttemptTracker
from dialer.callbook import Call, CallBook
from dialer.stats import DialerStats
from dialer.trunk_choice import AllUp, TrunkGate
from events.asterisk import ChannelCreated, ChannelState, ChannelStateChanged, HungUp, OriginateResult
from events.bus import EventBus
from events.types import AttemptChanged, CallHandled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettleTimings:
    settle_seconds: float = 2.0     # wait for the missing half of Hangup / OriginateResponse
    retry_write: float = 5.0        # a settlement the database refused is written again after this
    batch_window: float = 0.05      # settlements and call states are gathered this long, then written together


class Settler:
    """Feeds events to our calls' trackers and writes each ended attempt exactly once."""

    def __init__(self, book: CallBook, db: Database, bus: EventBus, stats: DialerStats, tasks: Tasks, *,
                 clock: Callable[[], datetime], timings: SettleTimings, wake: Callable[[], None],
                 trunks: TrunkGate | None = None) -> None:
        self.book, self.db, self.bus, self.stats, self.tasks = book, db, bus, stats, tasks
        self.clock, self.timings, self.wake = clock, timings, wake
        self._settles: list[Call] = []
        self._settles_due: asyncio.TimerHandle | None = None
        self._marks: dict[int, tuple[AttemptState, datetime | None]] = {}
        self._mark_timer: asyncio.TimerHandle | None = None
        self.trunks = trunks or AllUp()

    def our_time(self, real: datetime) -> datetime:
        """An Asterisk (wall-clock) time on the dialer's clock, so every time of an attempt is comparable."""
        return real + (self.clock() - utcnow())

    # -- events ------------------------------------------------------------------------------------------
    def on_created(self, event: ChannelCreated) -> None:
        if event.channel_id not in self.book.calls and self.book.inbound_started(event.channel, event.channel_id):
            self.stats.inbound += 1

    def on_state(self, event: ChannelStateChanged) -> None:
        call = self.book.calls.get(event.channel_id)
        if call is None:
            return
        at = self.our_time(event.at)
        t = call.tracker
        changed = (t.ringing(at) if event.state is ChannelState.RINGING
                   else t.answered(at) if event.state is ChannelState.UP else False)
        if changed:
            self._mark(call)

    def on_hungup(self, event: HungUp) -> None:
        if self.book.channel_gone(event.channel_id) is not None:
            self.wake()  # a line is free: dial again at once
        call = self.book.calls.get(event.channel_id)
        if call is not None and call.tracker.hangup(event.cause, self.our_time(event.at), event.sip_status):
            self.progress(call)

    def on_handled(self, event: CallHandled) -> None:
        call = self.book.calls.get(event.channel_id)
        if call is not None:
            call.tracker.handled = True

    def lost(self, call: Call, why: str, at: datetime | None = None) -> None:
        """We missed the call's end (Asterisk went away under it): failed, never answered."""
        if call.tracker.mark_lost(at or self.clock(), why):
            self.settle_soon(call)

    def originated(self, call: Call, result: OriginateResult | None) -> None:
        """Asterisk's verdict on the Originate (None: it could not be sent)."""
        ok, reason = (result.success, result.reason) if result is not None else (False, 0)
        if call.tracker.originate_response(ok, reason, self.clock()):
            self.progress(call)

    # -- settling ----------------------------------------------------------------------------------------
    def progress(self, call: Call) -> None:
        """After an event: settle now if the tracker ended, else arm the settle timer once."""
        if call.tracker.ended:
            if call.settle_timer:
                call.settle_timer.cancel()
            self.settle_soon(call)
        elif call.settle_timer is None and call.tracker.waiting_to_settle:
            call.settle_timer = asyncio.get_running_loop().call_later(self.timings.settle_seconds,
                                                                      self._settle_timer, call)

    def _settle_timer(self, call: Call) -> None:
        if call.tracker.settle(self.clock()):
            self.settle_soon(call)

    def settle_soon(self, call: Call) -> None:
        """Write the ended attempt soon: settlements are gathered for a moment and written together (one
        transaction, not one each: with hundreds of lines the database is not kept busy)."""
        if call.settling:
            return
        call.settling = True
        self.book.channel_gone(call.channel_id)
        self._settles.append(call)
        if self._settles_due is None:
            self._settles_due = asyncio.get_running_loop().call_later(
                self.timings.batch_window, lambda: self.tasks.spawn(self._write_settles(), "write settlements"))

    def trunk_fault(self, call: Call) -> str | None:
        """Why an unanswered call failed through its trunk rather than the person (the trunk was down at
        some moment of the call), or None."""
        if call.tracker.disposition in (Disposition.answered, Disposition.cancelled, None):
            return None
        started = utcnow() - (self.clock() - call.tracker.started_at)  # the health's times are real ones
        return self.trunks.fault(call.trunk, started)

    async def _write_settles(self) -> None:
        self._settles_due = None
        batch, self._settles = self._settles, []
        if not batch:
            return
        now = self.clock()
        endings = [self._ending(c, now) for c in batch]
        try:
            await self.db.run(store.finish_attempts, endings)
        except Exception:
            log.exception("%d ended attempts could not be written; trying again in %.0fs", len(batch),
                          self.timings.retry_write)
            loop = asyncio.get_running_loop()
            for call in batch:
                call.settling = False
                loop.call_later(self.timings.retry_write, self.settle_soon, call)
            return
        for call in batch:
            t = call.tracker
            assert t.disposition is not None
            self.book.finish(call.channel_id)
            self.stats.ended(t.disposition.value, self.clock())
            self.bus.publish(AttemptChanged(call.launch.attempt_id, call.launch.campaign_id, "ended",
                                            t.disposition.value))
            log.info("attempt %s (%s) ended: %s", call.launch.attempt_id, call.channel_id, t.disposition)
        self.wake()

    def _ending(self, call: Call, now: datetime) -> dict[str, Any]:
        """What :func:`store.finish_attempt` writes for ``call``. An unanswered call whose trunk was down
        ends ``congestion`` (not ``no_answer``) with the trunk's reason, and its target waits for the trunk
        without using up a try."""
        t = call.tracker
        assert t.disposition is not None and t.ended_at is not None
        fault = self.trunk_fault(call)
        if fault and t.disposition is Disposition.no_answer:
            t.disposition = Disposition.congestion
        return {"attempt_id": call.launch.attempt_id, "disposition": t.disposition, "cause": t.cause,
                "sip_status": t.sip_status, "answered_at": t.answered_at, "ended_at": t.ended_at,
                "talk_seconds": t.talk_seconds, "detail": f"{_detail(t)}; {fault}" if fault else _detail(t),
                "handled": t.handled, "now": now, "trunk_fault": fault is not None}

    def _mark(self, call: Call) -> None:
        """Note a call's new state (ringing, answered) for the database; marks are written together."""
        self._marks[call.launch.attempt_id] = (call.tracker.state, call.tracker.answered_at)
        if self._mark_timer is None:
            self._mark_timer = asyncio.get_running_loop().call_later(
                self.timings.batch_window, lambda: self.tasks.spawn(self._write_marks(), "write call states"))

    async def _write_marks(self) -> None:
        self._mark_timer = None
        marks, self._marks = self._marks, {}
        if marks:
            await self.db.run(store.mark_states, marks)


def _detail(t: AttemptTracker) -> str:
    """How the attempt went, in words: its transitions, and the far end's SIP answer when there was one."""
    said = "; ".join(x[2] for x in t.transitions)
    return f"{said}; SIP {t.sip_status}" if t.sip_status else said
