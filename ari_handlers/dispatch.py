"""The operators' side of the queue: the longest-ready operator's softphone rings for the caller who has
waited longest, their console gets the caller's details at that moment (a ``ScreenPop`` on the bus), and
when they answer, caller and operator are bridged. An operator who lets it ring out is paused (so calls do
not keep going to an empty desk) and the caller is offered to the next one; after a call the operator is
in wrap-up for a while, then ready again."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from adapters.ari import AriClient, AriError
from ari_handlers.app import CallHandler
from ari_handlers.ivr_store import outbound_info
from ari_handlers.queue import OperatorQueue
from ari_handlers.recorder import CallRecorder
from cluster import nodes
from cluster.peers import endpoint_of
from core.errors import Conflict
from db.engine import Database
from db.models import utcnow
from db.operators import OperatorState as S
from db.users import Role, User
from events.asterisk import ChannelDestroyed, StasisEvent, StasisStarted
from events.bus import EventBus
from events.types import OperatorCall, OperatorStateChanged, ScreenPop
from ivr_scripts.engine import Engine
from ivr_scripts.library import ScriptLibrary
from operators.screen import mask, screen_pop
from operators.softphones import Softphones
from operators.states import OperatorError, change, longest_ready, wrap_ups_over
from operators.webphones import endpoints

log = logging.getLogger(__name__)


class AgentLeg(CallHandler):
    """The operator's leg in our Stasis app once answered; the dispatcher does the work (via the bus)."""


@dataclass
class Offer:
    caller: str
    user_id: int
    row_id: int = 0      # the caller's queue entry
    language: str = "hi"
    connected: bool = False
    caller_left: bool = False
    bridge_id: str | None = None
    transferred_to: str | None = None  # the supervisor's leg that took the call over


@dataclass
class Transfer:
    """A caller handed by an operator to a supervisor: the supervisor's leg rings, then joins the call."""

    leg: str            # the supervisor's channel
    agent: str          # the operator's channel (hung up once the supervisor answers)
    caller: str
    bridge_id: str
    joined: bool = False


class TransferError(Conflict, ValueError):
    """A call cannot be handed over now; the message says why (fit to show on the console)."""


