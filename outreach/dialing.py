"""The broadcast dialer: keeps at most ``lines`` outreach calls going, never more than the dialer's line book
says the trunk has free (it counts our calls' channels as it counts inbound ones) and never to a phone the
dialer is calling; each one an AMI Originate straight into our Stasis app (``broadcast,<attempt>``) over the
campaign's trunk as the dialer's dial plans dial it.
Which contacts are due, and the attempt written before each call, come from ``outreach.broadcast``; an
answered call is played by ``ari_handlers.broadcast_call``, which calls :meth:`Broadcaster.ended`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from adapters.ami import AmiClient, AmiError, Originate
from core.tasks import Tasks
from db.engine import Database
from db.models import utcnow
from dialer.dialplans import DialPlan, plain
from outreach import broadcast
from outreach.service import OutreachService

log = logging.getLogger(__name__)
PREFIX = "wrbc-"   # broadcast channel ids (apart from the dialer's "wr-", whose strays it hangs up)


class Broadcaster:
    def __init__(self, ami: AmiClient, db: Database, outreach: OutreachService, *, app: str, lines: int,
                 plans: Mapping[str, DialPlan] | None = None, ring_timeout: float = 30.0,
                 max_call_seconds: int = 600, clock: Callable[[], datetime] = utcnow, every: float = 1.0,
                 room: Callable[[str], int] | None = None, in_calls: Callable[[], set[str]] | None = None) -> None:
        self.ami, self.db, self.outreach, self.app, self.lines = ami, db, outreach, app, lines
        self.plans, self.ring_timeout, self.max_call_seconds = dict(plans or {}), ring_timeout, max_call_seconds
        self.clock, self.every = clock, every
        self.room, self.in_calls = room, in_calls  # the dialer's free lines per trunk, its phones in call
        self.calls: dict[int, str] = {}        # attempt id -> phone, while its line is held
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
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("broadcast pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.every)
            except TimeoutError:
                pass
            self._wake.clear()

    async def tick(self) -> int:
        """Dial what is due on the free lines; returns how many calls were started."""
        if not self.ami.up:
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
                            caller_id=call.caller_id, application="Stasis",
                            data=f"{self.app},broadcast,{call.attempt_id}",
                            variables=(f"TIMEOUT(absolute)={self.max_call_seconds}",))
        try:
            result = await self.ami.originate(request, timeout=self.ring_timeout + 15)
        except AmiError as exc:
            log.warning("broadcast %s: %s", call.attempt_id, exc)
            await self.db.run(broadcast.settle, call.attempt_id, "failed", None)
            self.ended(call.attempt_id)
            return
        if not result.success:  # never answered: the Stasis handler will not hear of it
            await self.db.run(broadcast.settle, call.attempt_id, broadcast.unanswered(result.reason), None)
            self.ended(call.attempt_id)
