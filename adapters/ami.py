"""AMI adapter: a panoramisk connection made safe for a dialer.

panoramisk is used for the protocol, with its traps closed:
- ``send_action`` has no timeout: every call here goes through :meth:`AmiClient.action` with a deadline;
- after a reconnect panoramisk re-sends actions that got no answer (an Originate could dial twice):
  we drop them on disconnect and fail their futures, so the caller decides (by its own ids) what to do;
- a dead link without a TCP close is found by our own Ping with a reply deadline;
- reconnects back off exponentially instead of every 2 s forever.
Raw events are published on the bus as :class:`events.types.AmiEvent`; link changes as ``LinkState``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.message import Message

from events.bus import EventBus
from events.types import AmiEvent, LinkState

log = logging.getLogger(__name__)


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


class _Manager(Manager):
    """panoramisk's Manager with back-off, no built-in pinger and no re-sent actions."""

    def __init__(self, owner: AmiClient, **config: Any) -> None:
        super().__init__(**config)
        self._owner = owner
        self.reconnect_timeout = owner.config.reconnect_min  # float; panoramisk casts it to int
        self.refused = False  # last login was refused: keep saying so while we retry

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if self._owner.closing:
            if not f.cancelled() and f.exception() is None:
                f.result()[0].close()
            return
        if f.cancelled() or f.exception() is not None:
            self.reconnect_timeout = min(self.reconnect_timeout * 2, self._owner.config.reconnect_max)
            self._owner.link_changed(False, f"cannot connect: {f.exception() if not f.cancelled() else ''}")
        super().connection_made(f)

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = False
        if not future.cancelled() and future.exception() is None:
            ok = bool(super().login(future))
        self.refused = not ok
        if ok:
            self.reconnect_timeout = self._owner.config.reconnect_min
            self._owner.link_changed(True, "logged in")
        else:
            self.reconnect_timeout = min(self.reconnect_timeout * 2, self._owner.config.reconnect_max)
            self._owner.link_changed(False, "login refused (check the AMI user and secret)")
            self._owner.drop_transport()  # reconnect (with back-off) rather than sit unauthenticated
        return ok

    def ping(self) -> None:  # our own ping loop replaces panoramisk's fire-and-forget one
        self.pinger = None

    def connection_lost(self, exc: Any) -> None:
        self.awaiting_actions.clear()  # never re-send after reconnect: callers own their retries
        self.authenticated = False
        why = "login refused (check the AMI user and secret)" if self.refused else f"connection lost: {exc!r}"
        self._owner.link_changed(False, why[:200])
        if self._owner.closing:
            return
        self.reconnect_timeout = min(max(self.reconnect_timeout, self._owner.config.reconnect_min),
                                     self._owner.config.reconnect_max)
        super().connection_lost(exc)


class AmiClient:
    """One AMI connection, reconnecting by itself. Build with :class:`AmiConfig` and the event bus."""

    def __init__(self, config: AmiConfig, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.closing = False
        self.up = False
        self.detail = "not started"
        self._manager: _Manager | None = None
        self._inflight: set[asyncio.Future[Any]] = set()
        self._ping_task: asyncio.Task[None] | None = None
        self._up_event = asyncio.Event()

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
        try:
            await asyncio.wait_for(self._up_event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self.closing = True
        if self._ping_task:
            self._ping_task.cancel()
            await asyncio.gather(self._ping_task, return_exceptions=True)
        if self._manager:
            self._manager.close()
        self._fail_inflight("client closed")
        self.link_changed(False, "closed")

    def link_changed(self, up: bool, detail: str) -> None:
        """Record and publish a change of the link's state (called by the manager)."""
        self.detail = detail
        if up == self.up:
            return
        self.up = up
        if up:
            self._up_event.set()
        else:
            self._up_event.clear()
            self._fail_inflight(detail)
        log.info("AMI link %s: %s", "up" if up else "down", detail)
        self.bus.publish(LinkState("ami", up, detail))

    def _fail_inflight(self, why: str) -> None:
        for fut in list(self._inflight):
            if not fut.done():
                fut.set_exception(AmiError(f"AMI link down before the reply: {why}"))
        self._inflight.clear()

    async def action(self, fields: Mapping[str, Any], timeout: float | None = None) -> Message | list[Message]:
        """Send one action and wait for its complete reply, at most ``timeout`` seconds.

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

    async def command(self, cli: str, timeout: float | None = None) -> str:
        """Run a CLI command over AMI and return its output."""
        reply = await self.action({"Action": "Command", "Command": cli}, timeout)
        msg = reply[0] if isinstance(reply, list) else reply
        out = msg.get("Output") or msg.content or ""
        return "\n".join(out) if isinstance(out, list) else str(out)

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
        headers = {str(k): (v if isinstance(v, str) else ",".join(map(str, v))) for k, v in message.items()}
        self.bus.publish(AmiEvent(str(message.get("Event", "")), headers))
