"""Scheduling: fill every free line with due targets of running campaigns, within the calling rules.

Per attempt: hold a line and the phone (the book) -> write the attempt (``dialing``, with the ChannelId and
ActionID we chose) -> AMI Originate (``Async``, with a deadline); its result goes to the settler. Nothing
here reacts to Asterisk's events: that is :mod:`dialer.settling`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from adapters.ami import AmiError, Originate
from core.tasks import Tasks
from db.campaigns import Campaign, CampaignMode
from db.engine import Database
from dialer import store
from dialer.attempt import AttemptTracker
from dialer.callbook import Call, CallBook
from dialer.campaigns import rules_for
from dialer.dialplans import DialPlan, plain
from dialer.endings import HANGUP_HANDLER, AmiPort
from dialer.lines import Trunk
from dialer.rules import CallingRules, check
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
    plans: dict[str, DialPlan] = field(default_factory=dict)  # how each trunk dials (default: E.164, plain)


OperatorRoom = Callable[[], Awaitable[int]]


class Scheduler:
    """One scheduling pass at a time (the controller's loop calls :meth:`run_pass`)."""

    def __init__(self, book: CallBook, db: Database, ami: AmiPort, bus: EventBus, settler: Settler,
                 stats: DialerStats, tasks: Tasks, *, config: DialerConfig, clock: Callable[[], datetime],
                 acs: store.AcIndex, operator_room: OperatorRoom | None, wake: Callable[[], None],
                 trunks: TrunkGate | None = None) -> None:
        self.book, self.db, self.ami, self.bus, self.settler = book, db, ami, bus, settler
        self.stats, self.tasks, self.config, self.clock, self.acs = stats, tasks, config, clock, acs
        self.operator_room, self.wake = operator_room, wake
        self.trunks = trunks or AllUp()
        self.waits = CampaignWaits(db)

    async def run_pass(self) -> None:
        for campaign in await self.db.run(store.running_campaigns):
            trunk, free, why = choose(trunk_names(campaign.trunk), self.book.free, self.trunks,
                                      known=lambda name: name in self.book.lines.trunks)
            await self.waits.note(campaign, why)
            if trunk is None:
                continue
            if campaign.mode is CampaignMode.operator:
                free = min(free, await self._operator_room())
            if free > 0:
                await self._fill(campaign, trunk, free)

    async def _operator_room(self) -> int:
        """Operator-mode calls we may start: what the operators allow, less those ringing out now."""
        if self.operator_room is None:
            return 0  # nobody to take the answered calls
        return await self.operator_room() - self.book.operator_calls_ringing()

    async def _fill(self, campaign: Campaign, trunk: str, free: int) -> None:
        rules = rules_for(campaign, self.config.rules)
        now = self.clock()
        due = await self.db.run(store.due_targets, campaign, now, free * 2, rules, self.acs, self.book.phones)
        if not due:
            self.book.no_line_waiting(trunk)
        launched = 0
        for item in due:
            if launched >= free or self.book.free(trunk) <= 0:
                break
            verdict = check(item.facts, now, rules)
            if not verdict.allowed:
                await self.db.run(store.hold_back, item.target_id, verdict)
                self.wake()  # look further down the queue at once
                continue
            if await self._launch(campaign, trunk, item, now):
                launched += 1

    async def _launch(self, campaign: Campaign, trunk: str, item: store.Due, now: datetime) -> bool:
        token = uuid.uuid4().hex
        channel_id, action_id = f"{self.config.channel_prefix}{token}", f"{self.config.channel_prefix}a-{token}"
        assert item.phone is not None
        if not self.book.hold(trunk, channel_id, item.phone):
            return False  # no line, or a call to that phone started during this pass
        launch = None
        try:
            launch = await self.db.run(store.begin_attempt, item, trunk, channel_id, action_id, now)
        finally:
            if launch is None:  # failed, or the campaign was paused or stopped meanwhile: give it all back
                self.book.drop(channel_id)
        if launch is None:
            return False
        call = Call(launch, trunk, AttemptTracker(channel_id, now),
                    operator=campaign.mode is CampaignMode.operator)
        delay = self.book.begin(call)
        if delay is not None:
            self.stats.line_delays.append(delay)
        self.stats.started(now)
        self.bus.publish(AttemptChanged(launch.attempt_id, launch.campaign_id, "started"))
        self.tasks.spawn(self._originate(call, campaign), f"originate {channel_id}")
        return True

    async def _originate(self, call: Call, campaign: Campaign) -> None:
        launch = call.launch
        plan = self.config.plans.get(call.trunk) or plain(call.trunk)
        request = Originate(
            channel=plan.channel(launch.phone, self.book.lines.port(launch.channel_id)),
            channel_id=launch.channel_id, action_id=launch.action_id, timeout=self.config.ring_timeout,
            caller_id=plan.caller_id or self.config.caller_id, context=self.config.context,
            exten=campaign.mode.value,
            variables=(f"WARROOM_CAMPAIGN={campaign.id}", f"WARROOM_ATTEMPT={launch.attempt_id}", HANGUP_HANDLER))
        try:
            result = await self.ami.originate(request, timeout=self.config.ring_timeout + 15)
        except AmiError as exc:
            if not self.ami.up:
                log.warning("originate %s: %s (reconcile will settle it)", launch.channel_id, exc)
                return
            log.warning("originate %s failed: %s", launch.channel_id, exc)
            result = None
        self.settler.originated(call, result)
