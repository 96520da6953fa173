"""Keeps :class:`~trunks.health.TrunkHealth` true: Asterisk's ``Registry`` and ``ContactStatus`` events as
they come, and the whole picture asked again after every AMI (re)connection and now and then (events are
only sent on a change, and a change while the link was down is never replayed)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from core.tasks import Tasks
from events.asterisk import ContactChanged, LinkState, RegistrationChanged
from events.bus import EventBus
from trunks.health import TrunkHealth

log = logging.getLogger(__name__)
EndpointState = Callable[[str], Awaitable[str | None]]


class RegistrationsPort(Protocol):
    """What the monitor asks of the AMI adapter (``adapters.ami.AmiClient``; a fake in unit tests)."""

    @property
    def up(self) -> bool: ...

    async def outbound_registrations(self, timeout: float = 10.0) -> dict[str, str]: ...

    async def register(self, registration: str) -> None: ...


class TrunkMonitor:
    """Feeds the trunks' health from Asterisk. ``endpoint_state`` gives ARI's state of an endpoint
    (``online`` / ``offline`` / ``unknown``: whether its contact answers OPTIONS)."""

    def __init__(self, health: TrunkHealth, ami: RegistrationsPort, bus: EventBus, endpoint_state: EndpointState,
                 *, refresh_every: float = 30.0, on_change: Callable[[str], None] = lambda _t: None) -> None:
        self.health, self.ami, self.bus, self.endpoint_state = health, ami, bus, endpoint_state
        self.refresh_every, self.on_change = refresh_every, on_change
        self.tasks = Tasks("trunks")
        self._loop: asyncio.Task[None] | None = None
        self._subscriptions: list[tuple[type, Callable[[Any], None]]] = [
            (RegistrationChanged, self._on_registration), (ContactChanged, self._on_contact),
            (LinkState, self._on_link)]

    async def start(self) -> None:
        for kind, handler in self._subscriptions:
            self.bus.subscribe(kind, handler)
        if self.health.trunks:
            self._loop = asyncio.create_task(self._every(), name="trunk refresh")

    async def stop(self) -> None:
        for kind, handler in self._subscriptions:
            self.bus.unsubscribe(kind, handler)
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        await self.tasks.cancel_all()

    def _on_registration(self, event: RegistrationChanged) -> None:
        trunk = self.health.registration(event)
        if trunk is not None:
            self.on_change(trunk)

    def _on_contact(self, event: ContactChanged) -> None:
        trunk = self.health.contact(event)
        if trunk is None:
            return
        self.on_change(trunk)
        state = self.health.trunks[trunk]
        if event.status == "Reachable" and state.watch.registers and state.registration != "Registered":
            # the provider answers again: register now rather than at the next retry
            self.tasks.spawn(self._register(trunk), f"register {trunk}")

    def _on_link(self, state: LinkState) -> None:
        if state.link == "ami" and state.up:
            self.tasks.spawn(self.refresh(), "refresh after reconnect")

    async def _register(self, trunk: str) -> None:
        try:
            await self.ami.register(trunk)
        except Exception as exc:  # the link may be down; the registration's own retry goes on
            log.info("trunk %s: register now: %s", trunk, exc)

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_every)
            if self.ami.up:
                try:
                    await self.refresh()
                except Exception:
                    log.exception("trunks: refresh failed; trying again")

    async def refresh(self) -> None:
        """Ask Asterisk for every trunk's registration and reachability now."""
        now = datetime.now(UTC)
        if any(t.watch.registers for t in self.health.trunks.values()):
            registrations = await self.ami.outbound_registrations()
            for name, t in self.health.trunks.items():
                if t.watch.registers:
                    self.health.set_registration(name, registrations.get(name, "Unregistered"), now)
        for name, t in self.health.trunks.items():
            if not t.watch.qualified:
                continue
            state = await self.endpoint_state(name)
            if state in ("online", "offline"):
                self.health.set_contact(name, "reachable" if state == "online" else "unreachable", now)
        for name in self.health.trunks:
            self.on_change(name)


def ari_endpoint_state(request: Callable[..., Awaitable[Any]]) -> EndpointState:
    """ARI's state of a PJSIP endpoint (``request`` is ``AriClient.request``); None when it cannot say."""
    async def state(name: str) -> str | None:
        try:
            info = await request("GET", f"/endpoints/PJSIP/{name}")
        except Exception as exc:
            log.debug("endpoint %s: %s", name, exc)
            return None
        return str(info.get("state")) if isinstance(info, dict) else None
    return state