class Dispatcher:
    def __init__(self, ari: AriClient, bus: EventBus, db: Database, queue: OperatorQueue,
                 softphones: Softphones, *, ring_seconds: int = 20, wrap_seconds: float = 30.0,
                 clock: Callable[[], datetime] = utcnow, library: ScriptLibrary | None = None,
                 party: str = "PARTY", node: str | None = None, lease: float = 30.0,
                 recorder: CallRecorder | None = None) -> None:
        self.ari, self.bus, self.db, self.queue, self.softphones = ari, bus, db, queue, softphones
        self.ring_seconds, self.wrap_seconds, self.clock = ring_seconds, wrap_seconds, clock
        self.library, self.party = library, party  # a progressive call's screen shows its campaign's script
        self.node, self.lease = node, lease  # an operator homed on another node is rung over its trunk
        self.recorder = recorder  # operators' calls recorded (after a notice) when their campaign or setting says
        self.offers: dict[str, Offer] = {}    # operator's channel -> offer
        self.by_caller: dict[str, str] = {}   # caller's channel -> operator's channel (or supervisor's leg)
        self.transfers: dict[str, Transfer] = {}  # supervisor's leg -> transfer
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.queue.listeners.append(self._queue_event)
        self.bus.subscribe(StasisEvent, self._on_ari)
        self._task = asyncio.create_task(self._tick(), name="dispatcher")

    async def stop(self) -> None:
        self.bus.unsubscribe(StasisEvent, self._on_ari)
        if self._queue_event in self.queue.listeners:
            self.queue.listeners.remove(self._queue_event)
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.recorder is not None:
            await self.recorder.close()

    def connected_calls(self) -> dict[int, str]:
        """{operator's user id: their agent channel id} for the calls bridged with a caller now."""
        return {offer.user_id: agent for agent, offer in self.offers.items() if offer.connected}

    async def _tick(self, every: float = 1.0) -> None:
        """Wrap-ups that are over become ready; operators who just went ready get waiting callers."""
        while True:
            try:
                for user_id in await self.db.run(wrap_ups_over, self.clock()):
                    await self._set(user_id, S.ready, by_system=True, at=self.clock())
                if self.queue.waiting:
                    await self.kick()
            except Exception:
                log.exception("dispatcher pass failed")
            await asyncio.sleep(every)

    async def _queue_event(self, what: str, channel_id: str) -> None:
        if what == "entered":
            await self.kick()
        elif what == "gone":
            await self._caller_gone(channel_id)

    async def kick(self) -> None:
        """Offer each waiting caller (oldest first) to the longest-ready registered operator."""
        async with self._lock:
            busy = [o.user_id for o in self.offers.values()]
            for waiting in self.queue.oldest_first():
                if waiting.channel_id in self.by_caller:
                    continue
                while True:
                    user_id = await self.db.run(longest_ready, busy)
                    if user_id is None:
                        return
                    busy.append(user_id)
                    if await self._offer(waiting.channel_id, waiting.row_id, user_id):
                        break

    async def _route(self, user_id: int) -> str | None:
        """How to ring the operator from this node (None: no phone of theirs is registered anywhere we know):
        their browser phone if it is registered, else their softphone; directly when it is registered here,
        over the trunk to its home node otherwise."""
        found = await self.db.run(_endpoint_of, user_id)
        if found is None:
            return None
        username, home = found
        for endpoint in endpoints(username):
            if home is None or home == self.node:
                if await self.softphones.registered(endpoint):
                    return f"PJSIP/{endpoint}"
            elif await self.db.run(nodes.registered_on, home, endpoint, self.clock(), self.lease):
                return f"PJSIP/{endpoint}@{endpoint_of(home)}"
        return None

    async def _offer(self, caller: str, row_id: int, user_id: int) -> bool:
        dial = await self._route(user_id)
        if dial is None:
            log.info("dispatch: operator %d is ready but the softphone is not registered; skipping", user_id)
            return False
        try:
            await self._set(user_id, S.on_call, by_system=True, channel_id=caller, at=self.clock())
        except OperatorError as exc:  # another node gave them a call this very moment
            log.info("dispatch: operator %d taken meanwhile (%s)", user_id, exc)
            return False
        details = await self.db.run(screen_pop, row_id)
        if details.get("attempt_id") and self.library is not None:
            details["script"] = await self.db.run(_script_texts, self.library,
                                                details["attempt_id"], self.party)
        agent = f"agent-{uuid.uuid4().hex}"
        waiting = self.queue.waiting.get(caller)
        self.offers[agent] = Offer(caller, user_id, row_id, waiting.language if waiting else "hi")
        self.by_caller[caller] = agent
        self.bus.publish(ScreenPop(user_id, caller, details))  # the console shows it as the phone rings
        self.bus.publish(OperatorCall(user_id, caller, "ringing"))
        try:
            await self.ari.request("POST", f"/channels/{agent}", endpoint=dial, app=self.ari.config.app,
                                   appArgs=f"agent,{caller}", timeout=self.ring_seconds,
                                   callerId=f"War room <{mask(details.get('phone')) if details else 'queue'}>")
        except AriError as exc:
            log.warning("dispatch: cannot ring %s: %s", dial, exc)
            self.offers.pop(agent, None)
            self.by_caller.pop(caller, None)
            await self._set(user_id, S.ready, by_system=True, at=self.clock())
            return False
        log.info("dispatch: ringing %s for %s", dial, caller)
        return True

    async def transfer(self, user_id: int, to_user_id: int) -> str:
        """Hand this operator's connected caller to a supervisor: the supervisor's phone (browser phone first)
        rings; once answered it joins the call and the operator's leg is hung up (they go to wrap-up). Returns
        the supervisor's leg; raises :class:`TransferError` when it cannot start."""
        found = [(agent, o) for agent, o in self.offers.items() if o.user_id == user_id and o.connected]
        if not found:
            raise TransferError("you are not on a connected call")
        agent, offer = found[0]
        if offer.transferred_to or any(t.agent == agent for t in self.transfers.values()):
            raise TransferError("this call is already being handed over")
        who = await self.db.run(_supervisor, to_user_id)
        dial = await self._route(to_user_id)
        if dial is None:
            raise TransferError(f"{who} has no registered phone")
        leg = f"xfer-{uuid.uuid4().hex}"
        assert offer.bridge_id is not None
        self.transfers[leg] = Transfer(leg, agent, offer.caller, offer.bridge_id)
        name = await self.db.run(_display_name, user_id)
        try:
            await self.ari.request("POST", f"/channels/{leg}", endpoint=dial, app=self.ari.config.app,
                                   appArgs=f"transfer,{offer.caller}", timeout=self.ring_seconds,
                                   callerId=f"Transfer: {name} <transfer>")
        except AriError as exc:
            self.transfers.pop(leg, None)
            raise TransferError(f"cannot ring {who}: {exc}") from exc
        log.info("dispatch: operator %d hands %s to %s (%s)", user_id, offer.caller, dial, leg)
        return leg

    async def _on_transfer(self, event: StasisEvent) -> None:
        t = self.transfers[event.channel_id]
        if isinstance(event, StasisStarted):  # the supervisor answered: in they go, out goes the operator
            offer = self.offers.get(t.agent)
            try:
                await self.ari.request("POST", f"/bridges/{t.bridge_id}/addChannel", channel=t.leg)
            except AriError as exc:
                log.warning("dispatch: transfer %s could not join (%s)", t.leg, exc)
                await self._hangup(t.leg)
                return
            t.joined = True
            self.by_caller[t.caller] = t.leg
            if offer is not None:
                offer.transferred_to = t.leg
            await self._hangup(t.agent)
        elif isinstance(event, ChannelDestroyed):
            self.transfers.pop(t.leg, None)
            if t.joined:  # the supervisor hung up: the call is over
                self.by_caller.pop(t.caller, None)
                if self.recorder is not None:
                    await self.recorder.stop(t.caller)
                await self._hangup(t.caller)
                await self._quietly("DELETE", f"/bridges/{t.bridge_id}")

    async def _on_ari(self, event: StasisEvent) -> None:
        channel = event.channel_id
        if self.recorder is not None and self.recorder.owns(channel):
            await self.recorder.on_event(event)
            return
        if channel in self.transfers:
            await self._on_transfer(event)
            return
        if channel not in self.offers:
            return
        if isinstance(event, StasisStarted):
            await self._connect(channel)
        elif isinstance(event, ChannelDestroyed):
            await self._operator_gone(channel)

    async def _connect(self, agent: str) -> None:
        offer = self.offers[agent]
        bridge = f"call-{agent[len('agent-'):]}"
        try:
            await self.queue.quiet(offer.caller)
            await self.ari.request("POST", f"/bridges/{bridge}", type="mixing", name="operator call")
            await self.ari.request("POST", f"/bridges/{self.queue.bridge_id}/removeChannel", channel=offer.caller)
            await self.ari.request("POST", f"/bridges/{bridge}/addChannel", channel=f"{offer.caller},{agent}")
        except AriError as exc:
            log.warning("dispatch: bridging %s failed (%s); hanging up the operator's leg", offer.caller, exc)
            await self._hangup(agent)
            return
        offer.connected, offer.bridge_id = True, bridge
        await self.queue.leave(offer.caller, "answered")
        self.bus.publish(OperatorCall(offer.user_id, offer.caller, "connected"))
        log.info("dispatch: %s connected to operator %d", offer.caller, offer.user_id)
        if self.recorder is not None:
            plan = await self.recorder.plan(offer.row_id)
            if plan is not None:
                self.recorder.begin(plan, caller=offer.caller, bridge_id=bridge, user_id=offer.user_id,
                                    language=offer.language)

    async def _operator_gone(self, agent: str) -> None:
        offer = self.offers.pop(agent, None)
        if offer is None:
            return
        self.by_caller.pop(offer.caller, None)
        now = self.clock()
        if offer.connected:
            if offer.transferred_to is None:  # else the caller stays, with the supervisor
                if self.recorder is not None:
                    await self.recorder.stop(offer.caller)
                await self._hangup(offer.caller)
                if offer.bridge_id:
                    await self._quietly("DELETE", f"/bridges/{offer.bridge_id}")
            await self._set(offer.user_id, S.wrap_up, by_system=True,
                            wrap_seconds=self.wrap_seconds, at=now)
            self.bus.publish(OperatorCall(offer.user_id, offer.caller, "ended"))
        elif offer.caller_left:
            await self._set(offer.user_id, S.ready, by_system=True, at=now)
            self.bus.publish(OperatorCall(offer.user_id, offer.caller, "ended"))
        else:  # rang out or refused: the desk is empty; the caller waits for the next operator
            await self._set(offer.user_id, S.paused, by_system=True,
                            reason="missed a call", at=now)
            self.bus.publish(OperatorCall(offer.user_id, offer.caller, "missed"))
            await self.kick()

    async def _caller_gone(self, caller: str) -> None:
        agent = self.by_caller.get(caller)
        if agent is None:
            return
        if self.recorder is not None:
            await self.recorder.stop(caller)
        if agent in self.transfers:  # handed to a supervisor: their leg ends too
            await self._hangup(agent)
            return
        self.offers[agent].caller_left = True
        await self._hangup(agent)

    async def _set(self, user_id: int, to: S, **kw: Any) -> None:
        """Change an operator's state (as the system) and tell their console."""
        row = await self.db.run(change, user_id, to, **kw)
        self.bus.publish(OperatorStateChanged(user_id, row.state.value, row.reason, row.channel_id))

    async def _hangup(self, channel: str) -> None:
        await self._quietly("DELETE", f"/channels/{channel}")

    async def _quietly(self, method: str, path: str) -> None:
        try:
            await self.ari.request(method, path)
        except AriError as exc:
            log.debug("dispatch: %s %s: %s", method, path, exc)


def _endpoint_of(session: Session, user_id: int) -> tuple[str, str | None] | None:
    """The user's name (their phones' endpoints are named after it) and home node."""
    user = session.get(User, user_id)
    return (user.username, user.home_node) if user is not None else None


def _supervisor(session: Session, user_id: int) -> str:
    """The display name of a supervisor (or admin) calls may be handed to; refused for anyone else."""
    user = session.get(User, user_id)
    if user is None or user.disabled or user.role not in (Role.supervisor, Role.admin):
        raise TransferError("calls are handed to supervisors only")
    return user.display_name


def _display_name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return " ".join(re.sub(r'["<>\\;]', "", user.display_name).split())[:60] if user else "operator"


def _script_texts(session: Session, library: ScriptLibrary, attempt_id: int, party: str) -> list[str]:
    """The campaign's script for this person's booth, in their language, for the operator to read."""
    info = outbound_info(session, attempt_id, party=party)
    script = library.for_status(info.scripts, info.booth_status)
    engine = Engine(script, info.language, info.context)
    return [engine.prompt(step, "text").text for step in script.steps if step.texts().get("text")]
