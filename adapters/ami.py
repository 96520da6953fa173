"""AMI adapter: a panoramisk connection made safe for a dialer, speaking typed events and actions.

panoramisk is used for the protocol, with its traps closed:
- ``send_action`` has no timeout: every call here goes through :meth:`AmiClient.action` with a deadline;
- after a reconnect panoramisk re-sends actions that got no answer (an Originate could dial twice):
  we drop them on disconnect and fail their futures, so the caller decides (by its own ids) what to do;
- a dead link without a TCP close is found by our own Ping with a reply deadline;
- reconnects back off exponentially instead of every 2 s forever.
Events are published on the bus typed (:mod:`events.asterisk`, parsed in :mod:`adapters.ami_events`); the
actions the service needs are typed methods (:meth:`originate`, :meth:`channels`...), so nothing above
this module reads an AMI header.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.message import Message

from adapters.ami_events import parse_event
from adapters.link import Backoff, LinkStatus
from events.asterisk import ChannelState, LiveChannel, OriginateResult
from events.bus import EventBus

log = logging.getLogger(__name__)
REFUSED = "login refused (check the AMI user and secret)"


class AmiError(RuntimeError):
    """An AMI action failed, timed out, or the link is down."""


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str
    action_timeout: float = 5.0
    ping_interval: float = 5.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    boot_wait: float = 10.0  # after login, how long to wait for FullyBooted before taking the link up anyway


@dataclass(frozen=True)
class Originate:
    """One Originate: to ``context``/``exten`` (dialplan) or to ``application``/``data``."""

    channel: str
    channel_id: str
    action_id: str
    timeout: float                 # seconds it may ring
    caller_id: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 1
    application: str = ""
    data: str = ""
    variables: Sequence[str] = ()  # NAME=value (commas inside a value escaped by the caller)

    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"Action": "Originate", "ActionID": self.action_id, "ChannelId": self.channel_id,
                                  "Channel": self.channel, "Async": "true", "Timeout": str(int(self.timeout * 1000))}
        if self.application:
            fields.update(Application=self.application, Data=self.data)
        else:
            fields.update(Context=self.context, Exten=self.exten, Priority=str(self.priority))
        if self.caller_id:
            fields["CallerID"] = self.caller_id
        if self.variables:
            fields["Variable"] = list(self.variables)
        return fields


class _Manager(Manager):
    """panoramisk's Manager with back-off, no built-in pinger and no re-sent actions."""

    def __init__(self, owner: AmiClient, **config: Any) -> None:
        super().__init__(**config)
        self._owner = owner
        self.reconnect_timeout = owner.backoff.next()  # float; panoramisk casts it to int
        self.refused = False  # last login was refused: keep saying so while we retry

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if self._owner.closing:
            if not f.cancelled() and f.exception() is None:
                f.result()[0].close()
            return
        if f.cancelled() or f.exception() is not None:
            self.reconnect_timeout = self._owner.backoff.next()
            self._owner.link.set(False, f"cannot connect: {f.exception() if not f.cancelled() else ''}")
        super().connection_made(f)

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = False
        if not future.cancelled() and future.exception() is None:
            ok = bool(super().login(future))
        self.refused = not ok
        if ok:
            self._owner.backoff.reset()
            self.reconnect_timeout = self._owner.backoff.next()
            self._owner.logged_in()
        else:
            self.reconnect_timeout = self._owner.backoff.next()
            self._owner.link.set(False, REFUSED)
            self._owner.drop_transport()  # reconnect (with back-off) rather than sit unauthenticated
        return ok

    def ping(self) -> None:  # our own ping loop replaces panoramisk's fire-and-forget one
        self.pinger = None

    def connection_lost(self, exc: Any) -> None:
        self.awaiting_actions.clear()  # never re-send after reconnect: callers own their retries
        self.authenticated = False
        self._owner.connection_lost()
        self._owner.link.set(False, REFUSED if self.refused else f"connection lost: {exc!r}"[:200])
        if self._owner.closing:
            return
        super().connection_lost(exc)


