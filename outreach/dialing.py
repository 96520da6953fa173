"""The broadcast dialer: keeps at most ``lines`` outreach calls going, never more than the dialer's line book
says the trunk has free (it counts our calls' channels as it counts inbound ones) and never to a phone the
dialer is calling; each one an AMI Originate over the campaign's trunk as the dialer's dial plans dial it, into
the dialplan's ``broadcast`` extension (``[warroom-dialer]``), which enters our Stasis app as
``broadcast,<attempt>`` (through the dialplan, so the hangup handler runs when the call ends).
Which contacts are due, and the attempt written before each call, come from ``outreach.broadcast``; an
answered call is played by ``ari_handlers.broadcast_call``, which calls :meth:`Broadcaster.ended`.

Calls whose end this service did not see (it restarted under them; a node's other calls) are reconciled as
the dialer reconciles its own (:meth:`Broadcaster.reconcile`, run by the dialer's reconcile at start-up and
after each AMI reconnect, before Asterisk's records are forgotten): every attempt left without an outcome is
settled from Asterisk's record of how its call ended (each Originate pushes the dialer's hangup handler,
which keeps answer time, end time and cause in AstDB), its line held while Asterisk still has its channel;
one with no record is settled ``failed`` once no call of it can still be going (ring time and the longest call
past), or at once when Asterisk restarted. Until the first reconcile, nothing is dialled."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from adapters.ami import AmiError, Originate
from core.tasks import Tasks, wait_event
from db.engine import Database
from db.models import utcnow
from dialer.dialplans import DialPlan, plain
from dialer.endings import HANGUP_HANDLER, AmiPort, AsteriskRecords
from events.asterisk import LiveChannel
from outreach import broadcast
from outreach.service import OutreachService

log = logging.getLogger(__name__)
PREFIX = "wrbc-"   # broadcast channel ids (apart from the dialer's "wr-", whose strays it hangs up)
LOST_GRACE = 60.0  # seconds past ring time and the longest call before an unrecorded attempt counts as lost


class Broadcaster:
    """``reconciled``: dial only after the first :meth:`reconcile` (the service's; a test may start at once);
    ``sweep_every``: how often calls whose end is still unknown are looked at again."""

    def __init__(self, ami: AmiPort, db: Database, outreach: OutreachService, *, lines: int,
                 plans: Mapping[str, DialPlan] | None = None, ring_timeout: float = 30.0,
                 max_call_seconds: int = 600, clock: Callable[[], datetime] = utcnow, every: float = 1.0,
                 room: Callable[[str], int] | None = None, in_calls: Callable[[], set[str]] | None = None,
                 reconciled: bool = True, sweep_every: float = 10.0, context: str = "warroom-dialer") -> None:
        self.ami, self.db, self.outreach, self.lines = ami, db, outreach, lines
        self.context = context  # the dialplan context whose "broadcast" extension enters our Stasis app
        self.plans, self.ring_timeout, self.max_call_seconds = dict(plans or {}), ring_timeout, max_call_seconds
        self.clock, self.every, self.sweep_every = clock, every, sweep_every
        self.room, self.in_calls = room, in_calls  # the dialer's free lines per trunk, its phones in call
        self.calls: dict[int, str] = {}        # attempt id -> phone, while its line is held
        self.unknown: dict[int, tuple[str, datetime]] = {}  # attempt id -> (phone, made at): its end not seen
        self.records = AsteriskRecords(ami)
        self.ready = reconciled
        self._reconcile_lock = asyncio.Lock()
        self.tasks = Tasks("broadcast")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="broadcast dialer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.tasks.cancel_all()

    def wake(self) -> None:
        self._wake.set()

    def ended(self, attempt_id: int) -> None:
        """The call of ``attempt_id`` is over: its line is free."""
        if self.calls.pop(attempt_id, None) is not None:
            self.wake()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        swept = loop.time()
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("broadcast pass failed")
            if self.unknown and loop.time() - swept >= self.sweep_every:
                swept = loop.time()
                try:
                    await self.sweep()
                except Exception:
                    log.exception("broadcast sweep failed; trying again")
            await wait_event(self._wake, self.every)
            self._wake.clear()

    async def tick(self) -> int:
        """Dial what is due on the free lines; returns how many calls were started."""
        if not (self.ami.up and self.ready):
            return 0
        started = 0
        for name in await self.db.run(broadcast.running):
            free = self.lines - len(self.calls)
            if free <= 0:
                break
            config = self.outreach.config
            busy = set(self.calls.values()) | (self.in_calls() if self.in_calls else set())
            calls = await self.db.run(broadcast.plan_calls, name, self.clock(), config.rules, self.outreach.on_dnd,
                                      free, busy, config.ban_zone, self.room)
            for call in calls:
                self.calls[call.attempt_id] = call.phone
                self.tasks.spawn(self._originate(call), f"broadcast {call.attempt_id}")
                started += 1
        return started

    async def _originate(self, call: broadcast.Dial) -> None:
        plan = self.plans.get(call.trunk) or plain(call.trunk)
        request = Originate(channel=plan.channel(call.phone), channel_id=f"{PREFIX}{call.attempt_id}",
                            action_id=f"{PREFIX}{uuid.uuid4().hex[:12]}", timeout=self.ring_timeout,
                            caller_id=call.caller_id, context=self.context, exten="broadcast",
                            variables=(f"WARROOM_ATTEMPT={call.attempt_id}", HANGUP_HANDLER,
                                       f"TIMEOUT(absolute)={self.max_call_seconds}"))
        try:
            result = await self.ami.originate(request, timeout=self.ring_timeout + 15)
        except AmiError as exc:
            log.warning("broadcast %s: %s", call.attempt_id, exc)
            await self.db.run(broadcast.settle, call.attempt_id, "failed", None)
            self.ended(call.attempt_id)
            return
        if not result.success:  # never answered: the Stasis handler will not hear of it
            try:  # why, as the far end said it (busy, no such number...): the hangup handler's record
                ending = await self.records.ending(request.channel_id)
            except AmiError:
                ending = None
            cause = ending[2] if ending is not None else None
            await self.db.run(broadcast.settle, call.attempt_id, broadcast.unanswered(result.reason, cause), None)
            self.ended(call.attempt_id)

    # -- calls whose end was not seen ---------------------------------------------------------------------
    def unseen(self, attempt_id: int) -> None:
        """The call of ``attempt_id`` ended (or was hung up) while its handler could not see it: its line stays
        held until the sweep settles it from Asterisk's record."""
        phone = self.calls.get(attempt_id, "")
        self.unknown.setdefault(attempt_id, (phone, self.clock()))

    @property
    def lost_after(self) -> timedelta:
        """How old an attempt is when no call of it can still be going (the ring time, then the longest call)."""
        return timedelta(seconds=self.ring_timeout + self.max_call_seconds + LOST_GRACE)

    async def reconcile(self, live: Mapping[str, LiveChannel], restarted: bool) -> None:
        """Every attempt without an outcome that no call of this run tracks (an earlier run's, or another
        node's) is settled from Asterisk's record of its end, given its live channels now (``live``, by id) and
        whether Asterisk restarted meanwhile; then dialing may start. Raises the AMI adapter's error when
        Asterisk cannot be asked (the dialer's reconcile then tries again)."""
        async with self._reconcile_lock:
            for attempt_id, phone, at in await self.db.run(broadcast.open_attempts):
                died = restarted and f"{PREFIX}{attempt_id}" not in live  # this run's too: gone with Asterisk
                if attempt_id not in self.calls or died:
                    self.unknown.setdefault(attempt_id, (phone, at))
            await self._settle_unknown(live, restarted)
            if not self.ready:
                log.info("broadcast calls reconciled: %d still going or not known here", len(self.unknown))
            self.ready = True
        self.wake()

    async def sweep(self) -> None:
        """Look again at the calls whose end is still unknown (their channel was still up, or no record yet)."""
        try:
            live = {c.channel_id: c for c in await self.ami.channels()}
        except AmiError as exc:
            log.info("broadcast sweep postponed: %s", exc)
            return
        async with self._reconcile_lock:
            await self._settle_unknown(live, False)

    async def _settle_unknown(self, live: Mapping[str, LiveChannel], restarted: bool) -> None:
        still_open = {a for a, _, _ in await self.db.run(broadcast.open_attempts, list(self.unknown))}
        now = self.clock()
        for attempt_id, (phone, at) in list(self.unknown.items()):
            if attempt_id not in still_open:  # settled meanwhile (its handler here, or its own node)
                self._known(attempt_id)
                continue
            channel_id = f"{PREFIX}{attempt_id}"
            if channel_id in live:  # still going: its line is held until it ends
                self.calls.setdefault(attempt_id, phone)
                continue
            ending = None if restarted else await self.records.ending(channel_id)
            if ending is None and not restarted and now - at < self.lost_after:
                continue  # not ended here (another node's call?) or not recorded yet: asked again later
            result = await self.db.run(broadcast.settle_missed, attempt_id, ending)
            log.warning("broadcast %s ended unseen: %s (%s)", attempt_id, result or "settled meanwhile",
                        "Asterisk's record" if ending else "no record: lost")
            self._known(attempt_id)

    def _known(self, attempt_id: int) -> None:
        self.unknown.pop(attempt_id, None)
        self.ended(attempt_id)
