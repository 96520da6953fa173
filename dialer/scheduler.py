"""Scheduling: fill every free line with due targets of running campaigns, within the calling rules.

Per pass and campaign: hold the free lines (the book) -> claim that many due targets in one transaction
(:mod:`dialer.claims`: attempts written as ``dialing`` with the ChannelId and ActionID we chose and this
node's name) -> one AMI Originate each (``Async``, with a deadline); their results go to the settler.
Nothing here reacts to Asterisk's events: that is :mod:`dialer.settling`.

IVR and broadcast campaigns also claim a few targets ahead (:mod:`dialer.hopper`): a line that frees is
dialed from those at once (:meth:`Scheduler.launch_ready`, called as soon as the line is free), and the
next pass tops them up.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from adapters.ami import AmiError, Originate
from core.tasks import Tasks
from db.campaigns import Campaign, CampaignMode, CampaignPacing
from db.engine import Database
from dialer import claims, store
from dialer.attempt import AttemptTracker
from dialer.callbook import Call, CallBook
from dialer.campaigns import rules_for
from dialer.dialplans import DialPlan, plain
from dialer.endings import HANGUP_HANDLER, AmiPort
from dialer.hopper import Hopper, Ready, ahead
from dialer.lines import Trunk
from dialer.rules import CallingRules, check
from dialer.settling import Settler
from dialer.sharing import share_lines, share_operator_room
from dialer.stats import DialerStats
from dialer.trunk_choice import AllUp, CampaignWaits, TrunkGate, choose, trunk_names
from events.bus import EventBus
from events.types import AttemptChanged, CampaignChanged

log = logging.getLogger(__name__)
PREPARE_WAIT = 30.0  # seconds an Originate waits for its call's preparation at most (then dials anyway)


@dataclass(frozen=True)
class DialerConfig:
    trunks: list[Trunk]
    rules: CallingRules = field(default_factory=CallingRules)
    ring_timeout: float = 30.0          # seconds a call may ring before we give up
    settle_seconds: float = 2.0         # wait for the missing half of Hangup / OriginateResponse
    caller_id: str = "War Room <0000000000>"
    context: str = "warroom-dialer"
    poll_interval: float = 1.0          # longest sleep between scheduling passes
    reconcile_grace: float = 1.0        # let in-flight Originates create their channels first
    channel_prefix: str = "wr-"
    sweep_after: float = 120.0          # an open attempt nobody tracks this long is checked with Asterisk
    node: str = "node1"                 # this node's name: its attempts carry it
    lease: float = 30.0                 # a node silent this long is dead: its attempts are taken over
    max_call_seconds: int = 900         # Asterisk hangs up any call of ours after this (absolute timeout)
    ready_ahead: float = 0.0            # IVR / broadcast: at most this share of a trunk's lines claimed ahead
    ready_max_age: float = 10.0         # seconds a target claimed ahead may wait before it is given back
    plans: dict[str, DialPlan] = field(default_factory=dict)  # how each trunk dials (default: E.164, plain)


OperatorRoom = Callable[[], Awaitable[int]]
# made ready before an IVR campaign's call is dialed (its prompts, by the IVR feature), given the attempt id
Prepare = Callable[[int], Awaitable[object]]


class Pacer(Protocol):
    """Predictive pacing (:class:`dialer.predictive.PredictivePacer`): calls a campaign may start now."""

    async def room(self, campaign: Campaign, free: int, ringing: list[float], campaigns: int = 1,
                   index: int = 0) -> int: ...

    def figures(self) -> dict[int, dict[str, Any]]: ...


@dataclass(frozen=True)
class Plan:
    """A round's shares for the operator campaigns: new calls on the lines, and for the operators'
    room (progressive campaigns; a predictive one is paced on its part of the operators)."""

    lines: dict[int, int]
    operators: dict[int, int]


class Scheduler:
    """One scheduling pass at a time (the controller's loop calls :meth:`run_pass`)."""

    def __init__(self, book: CallBook, db: Database, ami: AmiPort, bus: EventBus, settler: Settler,
                 stats: DialerStats, tasks: Tasks, *, config: DialerConfig, clock: Callable[[], datetime],
                 acs: store.AcIndex, operator_room: OperatorRoom | None, wake: Callable[[], None],
                 trunks: TrunkGate | None = None, pacer: Pacer | None = None,
                 holding: Callable[[], bool] = lambda: False, prepare: Prepare | None = None) -> None:
        self.pacer, self.holding, self.prepare = pacer, holding, prepare
        self._preparing: dict[str, asyncio.Task[object]] = {}  # channel id -> its preparation
        self.book, self.db, self.ami, self.bus, self.settler = book, db, ami, bus, settler
        self.stats, self.tasks, self.config, self.clock, self.acs = stats, tasks, config, clock, acs
        self.operator_room, self.wake = operator_room, wake
        self.trunks = trunks or AllUp()
        self.waits = CampaignWaits(db)
        self.hopper = Hopper(config.ready_max_age)
        self._lines = {t.name: t.lines for t in config.trunks}
        self._ahead: list[Campaign] = []  # the last pass's running campaigns that claim ahead, by priority

    async def run_pass(self) -> None:
        """Each running campaign in priority order; the operator campaigns share the lines and the operators
        (``dialer.sharing``). One that claims fewer calls than its share (no due targets, or held back by the
        rules) drops out, and the others share again what it left, in a next round of the same pass."""
        running = list(await self.db.run_urgent(store.running_campaigns))
        self._ahead = [c for c in running if self._claims_ahead(c)]
        stale = self.hopper.stale(c.id for c in self._ahead)
        if stale:
            await self._give_back(stale)
        sharing = [c.id for c in running if c.mode is CampaignMode.operator]
        for _ in range(len(sharing) + 1):
            short = await self._round(running, sharing)
            if not short:
                return
            sharing = [cid for cid in sharing if cid not in short]
            running = [c for c in running if c.id in sharing]  # next round: the operator campaigns left

    async def _round(self, running: list[Campaign], sharing: list[int]) -> set[int]:
        """One round of the pass; returns the sharing campaigns that claimed fewer calls than their share
        (empty: nothing is left over for the others, or nobody else could use it)."""
        short: set[int] = set()
        plan: Plan | None = None
        for campaign in running:
            if self.holding():
                return set()  # the service is stopping: no new calls
            trunk, free, why = choose(trunk_names(campaign.trunk), self.book.free, self.trunks,
                                      known=lambda name: name in self.book.lines.trunks)
            await self.waits.note(campaign, why)
            if self._claims_ahead(campaign):
                up = trunk or self._trunk_up(campaign)  # all lines busy: still keep targets ready for them
                if up is not None:
                    await self._fill_ahead(campaign, up)
                continue
            if trunk is None:
                continue
            allowed = free
            if campaign.mode is CampaignMode.operator:
                if plan is None:  # at the first operator campaign: the lines free now, the operators now
                    plan = await self._plan([c for c in running if c.id in sharing])
                free = min(free, plan.lines.get(campaign.id, 0))
                if campaign.pacing is CampaignPacing.predictive and self.pacer is not None:
                    allowed = await self.pacer.room(campaign, free, self.book.ringing_ages(campaign.id, self.clock()),
                                                    len(sharing), sharing.index(campaign.id))
                else:
                    allowed = min(free, plan.operators.get(campaign.id, 0))
            if allowed > 0:
                started = await self._fill(campaign, trunk, allowed)
                if campaign.id in sharing and started < allowed and len(sharing) > 1:
                    short.add(campaign.id)
        return short

    async def _plan(self, sharing: list[Campaign]) -> Plan:
        """The sharing campaigns' parts of this round: new calls on the lines of the trunk each would use
        now, and (progressive ones) for the operators' room."""
        by_trunk: dict[str, list[Campaign]] = {}
        for c in sharing:
            trunk, _free, _why = choose(trunk_names(c.trunk), self.book.free, self.trunks,
                                        known=lambda name: name in self.book.lines.trunks)
            if trunk is not None:
                by_trunk.setdefault(trunk, []).append(c)
        lines: dict[int, int] = {}
        for trunk, group in by_trunk.items():
            parts = share_lines(self.book.free(trunk), [self.book.calls_of(c.id) for c in group])
            lines.update({c.id: n for c, n in zip(group, parts, strict=True)})
        progressive = [not (c.pacing is CampaignPacing.predictive and self.pacer is not None) for c in sharing]
        room = await self.operator_room() if self.operator_room is not None and any(progressive) else 0
        now = self.clock()
        ringing = [len(self.book.ringing_ages(c.id, now)) for c in sharing]
        parts = share_operator_room(room, ringing, progressive,
                                    elsewhere=self.book.operator_calls_ringing() - sum(ringing))
        return Plan(lines, {c.id: n for c, n, p in zip(sharing, parts, progressive, strict=True) if p})

    def _ids(self) -> tuple[str, str]:
        token = uuid.uuid4().hex
        return f"{self.config.channel_prefix}{token}", f"{self.config.channel_prefix}a-{token}"

    # -- targets claimed ahead (dialer.hopper) -----------------------------------------------------------
    def _claims_ahead(self, campaign: Campaign) -> bool:
        return self.config.ready_ahead > 0 and campaign.mode is not CampaignMode.operator

    def _trunk_up(self, campaign: Campaign) -> str | None:
        """The first of the campaign's trunks that is configured and up, busy or not."""
        return next((name for name in trunk_names(campaign.trunk)
                     if name in self.book.lines.trunks and self.trunks.gate(name) is None), None)

    async def _fill_ahead(self, campaign: Campaign, trunk: str) -> None:
        """Dial the campaign's ready targets on the trunk's free lines, then claim for the lines still free
        and enough more to have the trunk's share ready again."""
        self.launch_ready()
        rate = self.stats.starts_per_second(self.clock())
        want = ahead(self._lines.get(trunk, 0), self.config.ready_ahead, rate) - self.hopper.count(campaign.id, trunk)
        free = self.book.free(trunk)
        if free + want > 0:
            await self._fill(campaign, trunk, free, extra=max(0, want))
            self.launch_ready()  # lines that freed while the claim was written

    def launch_ready(self) -> int:
        """Dial ready targets on every free line, campaigns in priority order; how many calls were started.
        Cheap and synchronous: called the moment a line frees."""
        if self.holding() or not len(self.hopper):
            return 0
        started, refused = 0, []
        for campaign in self._ahead:
            for trunk in self.hopper.trunks_of(campaign.id):
                if self.trunks.gate(trunk) is not None:
                    continue
                while self.book.free(trunk) > 0 and (item := self.hopper.take(campaign.id, trunk)) is not None:
                    now = self.clock()
                    if not check(item.facts, now, item.rules).allowed:  # e.g. the calling window closed
                        refused.append(item)
                        continue
                    [token] = self.book.reserve(trunk, 1)
                    self._launch(campaign, trunk, token, item.launch, now)
                    started += 1
        if refused:
            self.tasks.spawn(self._give_back(refused), "give back targets claimed ahead")
        return started

    def campaign_changed(self, event: CampaignChanged) -> None:
        """A campaign paused or stopped dials none of its ready targets from now on: they are given back."""
        if event.state == "running":
            return
        self._ahead = [c for c in self._ahead if c.id != event.campaign_id]
        items = self.hopper.stale(c.id for c in self._ahead)
        if items:
            self.tasks.spawn(self._give_back(items), "give back targets claimed ahead")

    async def give_back_all(self) -> None:
        """Give back every target claimed ahead (stopping, or Asterisk lost)."""
        await self._give_back(self.hopper.drain())

    async def _give_back(self, items: list[Ready]) -> None:
        for item in items:
            self._preparing.pop(item.channel_id, None)
        if items:
            n = await self.db.run(claims.give_back, [item.launch.attempt_id for item in items])
            log.debug("gave back %d of %d targets claimed ahead", n, len(items))

    async def _fill(self, campaign: Campaign, trunk: str, free: int, extra: int = 0) -> int:
        """Claim up to ``free`` due targets of ``campaign`` and dial them, and up to ``extra`` more to keep
        ready (:mod:`dialer.hopper`); how many calls were started."""
        rules = rules_for(campaign, self.config.rules)
        now = self.clock()
        tokens = self.book.reserve(trunk, free)  # the lines are ours while the claim is written
        try:
            got = await self.db.run_urgent(claims.claim, campaign.id, now, len(tokens) + extra, rules, self.acs,
                                    self.config.node, trunk, self.book.phones, self._ids)
        except BaseException:
            self.book.unreserve(tokens)
            raise
        claimed = time.monotonic()
        if self.prepare is not None and campaign.mode is CampaignMode.ivr:
            for launch in got.launches:
                self._preparing[launch.channel_id] = self.tasks.spawn(
                    self._prepare(self.prepare, launch.attempt_id), f"prepare {launch.channel_id}")
        ready = [Ready(launch, trunk, rules, got.facts[launch.attempt_id], claimed)
                 for launch in got.launches[len(tokens):]]
        if ready and (self.holding() or campaign.id not in {c.id for c in self._ahead}):  # stopping, or paused
            self.tasks.spawn(self._give_back(ready), "give back targets claimed ahead")
        else:
            for item in ready:
                self.hopper.add(item)
        self.book.unreserve(tokens[len(got.launches):])
        if not got.looked_at:
            self.book.no_line_waiting(trunk)
        if got.held_back:
            self.wake()  # look further down the queue at once
        started = 0
        for token, launch in zip(tokens, got.launches, strict=False):
            if self.holding():  # the stop began while the claim was written: give the targets back
                self._withdraw(trunk, token, launch, now)
            else:
                self._launch(campaign, trunk, token, launch, now)
                started += 1
        return started

    def _withdraw(self, trunk: str, token: str, launch: store.Launch, now: datetime) -> None:
        self._preparing.pop(launch.channel_id, None)
        call = Call(launch, trunk, AttemptTracker(launch.channel_id, now))
        self.book.begin_reserved(token, call)
        call.tracker.withdraw(now)
        self.settler.settle_soon(call)

    def _launch(self, campaign: Campaign, trunk: str, token: str, launch: store.Launch, now: datetime) -> None:
        call = Call(launch, trunk, AttemptTracker(launch.channel_id, now),
                    operator=campaign.mode is CampaignMode.operator)
        delay = self.book.begin_reserved(token, call)
        if delay is not None:
            self.stats.line_delays.append(delay)
        self.stats.started(now)
        self.bus.publish(AttemptChanged(launch.attempt_id, launch.campaign_id, "started"))
        self.tasks.spawn(self._originate(call, campaign), f"originate {launch.channel_id}")

    @staticmethod
    async def _prepare(prepare: Prepare, attempt_id: int) -> object:
        try:
            return await prepare(attempt_id)
        except Exception as exc:  # the call is dialed all the same; its handler meets and reports the problem
            log.warning("attempt %d: not prepared before dialing: %s", attempt_id, exc)
            return None

    async def _originate(self, call: Call, campaign: Campaign) -> None:
        launch = call.launch
        preparing = self._preparing.pop(launch.channel_id, None)
        if preparing is not None:  # the member hears the first words as they answer, not the synthesiser
            await asyncio.wait({preparing}, timeout=PREPARE_WAIT)
        plan = self.config.plans.get(call.trunk) or plain(call.trunk)
        request = Originate(
            channel=plan.channel(launch.phone, self.book.lines.port(launch.channel_id)),
            channel_id=launch.channel_id, action_id=launch.action_id, timeout=self.config.ring_timeout,
            caller_id=plan.caller_id or self.config.caller_id, context=self.config.context,
            exten=campaign.mode.value,
            variables=(f"WARROOM_CAMPAIGN={campaign.id}", f"WARROOM_ATTEMPT={launch.attempt_id}", HANGUP_HANDLER,
                       f"TIMEOUT(absolute)={self.config.max_call_seconds}"))
        try:
            result = await self.ami.originate(request, timeout=self.config.ring_timeout + 15)
        except AmiError as exc:
            if not self.ami.up:
                log.warning("originate %s: %s (reconcile will settle it)", launch.channel_id, exc)
                return
            log.warning("originate %s failed: %s", launch.channel_id, exc)
            result = None
        self.settler.originated(call, result)
