"""Reconcile: make the book of calls agree with Asterisk after we could not see it.

After an AMI reconnect or at start-up: every call we track that Asterisk no longer has is settled from
Asterisk's own record of its end (or failed, when Asterisk restarted and the call died with it); every
call Asterisk still has catches up on the state it reached meanwhile; attempts left open in the database
by an earlier run are adopted (still live) or settled the same way. Only then does the dialer dial again.

Others with calls of their own (the broadcast dialer) reconcile them in the same pass (``also``), with the
same live channels, before Asterisk's records of ended calls are forgotten.

The sweep does the same, now and then, for open attempts nobody tracks (a step whose database write was
lost on the way, e.g. while PostgreSQL restarted), so every attempt reaches one terminal state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from adapters.ami import AmiError
from db.campaigns import Attempt
from db.engine import Database
from dialer import store
from dialer.attempt import AttemptTracker
from dialer.callbook import Call, CallBook
from dialer.endings import AmiPort, AsteriskRecords
from dialer.settling import Settler
from events.asterisk import ChannelState, LiveChannel, OriginateReason

log = logging.getLogger(__name__)
# another's reconcile: given Asterisk's live channels (by id) and whether Asterisk restarted; raises AmiError
# when it could not ask Asterisk (the whole reconcile is tried again)
AlsoReconcile = Callable[[Mapping[str, LiveChannel], bool], Awaitable[None]]


class Reconciler:
    def __init__(self, ami: AmiPort, book: CallBook, db: Database, settler: Settler, records: AsteriskRecords, *,
                 clock: Callable[[], datetime], channel_prefix: str, node: str) -> None:
        self.ami, self.book, self.db, self.settler, self.records = ami, book, db, settler, records
        self.clock, self.prefix, self.node = clock, channel_prefix, node
        self.also: list[AlsoReconcile] = []
        self._lock = asyncio.Lock()  # a reconcile and a sweep never take over the same attempt together

    async def reconcile(self, why: str) -> bool:
        """Settle or adopt every call against Asterisk's live channels; False when Asterisk could not be
        asked (the caller tries again)."""
        async with self._lock:
            return await self._reconcile(why)

    async def _reconcile(self, why: str) -> bool:
        try:
            live = {c.channel_id: c for c in await self.ami.channels()}
            restarted = await self.records.asterisk_restarted()
        except AmiError as exc:
            log.warning("reconcile (%s) postponed: %s", why, exc)
            return False
        now = self.clock()
        self.book.reset_inbound({cid: c.channel for cid, c in live.items() if not cid.startswith(self.prefix)})
        for call in list(self.book.calls.values()):
            if call.settling:
                continue
            if call.channel_id in live:  # events were missed while the link was down: catch up
                self._catch_up(call.tracker, live[call.channel_id], now)
            else:
                await self._settle_missed(call, restarted, why, now)
        for attempt in await self.db.run(store.open_attempts, self.node):
            if attempt.channel_id not in self.book.calls:
                await self._take_over(attempt, live, restarted, why, now)
        for other in self.also:
            try:
                await other(live, restarted)
            except AmiError as exc:
                log.warning("reconcile (%s) postponed: %s", why, exc)
                return False
            except Exception:
                log.exception("reconcile (%s): %r failed", why, other)
        await self.records.forget()
        log.info("reconciled after %s: %d live calls kept", why, len(self.book.calls))
        return True

    async def sweep(self, older_than: float) -> None:
        """Open attempts in the database that no call in the book owns, older than ``older_than`` seconds:
        adopt them if Asterisk still has their channel, else settle them from its records."""
        async with self._lock:
            await self._sweep(older_than)

    async def _sweep(self, older_than: float) -> None:
        now = self.clock()
        stale = [a for a in await self.db.run(store.open_attempts, self.node)
                 if a.channel_id not in self.book.calls and a.created_at < now - timedelta(seconds=older_than)]
        if not stale:
            return
        try:
            live = {c.channel_id: c for c in await self.ami.channels()}
        except AmiError as exc:
            log.info("sweep postponed: %s", exc)
            return
        log.warning("%d open attempts with no call in flight: settling them from Asterisk's records", len(stale))
        for attempt in stale:
            if attempt.channel_id not in self.book.calls:
                await self._take_over(attempt, live, False, "sweep", now)

    async def _take_over(self, attempt: Attempt, live: dict[str, LiveChannel], restarted: bool, why: str,
                         now: datetime) -> None:
        call = Call(store.Launch(attempt.id, attempt.target_id or 0, attempt.campaign_id or 0, attempt.person_id or 0,
                                 attempt.phone, attempt.channel_id, attempt.action_id),
                    attempt.trunk, AttemptTracker(attempt.channel_id, attempt.created_at))
        if attempt.channel_id in live:  # still up: adopt it; its Hangup will end it
            if attempt.answered_at is not None:
                call.tracker.answered(attempt.answered_at)
            self._catch_up(call.tracker, live[attempt.channel_id], now)
            self.book.adopt(call)
        else:
            self.book.calls[call.channel_id] = call
            await self._settle_missed(call, restarted, why, now)

    @staticmethod
    def _catch_up(tracker: AttemptTracker, channel: LiveChannel, now: datetime) -> None:
        if channel.state is ChannelState.UP:
            tracker.answered(tracker.answered_at or now)
        reason = OriginateReason.ANSWERED if tracker.answered_at else OriginateReason.NO_ANSWER
        tracker.originate_response(True, reason, now)

    async def _settle_missed(self, call: Call, restarted: bool, why: str, now: datetime) -> None:
        """A call whose end we missed: Asterisk's own record says how it ended, unless Asterisk restarted
        (then the call died with it: failed, never answered, retried by policy)."""
        t = call.tracker
        try:
            ending = None if restarted else await self.records.ending(t.channel_id)
        except AmiError as exc:
            log.info("the end of %s is unknown for now (%s): settled at the next reconcile", t.channel_id, exc)
            return
        if ending is None:
            self.settler.lost(call, f"no channel after {why}" + (" (Asterisk restarted)" if restarted else ""), now)
            return
        answered_real, ended_real, cause = ending
        answered = self.settler.our_time(answered_real) if answered_real else None
        ended = self.settler.our_time(ended_real)
        if answered is not None:
            t.answered(answered)
        t.hangup(cause, ended)
        t.originate_response(answered is not None, OriginateReason.ANSWERED if answered is not None else 0, ended)
        t.settle(ended)
        self.settler.settle_soon(call)
