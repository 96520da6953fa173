"""Scheduling: fill every free line with due targets of running campaigns, within the calling rules.

Per pass and campaign: hold the free lines (the book) -> claim that many due targets in one transaction
(:mod:`dialer.claims`: attempts written as ``dialing`` with the ChannelId and ActionID we chose and this
node's name) -> one AMI Originate each (``Async``, with a deadline); their results go to the settler.
Nothing here reacts to Asterisk's events: that is :mod:`dialer.settling`.
"""

from __future__ import annotations

import logging
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
from dialer.lines import Trunk
from dialer.rules import CallingRules
from dialer.settling import Settler
from dialer.stats import DialerStats
from dialer.trunk_choice import AllUp, CampaignWaits, TrunkGate, choose, trunk_names
from events.bus import EventBus
from events.types import AttemptChanged

log = logging.getLogger(__name__)


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
    plans: dict[str, DialPlan] = field(default_factory=dict)  # how each trunk dials (default: E.164, plain)


OperatorRoom = Callable[[], Awaitable[int]]


class Pacer(Protocol):
    """Predictive pacing (:class:`dialer.predictive.PredictivePacer`): calls a campaign may start now."""

    async def room(self, campaign: Campaign, free: int, ringing: list[float], campaigns: int = 1,
                   index: int = 0) -> int: ...

    def figures(self) -> dict[int, dict[str, Any]]: ...


class Scheduler:
    """One scheduling pass at a time (the controller's loop calls :meth:`run_pass`)."""

    def __init__(self, book: CallBook, db: Database, ami: AmiPort, bus: EventBus, settler: Settler,
                 stats: DialerStats, tasks: Tasks, *, config: DialerConfig, clock: Callable[[], datetime],
                 acs: store.AcIndex, operator_room: OperatorRoom | None, wake: Callable[[], None],
                 trunks: TrunkGate | None = None, pacer: Pacer | None = None,
                 holding: Callable[[], bool] = lambda: False) -> None:
        self.pacer, self.holding = pacer, holding
        self.book, self.db, self.ami, self.bus, self.settler = book, db, ami, bus, settler
        self.stats, self.tasks, self.config, self.clock, self.acs = stats, tasks, config, clock, acs
        self.operator_room, self.wake = operator_room, wake
        self.trunks = trunks or AllUp()
        self.waits = CampaignWaits(db)

    async def run_pass(self) -> None:
        running = await self.db.run(store.running_campaigns)
        operator_campaigns = [c.id for c in running if c.mode is CampaignMode.operator]
        for campaign in running:
            if self.holding():
                return  # the service is stopping: no new calls
            trunk, free, why = choose(trunk_names(campaign.trunk), self.book.free, self.trunks,
                                      known=lambda name: name in self.book.lines.trunks)
            await self.waits.note(campaign, why)
            if trunk is None:
                continue
            if campaign.mode is CampaignMode.operator:
                if campaign.pacing is CampaignPacing.predictive and self.pacer is not None:
                    free = await self.pacer.room(campaign, free, self.book.ringing_ages(campaign.id, self.clock()),
                                                 len(operator_campaigns), operator_campaigns.index(campaign.id))
                else:
                    free = min(free, await self._operator_room())
            if free > 0:
                await self._fill(campaign, trunk, free)

    async def _operator_room(self) -> int:
        """Operator-mode calls we may start: what the operators allow, less those ringing out now."""
        if self.operator_room is None:
            return 0  # nobody to take the answered calls
        return await self.operator_room() - self.book.operator_calls_ringing()

    def _ids(self) -> tuple[str, str]:
        token = uuid.uuid4().hex
        return f"{self.config.channel_prefix}{token}", f"{self.config.channel_prefix}a-{token}"

    async def _fill(self, campaign: Campaign, trunk: str, free: int) -> None:
        rules = rules_for(campaign, self.config.rules)
        now = self.clock()
        tokens = self.book.reserve(trunk, free)  # the lines are ours while the claim is written
        try:
            got = await self.db.run(claims.claim, campaign.id, now, len(tokens), rules, self.acs, self.config.node,
                                    trunk, self.book.phones, self._ids)
        except BaseException:
            self.book.unreserve(tokens)
            raise
        self.book.unreserve(tokens[len(got.launches):])
        if not got.looked_at:
            self.book.no_line_waiting(trunk)
        if got.held_back:
            self.wake()  # look further down the queue at once
        for token, launch in zip(tokens, got.launches, strict=False):
            if self.holding():  # the stop began while the claim was written: give the targets back
                self._withdraw(trunk, token, launch, now)
            else:
                self._launch(campaign, trunk, token, launch, now)

    def _withdraw(self, trunk: str, token: str, launch: store.Launch, now: datetime) -> None:
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

    async def _originate(self, call: Call, campaign: Campaign) -> None:
        launch = call.launch
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