class AmiClient:
    """One AMI connection, reconnecting by itself. Build with :class:`AmiConfig` and the event bus."""

    def __init__(self, config: AmiConfig, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.closing = False
        self.backoff = Backoff(config.reconnect_min, config.reconnect_max)
        self.link = LinkStatus("ami", bus, on_down=self._fail_inflight)
        self._manager: _Manager | None = None
        self._inflight: set[asyncio.Future[Any]] = set()
        self._ping_task: asyncio.Task[None] | None = None
        self._boot_wait: asyncio.TimerHandle | None = None
        self._booted = False  # FullyBooted seen on this connection (it may come before the login's callback)
        self.events_seen: Counter[str] = Counter()  # AMI events received, by name (what the filter let through)

    @property
    def up(self) -> bool:
        return self.link.up

    @property
    def detail(self) -> str:
        return self.link.detail

    async def start(self) -> None:
        """Start connecting (returns at once; the link comes up in the background)."""
        loop = asyncio.get_running_loop()
        self.closing = False
        self._manager = _Manager(
            self, host=self.config.host, port=self.config.port, username=self.config.username,
            secret=self.config.secret, loop=loop, ping_delay=10**9, ping_interval=10**9,
            forgetable_actions=("ping", "login"), events="on",
        )
        self._manager.register_event("*", self._on_event)
        self._manager.connect()
        self._ping_task = asyncio.create_task(self._ping_loop(), name="ami-ping")

    async def wait_up(self, timeout: float) -> bool:
        """Wait until logged in; False on timeout."""
        return await self.link.wait_up(timeout)

    def logged_in(self) -> None:
        """Logged in: the link is up once Asterisk says it has fully booted (it says so at once when it has;
        before that, channel drivers may still be loading and an Originate would fail), or after
        ``boot_wait`` seconds without that word (an AMI user without the ``system`` read class)."""
        self._cancel_boot_wait()
        if self._booted:
            self.link.set(True, "logged in")
            return
        self.link.set(False, "logged in; waiting for Asterisk to finish booting")
        self._boot_wait = asyncio.get_running_loop().call_later(self.config.boot_wait, self._booted_unsaid)

    def connection_lost(self) -> None:
        self._cancel_boot_wait()
        self._booted = False

    def _cancel_boot_wait(self) -> None:
        if self._boot_wait is not None:
            self._boot_wait.cancel()
            self._boot_wait = None

    def _booted_unsaid(self) -> None:
        self._boot_wait = None
        log.warning("AMI: no FullyBooted event %.0fs after login (does the AMI user read the 'system' class?);"
                    " taking the link up anyway", self.config.boot_wait)
        self.link.set(True, "logged in (Asterisk never said it had fully booted)")

    async def close(self) -> None:
        self.closing = True
        self._cancel_boot_wait()
        if self._ping_task:
            self._ping_task.cancel()
            await asyncio.gather(self._ping_task, return_exceptions=True)
        if self._manager:
            self._manager.close()
        self._fail_inflight("client closed")
        self.link.set(False, "closed")

    def _fail_inflight(self, why: str) -> None:
        for fut in list(self._inflight):
            if not fut.done():
                fut.set_exception(AmiError(f"AMI link down before the reply: {why}"))
        self._inflight.clear()

    # -- actions ----------------------------------------------------------------------------------------
    async def action(self, fields: Mapping[str, Any], timeout: float | None = None) -> Message | list[Message]:
        """Send one action and wait for its complete reply, at most ``timeout`` seconds (the adapter's own
        building block; components use the typed methods below).

        ``fields`` may carry our own ``ActionID`` (used to correlate later events); one is generated
        otherwise. Raises :class:`AmiError` when the link is down, on timeout, or on an Error response.
        """
        manager = self._manager
        if manager is None or not self.up or manager.protocol is None:
            raise AmiError(f"AMI link is down ({self.detail})")
        action = Action(dict(fields))
        if not action.get("ActionID"):
            action["ActionID"] = uuid.uuid4().hex
        fut = manager.send_action(action)
        self._inflight.add(fut)
        try:
            reply = await asyncio.wait_for(asyncio.shield(fut), timeout or self.config.action_timeout)
        except TimeoutError as exc:
            raise AmiError(f"no reply to {fields.get('Action')} within "
                           f"{timeout or self.config.action_timeout}s") from exc
        finally:
            self._inflight.discard(fut)
        first = reply[0] if isinstance(reply, list) else reply
        if first.get("Response") == "Error":
            raise AmiError(f"{fields.get('Action')} refused: {first.get('Message')}")
        return reply

    async def originate(self, request: Originate, timeout: float) -> OriginateResult:
        """Send an Originate (``Async``) and wait for its OriginateResponse, at most ``timeout`` seconds."""
        reply = await self.action(request.fields(), timeout=timeout)
        final = next((m for m in _messages(reply) if m.get("Event") == "OriginateResponse"), None)
        if final is None:
            return OriginateResult(request.action_id, request.channel_id, False, 0)
        return OriginateResult(request.action_id, str(final.get("Uniqueid") or request.channel_id),
                               final.get("Response") == "Success", _int(final.get("Reason")) or 0)

    async def channels(self, timeout: float = 10.0) -> list[LiveChannel]:
        """Every channel Asterisk has now."""
        reply = await self.action({"Action": "CoreShowChannels"}, timeout=timeout)
        return [LiveChannel(str(m.get("Uniqueid", "")), str(m.get("Channel", "")),
                            ChannelState.parse(m.get("ChannelState", "")))
                for m in _messages(reply) if m.get("Event") == "CoreShowChannel"]

    async def hangup(self, channel: str) -> None:
        """Hang up a channel (by name or id)."""
        await self.action({"Action": "Hangup", "Channel": channel})

    async def started_at(self) -> str:
        """When Asterisk last started (its ``CoreStartupDate`` and ``CoreStartupTime``): a restart changes it."""
        first = _messages(await self.action({"Action": "CoreStatus"}))[0]
        return f"{first.get('CoreStartupDate')} {first.get('CoreStartupTime')}"

    async def db_get(self, family: str, key: str) -> str | None:
        """A value from Asterisk's own database (AstDB), None when absent."""
        try:
            reply = await self.action({"Action": "DBGet", "Family": family, "Key": key})
        except AmiError as exc:
            if "refused" in str(exc):  # Asterisk answers "Database entry not found" as an Error
                return None
            raise
        return next((str(m.get("Val")) for m in _messages(reply) if m.get("Val")), None)

    async def reload_module(self, module: str, timeout: float = 10.0) -> None:
        await self.action({"Action": "Reload", "Module": module}, timeout=timeout)

    async def outbound_registrations(self, timeout: float = 10.0) -> dict[str, str]:
        """Each outbound registration (by its name, the trunk's) and its status now: ``Registered``,
        ``Unregistered`` or ``Rejected``. (The reply's auth details are dropped unread: they hold passwords.)"""
        reply = await self.action({"Action": "PJSIPShowRegistrationsOutbound"}, timeout=timeout)
        return {str(m.get("ObjectName")): str(m.get("Status") or "Unregistered") for m in _messages(reply)
                if m.get("Event") == "OutboundRegistrationDetail" and m.get("ObjectName")}

    async def register(self, registration: str) -> None:
        """Ask Asterisk to register this outbound registration now (``PJSIPRegister``)."""
        await self.action({"Action": "PJSIPRegister", "Registration": registration})

    async def commands(self) -> set[str]:
        """The AMI actions this user may run (``ListCommands``: filtered by its write permissions)."""
        reply = await self.action({"Action": "ListCommands"})
        first = _messages(reply)[0]
        return {str(k) for k in first.keys() if k not in ("Response", "ActionID", "Message")}


    # -- the link -----------------------------------------------------------------------------------------
    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.ping_interval)
            if not self.up:
                continue
            try:
                await self.action({"Action": "Ping"}, timeout=self.config.action_timeout)
            except AmiError as exc:
                log.warning("AMI ping failed (%s): dropping the link to reconnect", exc)
                self.drop_transport()

    def drop_transport(self) -> None:
        """Abort the TCP connection; the manager then reconnects with back-off."""
        manager = self._manager
        protocol = getattr(manager, "protocol", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.abort()  # connection_lost follows and reconnects with back-off

    def _on_event(self, _manager: Manager, message: Message) -> None:
        name = str(message.get("Event", ""))
        self.events_seen[name] += 1
        if name == "FullyBooted":
            self._booted = True
            if self._boot_wait is not None:  # logged in, waiting for it
                self._cancel_boot_wait()
                self.link.set(True, "logged in")
            return
        headers = {str(k): (v if isinstance(v, str) else ",".join(map(str, v))) for k, v in message.items()}
        event = parse_event(name, headers)
        if event is not None:
            self.bus.publish(event)


def _messages(reply: Message | list[Message]) -> list[Message]:
    return reply if isinstance(reply, list) else [reply]


def _int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.lstrip("-").isdigit() and text.isascii() else None
