"""The dialer: keeps every free line busy with due targets of running campaigns, within the rules.

It is built from four parts, each owning one concern:
- :class:`~dialer.callbook.CallBook`: lines, phones in call and attempts in flight, changed together;
- :class:`~dialer.scheduler.Scheduler`: which targets to dial now, and the Originates;
- :class:`~dialer.settling.Settler`: Asterisk's events into each attempt's tracker, one settlement each;
- :class:`~dialer.reconcile.Reconciler`: after an AMI reconnect, at start-up and now and then (the sweep),
  the book made to agree with Asterisk before anything new is dialed, so nothing is dialed twice.
This module wires them, runs the scheduling loop and says when dialing is allowed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.ami import AmiError
from core.tasks import Tasks, wait_event
from db.engine import Database
from db.models import utcnow
from dialer import claims, store
from dialer.callbook import Call, CallBook
from dialer.endings import AmiPort, AsteriskRecords
from dialer.lines import LineBook
from dialer.reconcile import AlsoReconcile, Reconciler
from dialer.scheduler import DialerConfig, OperatorRoom, Pacer, Prepare, Scheduler
from dialer.settling import Settler, SettleTimings
from dialer.stats import DialerStats
from dialer.trunk_choice import TrunkGate
from events.asterisk import ChannelCreated, ChannelStateChanged, HungUp, LinkState, ShutdownHangup
from events.bus import EventBus
from events.types import CallHandled, CampaignChanged

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY = 5.0     # seconds between checks for finished campaigns (and the sweep)
FORGET_EVERY = 600.0         # seconds between clearing Asterisk's records of ended calls

__all__ = ["Dialer", "DialerConfig"]


class Dialer:
    """Build with the AMI client, the bus, the database and :class:`DialerConfig`; then ``start()``."""

    def __init__(self, ami: AmiPort, bus: EventBus, db: Database, config: DialerConfig,
                 clock: Callable[[], datetime] = utcnow, operator_room: OperatorRoom | None = None,
                 trunks: TrunkGate | None = None, pacer: Pacer | None = None,
                 prepare: Prepare | None = None) -> None:
        self.ami, self.bus, self.db, self.config, self.clock = ami, bus, db, config, clock
        self.book = CallBook(config.trunks)
        self.stats = DialerStats()
        self.acs = store.AcIndex()
        self.tasks = Tasks("dialer")
        self.records = AsteriskRecords(ami)
        self.settler = Settler(self.book, db, bus, self.stats, self.tasks, clock=clock, wake=self.wake,
                               timings=SettleTimings(settle_seconds=config.settle_seconds), trunks=trunks)
        self.scheduler = Scheduler(self.book, db, ami, bus, self.settler, self.stats, self.tasks, config=config,
                                   clock=clock, acs=self.acs, operator_room=operator_room, wake=self.wake,
                                   trunks=trunks, pacer=pacer, holding=lambda: self._holding, prepare=prepare)
        self.reconciler = Reconciler(ami, self.book, db, self.settler, self.records, clock=clock,
                                     channel_prefix=config.channel_prefix, node=config.node)
        self._ami_down_since: float | None = time.monotonic()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()   # a call settled (or anything else woke the dialer)
        self._ready = False               # reconciled with Asterisk since the last (re)connect
        self._reconciling = False
        self._holding = False             # stopping: no new calls (live calls go on)
        self._task: asyncio.Task[None] | None = None

    def also_reconcile(self, other: AlsoReconcile) -> None:
        """``other`` reconciles its own calls in each of the dialer's reconciles (at start-up, after each AMI
        reconnect), with the same live channels and before Asterisk's records of ended calls are forgotten."""
        self.reconciler.also.append(other)

    @property
    def lines(self) -> LineBook:
        return self.book.lines

    @property
    def active(self) -> dict[str, Call]:
        """The calls in flight, by channel id."""
        return self.book.calls

    @property
    def operator_room(self) -> OperatorRoom | None:
        return self.scheduler.operator_room

    # -- life cycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.bus.subscribe(ChannelCreated, self._on_created)
        self.bus.subscribe(ChannelStateChanged, self.settler.on_state)
        self.bus.subscribe(HungUp, self.settler.on_hungup)
        self.bus.subscribe(ShutdownHangup, self._on_shutdown)
        self.bus.subscribe(LinkState, self._on_link)
        self.bus.subscribe(CallHandled, self.settler.on_handled)
        self.bus.subscribe(CampaignChanged, self.scheduler.campaign_changed)
        await self.db.run(self.acs.load)
        self._task = asyncio.create_task(self._loop(), name="dialer")
        self.tasks.spawn(self._housekeeping_loop(), "housekeeping")
        if self.ami.up:
            self.tasks.spawn(self.reconcile("start-up"), "reconcile at start-up")

    async def stop(self) -> None:
        self.bus.unsubscribe(ChannelCreated, self._on_created)
        self.bus.unsubscribe(ChannelStateChanged, self.settler.on_state)
        self.bus.unsubscribe(HungUp, self.settler.on_hungup)
        self.bus.unsubscribe(ShutdownHangup, self._on_shutdown)
        self.bus.unsubscribe(LinkState, self._on_link)
        self.bus.unsubscribe(CallHandled, self.settler.on_handled)
        self.bus.unsubscribe(CampaignChanged, self.scheduler.campaign_changed)
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.scheduler.give_back_all()
        except Exception:
            log.exception("stopping: giving back the targets claimed ahead failed (settled at the next start)")
        await self.tasks.cancel_all()

    def wake(self) -> None:
        """Run a scheduling pass now (a line freed, a campaign resumed, the directory changed)."""
        self._wake.set()
        self._changed.set()
        if len(self.scheduler.hopper):  # targets claimed ahead: a free line is dialed now, not at the pass
            try:
                asyncio.get_running_loop().call_soon(self._launch_ready)
            except RuntimeError:  # no loop running (a test's synchronous call): the pass will do it
                pass

    def _launch_ready(self) -> None:
        if self.ami.up and self._ready and not self._holding:
            self.scheduler.launch_ready()

    async def _until_idle(self, deadline: float) -> None:
        """Wait until no call is in flight, or the loop's clock reaches ``deadline``."""
        loop = asyncio.get_running_loop()
        while self.book.calls and loop.time() < deadline:
            self._changed.clear()
            # every settlement wakes the dialer (and this wait)
            await wait_event(self._changed, min(1.0, max(0.0, deadline - loop.time())))

    def hold_new_calls(self) -> None:
        """Start no more calls (the service is stopping); calls in flight go on and are settled."""
        self._holding = True

    async def wind_down(self, timeout: float) -> int:
        """Stopping: no new calls; wait up to ``timeout`` seconds for the calls in flight to end and be
        settled, then hang up those still going and wait a moment for their settlement. Returns how many
        were hung up."""
        self.hold_new_calls()
        try:
            await self.scheduler.give_back_all()
        except Exception:
            log.exception("stopping: giving back the targets claimed ahead failed (the sweep settles them)")
        loop = asyncio.get_running_loop()
        await self._until_idle(loop.time() + timeout)
        left = list(self.book.calls)
        for channel_id in left:
            try:
                await self.ami.hangup(channel_id)
            except AmiError as exc:
                log.info("stopping: hang up %s: %s", channel_id, exc)
        await self._until_idle(loop.time() + self.config.settle_seconds + 5)
        if self.book.calls:
            log.warning("stopping with %d calls unsettled: reconciled at the next start", len(self.book.calls))
        return len(left)

    # -- the loop ---------------------------------------------------------------------------------------
    async def _loop(self) -> None:
        while True:
            await wait_event(self._wake, self.config.poll_interval)
            self._wake.clear()
            if not (self.ami.up and self._ready):
                await self._release_if_asterisk_gone()
                continue
            if self._holding:
                continue
            try:
                await self.scheduler.run_pass()
            except Exception:
                log.exception("dialer pass failed; retrying")
                await asyncio.sleep(self.config.poll_interval)

    async def _housekeeping_loop(self) -> None:
        """Beside the scheduling loop, never delaying it: finished campaigns, the sweep, dead nodes' calls,
        and now and then forgetting Asterisk's records of ended calls."""
        last_forget = time.monotonic()
        while True:
            await asyncio.sleep(HOUSEKEEPING_EVERY)
            if not (self.ami.up and self._ready):
                continue
            try:
                await self._housekeeping()
                if time.monotonic() - last_forget > FORGET_EVERY:  # keep Asterisk's ending records small
                    last_forget = time.monotonic()
                    await self.records.forget()
            except Exception:
                log.exception("dialer housekeeping failed; retrying")

    async def _housekeeping(self) -> None:
        await self.reconciler.sweep(self.config.sweep_after)
        await self.db.run(claims.take_over, self.clock(), self.config.lease, self.config.max_call_seconds,
                          alive=self.config.node)
        for name in await self.db.run(store.finish_campaigns, self.clock()):
            log.info("campaign %s completed", name)

    async def _release_if_asterisk_gone(self) -> None:
        """Asterisk unreachable longer than the lease: its calls are lost to us (they died with it, or will
        by their absolute timeout), so this node's open attempts are settled and retried elsewhere."""
        down = self._ami_down_since
        if down is None or time.monotonic() - down < self.config.lease:
            return
        try:
            await self.scheduler.give_back_all()
            settled = await self.db.run(claims.take_over, self.clock(), self.config.lease,
                                        self.config.max_call_seconds, [self.config.node])
        except Exception:
            log.exception("releasing this node's attempts failed; trying again")
            return
        for channel_id in list(self.book.calls):
            self.book.finish(channel_id)  # settled in the database just now
        if settled:
            log.warning("Asterisk unreachable for %.0f s: %d attempts of this node settled, to be retried elsewhere",
                        time.monotonic() - down, settled)

    # -- Asterisk's events that concern the dialer as a whole ------------------------------------------
    def _on_created(self, event: ChannelCreated) -> None:
        if event.channel_id.startswith(self.config.channel_prefix) and event.channel_id not in self.book.calls:
            self.tasks.spawn(self._hangup_stray(event.channel_id), f"hang up stray {event.channel_id}")
            return
        self.settler.on_created(event)

    def _on_shutdown(self, event: ShutdownHangup) -> None:
        self._ready = False  # Asterisk is going down: dial nothing until it is back and reconciled
        call = self.book.calls.get(event.channel_id)
        if call is not None:
            self.settler.lost(call, "Asterisk shut down under the call", self.settler.our_time(event.at))

    async def _hangup_stray(self, channel_id: str) -> None:
        log.warning("channel %s is ours but no attempt owns it: hanging up", channel_id)
        try:
            await self.ami.hangup(channel_id)
        except AmiError as exc:  # it may be gone already
            log.info("hangup of stray %s: %s", channel_id, exc)

    def _on_link(self, state: LinkState) -> None:
        if state.link != "ami":
            return
        if not state.up:
            self._ready = False
            self._ami_down_since = self._ami_down_since or time.monotonic()
            return
        self._ami_down_since = None
        self.tasks.spawn(self.reconcile("reconnect"), "reconcile after reconnect")

    async def reconcile(self, why: str) -> None:
        """Settle our attempts against Asterisk's live channels, then allow dialing again."""
        if self._reconciling:
            return  # start-up and the link's first "up" can ask at the same moment
        self._reconciling = True
        self._ready = False
        done = False
        try:
            await self.scheduler.give_back_all()  # never dialed: not for the reconcile to settle as lost
            await asyncio.sleep(self.config.reconcile_grace)
            done = await self.reconciler.reconcile(why)
            if done:
                await self.db.run(self.acs.load)
                self._ready = True
                self.wake()
        except Exception:
            log.exception("reconcile (%s) failed; trying again", why)
            done = False
        finally:
            self._reconciling = False
        if not done and self.ami.up:  # Asterisk did not answer in time: ask again (dialing waits till then)
            self.tasks.spawn(self.reconcile(why), "reconcile again")

    # -- figures ----------------------------------------------------------------------------------------
    def pacing(self) -> dict[int, dict[str, Any]]:
        """Predictive campaigns' last pacing decision, by campaign id (empty without a pacer)."""
        pacer = self.scheduler.pacer
        return pacer.figures() if pacer is not None else {}

    def snapshot(self) -> dict[str, object]:
        return {**self.book.snapshot(), **self.stats.figures(self.clock())}
