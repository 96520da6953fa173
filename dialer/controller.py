"""The dialer: keeps every free line busy with due targets of running campaigns, within the rules.

Flow per attempt: hold a line -> write the attempt (``dialing``, with the ChannelId and ActionID we
chose) -> AMI Originate (Async, with a deadline) -> Newstate/Hangup events and the OriginateResponse feed
its :class:`AttemptTracker` -> once ended, one transaction settles it (retry policy, write-back) and the
line is dialed again at once. After an AMI reconnect, or at start-up, attempts are reconciled against
Asterisk's live channels before anything new is dialed, so nothing is dialed twice by accident.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from adapters.ami import AmiClient, AmiError
from db.campaigns import AttemptState, Campaign, CampaignMode
from db.models import utcnow
from dialer import store
from dialer.attempt import AttemptTracker
from dialer.campaigns import rules_for
from dialer.endings import HANGUP_HANDLER, AsteriskRecords, event_time
from dialer.lines import LineBook, Trunk
from dialer.rules import CallingRules, check
from dialer.stats import DialerStats
from events.bus import EventBus
from events.types import AmiEvent, AttemptChanged, LinkState

log = logging.getLogger(__name__)
SOFTHANGUP_SHUTDOWN = "4"  # AST_SOFTHANGUP_SHUTDOWN in a SoftHangupRequest's Cause: Asterisk is stopping


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


@dataclass
class Active:
    launch: store.Launch
    trunk: str
    tracker: AttemptTracker
    settle_task: asyncio.TimerHandle | None = None
    operator: bool = False  # a progressive campaign's call


class Dialer:
    """Build with the AMI client, the bus, a session factory and :class:`DialerConfig`; then ``start()``."""

    def __init__(self, ami: AmiClient, bus: EventBus, sessions: sessionmaker[Session], config: DialerConfig,
                 clock: Callable[[], datetime] = utcnow,
                 operator_room: Callable[[], Awaitable[int]] | None = None) -> None:
        self.ami, self.bus, self.sessions, self.config, self.clock = ami, bus, sessions, config, clock
        self.lines = LineBook([Trunk(t.name, t.lines, t.inbound_reserved) for t in config.trunks])
        self.active: dict[str, Active] = {}
        self.phones_in_call: set[str] = set()
        self.acs = store.AcIndex()
        self._wake = asyncio.Event()
        self._ready = False               # reconciled with Asterisk since the last (re)connect
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._freed: dict[str, deque[float]] = {t.name: deque() for t in config.trunks}
        self.stats = DialerStats()
        self.records = AsteriskRecords(ami)
        self._reconciling = False
        # progressive (operator-mode) campaigns dial only as many as ready operators allow (see Pacing)
        self.operator_room = operator_room

    # -- life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self.bus.subscribe(AmiEvent, self._on_ami)
        self.bus.subscribe(LinkState, self._on_link)
        await asyncio.to_thread(store.run, self.sessions, self.acs.load)
        self._task = asyncio.create_task(self._loop(), name="dialer")
        if self.ami.up:
            self._spawn(self.reconcile("start-up"))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.bus.unsubscribe(AmiEvent, self._on_ami)
        self.bus.unsubscribe(LinkState, self._on_link)

    def wake(self) -> None:
        self._wake.set()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- scheduling -------------------------------------------------------------------------------
    async def _loop(self) -> None:
        last_housekeeping = last_forget = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()
            if not (self.ami.up and self._ready):
                continue
            try:
                await self._schedule()
                if time.monotonic() - last_housekeeping > 5:
                    last_housekeeping = time.monotonic()
                    done = await asyncio.to_thread(store.run, self.sessions, store.finish_campaigns, self.clock())
                    for name in done:
                        log.info("campaign %s completed", name)
                if time.monotonic() - last_forget > 600:  # keep Asterisk's ending records small
                    last_forget = time.monotonic()
                    await self.records.forget()
            except Exception:
                log.exception("dialer pass failed; retrying")
                await asyncio.sleep(self.config.poll_interval)

    async def _schedule(self) -> None:
        campaigns = await asyncio.to_thread(store.run, self.sessions, store.running_campaigns)
        for campaign in campaigns:
            free = self.lines.free(campaign.trunk)
            if campaign.mode is CampaignMode.operator:
                free = min(free, await self._operator_room())
            if free <= 0:
                continue
            await self._fill(campaign, free)

    async def _operator_room(self) -> int:
        """Operator-mode calls we may start: what the operators allow, less those ringing out now."""
        if self.operator_room is None:
            return 0  # nobody to take the answered calls
        ringing = sum(1 for a in self.active.values() if a.operator and a.tracker.answered_at is None)
        return await self.operator_room() - ringing

    async def _fill(self, campaign: Campaign, free: int) -> None:
        rules = rules_for(campaign, self.config.rules)
        now = self.clock()
        due = await asyncio.to_thread(store.run, self.sessions, store.due_targets, campaign, now, free * 2,
                                      rules, self.acs, set(self.phones_in_call))
        if not due:
            self._freed[campaign.trunk].clear()  # nothing due: an idle line is not a re-dial delay
        launched = 0
        for item in due:
            if launched >= free or self.lines.free(campaign.trunk) <= 0:
                break
            verdict = check(item.facts, now, rules)
            if not verdict.allowed:
                await asyncio.to_thread(store.run, self.sessions, store.hold_back, item.target_id, verdict)
                self.wake()  # look further down the queue at once
                continue
            assert item.phone is not None
            if item.phone in self.phones_in_call:
                continue  # a call to that phone started during this pass
            await self._launch(campaign, item, now)
            launched += 1

    async def _launch(self, campaign: Campaign, item: store.Due, now: datetime) -> None:
        token = uuid.uuid4().hex
        channel_id, action_id = f"{self.config.channel_prefix}{token}", f"{self.config.channel_prefix}a-{token}"
        if not self.lines.take(campaign.trunk, channel_id):
            return
        assert item.phone is not None
        self.phones_in_call.add(item.phone)
        launch = None
        try:
            launch = await asyncio.to_thread(store.run, self.sessions, store.begin_attempt, item, campaign.trunk,
                                             channel_id, action_id, now)
        finally:
            if launch is None:  # failed, or the campaign was paused or stopped meanwhile: give the line back
                self.lines.release(channel_id)
                self.phones_in_call.discard(item.phone)
        if launch is None:
            return
        active = Active(launch, campaign.trunk, AttemptTracker(channel_id, now),
                        operator=campaign.mode is CampaignMode.operator)
        self.active[channel_id] = active
        self._note_line_delay(campaign.trunk)
        self.stats.started(now)
        self.bus.publish(AttemptChanged(launch.attempt_id, launch.campaign_id, "started"))
        self._spawn(self._originate(active, campaign))

    async def _originate(self, active: Active, campaign: Campaign) -> None:
        launch = active.launch
        fields = {
            "Action": "Originate", "ActionID": launch.action_id, "ChannelId": launch.channel_id,
            "Channel": f"PJSIP/{launch.phone}@{active.trunk}", "Context": self.config.context,
            "Exten": campaign.mode.value, "Priority": "1", "Async": "true",
            "Timeout": str(int(self.config.ring_timeout * 1000)), "CallerID": self.config.caller_id,
            "Variable": [f"WARROOM_CAMPAIGN={campaign.id}", f"WARROOM_ATTEMPT={launch.attempt_id}",
                         HANGUP_HANDLER],
        }
        try:
            reply = await self.ami.action(fields, timeout=self.config.ring_timeout + 15)
        except AmiError as exc:
            if not self.ami.up:
                log.warning("originate %s: %s (reconcile will settle it)", launch.channel_id, exc)
                return
            log.warning("originate %s failed: %s", launch.channel_id, exc)
            active.tracker.originate_response(False, 0, self.clock())
            self._progress(active)
            return
        events = reply if isinstance(reply, list) else [reply]
        final = next((e for e in events if e.get("Event") == "OriginateResponse"), None)
        success = final is not None and final.get("Response") == "Success"
        reason = int(final.get("Reason") or 0) if final is not None else 0
        if active.tracker.originate_response(success, reason, self.clock()):
            self._progress(active)

    # -- Asterisk events --------------------------------------------------------------------------
    def _on_ami(self, event: AmiEvent) -> None:
        name, h = event.name, event.headers
        uid = h.get("Uniqueid", "")
        active = self.active.get(uid)
        at = self._our_time(event_time(h))
        if name == "Newchannel" and active is None:
            if uid.startswith(self.config.channel_prefix):
                self._spawn(self._hangup_stray(uid))
            elif self.lines.inbound_started(h.get("Channel", ""), uid):
                self.stats.inbound += 1
            return
        if name == "SoftHangupRequest" and h.get("Cause") == SOFTHANGUP_SHUTDOWN:
            self._ready = False  # Asterisk is going down: dial nothing until it is back and reconciled
            if active is not None and active.tracker.mark_lost(at, "Asterisk shut down under the call"):
                self._spawn(self._settle(active))
            return
        if name == "Hangup":
            trunk = self.lines.release(uid)
            if trunk is not None:
                self._freed[trunk].append(time.monotonic())
                self.wake()
            if active is not None:
                self.phones_in_call.discard(active.launch.phone)
                cause = int(h["Cause"]) if h.get("Cause", "").lstrip("-").isdigit() else None
                if active.tracker.hangup(cause, at):
                    self._progress(active)
            return
        if active is None or name != "Newstate":
            return
        state = h.get("ChannelState")
        changed = active.tracker.ringing(at) if state == "5" else active.tracker.answered(at) if state == "6" else False
        if changed:
            self._spawn(asyncio.to_thread(store.run, self.sessions, store.mark_state, active.launch.attempt_id,
                                          active.tracker.state, active.tracker.answered_at))

    def _progress(self, active: Active) -> None:
        """After an event: settle now if the tracker ended, else arm the settle timer once."""
        if active.tracker.ended:
            if active.settle_task:
                active.settle_task.cancel()
            self._spawn(self._settle(active))
        elif active.settle_task is None and active.tracker.waiting_to_settle:
            loop = asyncio.get_running_loop()
            active.settle_task = loop.call_later(self.config.settle_seconds, self._settle_timer, active)

    def _settle_timer(self, active: Active) -> None:
        if active.tracker.settle(self.clock()):
            self._spawn(self._settle(active))

    async def _settle(self, active: Active) -> None:
        t = active.tracker
        assert t.disposition is not None and t.ended_at is not None
        self.active.pop(t.channel_id, None)
        trunk = self.lines.release(t.channel_id)
        if trunk is not None:
            self._freed[trunk].append(time.monotonic())
        self.phones_in_call.discard(active.launch.phone)
        detail = "; ".join(x[2] for x in t.transitions)
        await asyncio.to_thread(store.run, self.sessions, store.finish_attempt, active.launch.attempt_id,
                                disposition=t.disposition, cause=t.cause, answered_at=t.answered_at,
                                ended_at=t.ended_at, talk_seconds=t.talk_seconds, detail=detail, now=self.clock())
        self.stats.ended(t.disposition.value, self.clock())
        self.bus.publish(AttemptChanged(active.launch.attempt_id, active.launch.campaign_id, "ended",
                                        t.disposition.value))
        log.info("attempt %s (%s) ended: %s", active.launch.attempt_id, active.launch.channel_id, t.disposition)
        self.wake()

    async def _hangup_stray(self, channel_id: str) -> None:
        log.warning("channel %s is ours but no attempt owns it: hanging up", channel_id)
        try:
            await self.ami.action({"Action": "Hangup", "Channel": channel_id})
        except AmiError as exc:
            log.info("hangup of stray %s: %s", channel_id, exc)

    # -- reconcile --------------------------------------------------------------------------------
    def _on_link(self, state: LinkState) -> None:
        if state.link != "ami":
            return
        if not state.up:
            self._ready = False
            return
        self._spawn(self.reconcile("reconnect"))

    async def reconcile(self, why: str) -> None:
        """Settle our attempts against Asterisk's live channels, then allow dialing again."""
        if self._reconciling:
            return  # start-up and the link's first "up" can ask at the same moment
        self._reconciling = True
        try:
            await self._reconcile(why)
        finally:
            self._reconciling = False

    async def _reconcile(self, why: str) -> None:
        self._ready = False
        await asyncio.sleep(self.config.reconcile_grace)
        try:
            reply = await self.ami.action({"Action": "CoreShowChannels"}, timeout=10)
        except AmiError as exc:
            log.warning("reconcile (%s) postponed: %s", why, exc)
            return
        rows = reply if isinstance(reply, list) else [reply]
        live = {r.get("Uniqueid", ""): r for r in rows if r.get("Event") == "CoreShowChannel"}
        restarted = await self.records.asterisk_restarted()
        now = self.clock()
        self.lines.reset_inbound({u: r.get("Channel", "") for u, r in live.items()
                                  if not u.startswith(self.config.channel_prefix)})
        for channel_id, active in list(self.active.items()):
            if channel_id not in live:
                await self._settle_missed(active, restarted, why, now)
            else:  # events were missed while the link was down: catch up from the channel's state
                if live[channel_id].get("ChannelState") == "6":
                    active.tracker.answered(active.tracker.answered_at or now)
                active.tracker.originate_response(True, 4 if active.tracker.answered_at else 3, now)
        known = set(self.active)
        for attempt in await asyncio.to_thread(store.run, self.sessions, store.open_attempts):
            if attempt.channel_id in known:
                continue
            tracker = AttemptTracker(attempt.channel_id, attempt.created_at)
            launch = store.Launch(attempt.id, attempt.target_id or 0, attempt.campaign_id or 0,
                                  attempt.person_id or 0, attempt.phone, attempt.channel_id, attempt.action_id)
            active = Active(launch, attempt.trunk, tracker)
            if attempt.channel_id in live:  # still up: adopt it; its Hangup will end it
                self.lines.trunks.get(attempt.trunk, Trunk(attempt.trunk, 0)).outbound.add(attempt.channel_id)
                self.phones_in_call.add(attempt.phone)
                if live[attempt.channel_id].get("ChannelState") == "6":
                    tracker.answered(attempt.answered_at or now)
                tracker.originate_response(True, 4 if tracker.answered_at else 3, now)
                self.active[attempt.channel_id] = active
            else:
                await self._settle_missed(active, restarted, why, now)
        await self.records.forget()
        await asyncio.to_thread(store.run, self.sessions, self.acs.load)
        self._ready = True
        log.info("reconciled after %s: %d live calls kept", why, len(self.active))
        self.wake()

    def _our_time(self, real: datetime) -> datetime:
        """An Asterisk (wall-clock) time on the dialer's clock, so every time of an attempt is comparable."""
        return real + (self.clock() - utcnow())

    async def _settle_missed(self, active: Active, restarted: bool, why: str, now: datetime) -> None:
        """A call whose end we missed: Asterisk's own record says how it ended, unless Asterisk restarted
        (then the call died with it: failed, never answered, retried by policy)."""
        t = active.tracker
        ending = None if restarted else await self.records.ending(t.channel_id)
        if ending is not None:
            answered_real, ended_real, cause = ending
            ending = (self._our_time(answered_real) if answered_real else None, self._our_time(ended_real), cause)
        if ending is None:
            t.mark_lost(now, f"no channel after {why}" + (" (Asterisk restarted)" if restarted else ""))
        else:
            answered, ended, cause = ending
            if answered is not None:
                t.answered(answered)
            t.hangup(cause, ended)
            t.originate_response(answered is not None, 4 if answered is not None else 0, ended)
            t.settle(ended)
        await self._settle(active)

    # -- figures ----------------------------------------------------------------------------------
    def _note_line_delay(self, trunk: str) -> None:
        freed = self._freed.get(trunk)
        if freed:
            self.stats.line_delays.append(time.monotonic() - freed.popleft())

    def snapshot(self) -> dict[str, object]:
        states = [a.tracker.state for a in self.active.values()]
        return {"lines": self.lines.snapshot(),
                "dialing": sum(s is AttemptState.dialing for s in states),
                "ringing": sum(s is AttemptState.ringing for s in states),
                "answered": sum(s is AttemptState.answered for s in states),
                **self.stats.figures(self.clock())}
