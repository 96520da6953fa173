"""The Stasis application: routes typed ARI events to one handler object per call.

A handler has ``on_<Event>`` methods named after the typed events (``on_StasisStarted``,
``on_DtmfReceived``...), runs them under its own lock (never a global one) and logs every state
transition. ARI does not replay events missed while the websocket was down, so on every reconnection the
app reconciles: handlers whose channel is gone are told so, handlers whose channel lives catch up, and a
channel that entered our app while we could not see it (its StasisStart lost) is *adopted*: a handler is
made from the Stasis arguments Asterisk still holds for it, and starts as if the StasisStart had come.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from adapters.ari import AriClient, AriError
from events.asterisk import ChannelState, LinkState, StasisEnded, StasisEvent, StasisStarted
from events.bus import EventBus
from events.types import CallHandled

log = logging.getLogger(__name__)


class CallHandler:
    """One call in our Stasis app. Subclasses add ``on_<Event>`` methods and states."""

    initial_state = "started"

    def __init__(self, ari: AriClient, channel_id: str, args: list[str]) -> None:
        self.ari = ari
        self.channel_id = channel_id
        self.args = args
        self.state = self.initial_state
        self.lock = asyncio.Lock()
        self.transitions: list[tuple[str, str, str]] = []

    def transition(self, new_state: str, why: str) -> None:
        """Move to ``new_state``; every transition is logged and kept."""
        log.info("call %s: %s -> %s (%s)", self.channel_id, self.state, new_state, why)
        self.transitions.append((self.state, new_state, why))
        self.state = new_state

    async def hangup(self, reason: str = "normal") -> None:
        """Hang the channel up; a channel already gone is not an error."""
        try:
            await self.ari.request("DELETE", f"/channels/{self.channel_id}", reason=reason)
        except AriError as exc:
            if exc.status != 404:
                raise

    async def on_lost(self) -> None:
        """The channel vanished while we could not see it (websocket down). Default: mark ended."""
        self.transition("ended", "channel gone after reconnect")

    async def on_resumed(self) -> None:
        """The websocket is back and the channel is still in our app: catch up on missed events."""

    async def on_adopted(self, start: StasisStarted) -> None:
        """The channel entered our app while the websocket was down (its StasisStart was lost). Default:
        a handler that cannot pick a call up midway hangs it up; call handlers start it (``start``)."""
        self.transition("ended", "entered the app while the link was down: hung up")
        await self.hangup()

    async def handle(self, event: StasisEvent) -> None:
        method = getattr(self, f"on_{type(event).__name__}", None)
        if method is None:
            return
        async with self.lock:
            await method(event)


HandlerFactory = Callable[[AriClient, str, list[str]], CallHandler | None]


class StasisApp:
    """Owns the handlers of live calls; ``factories`` choose a handler class by the first Stasis argument."""

    def __init__(self, ari: AriClient, bus: EventBus, factories: dict[str, HandlerFactory]) -> None:
        self.ari, self.bus = ari, bus
        self.factories = factories
        self.calls: dict[str, CallHandler] = {}

    def start(self) -> None:
        self.bus.subscribe(StasisEvent, self.on_event)
        self.bus.subscribe(LinkState, self.on_link)

    def stop(self) -> None:
        self.bus.unsubscribe(StasisEvent, self.on_event)
        self.bus.unsubscribe(LinkState, self.on_link)

    def _make(self, channel_id: str, args: tuple[str, ...]) -> CallHandler | None:
        factory = self.factories.get(args[0] if args else "")
        return factory(self.ari, channel_id, list(args[1:])) if factory else None

    async def on_event(self, event: StasisEvent) -> None:
        channel_id = event.channel_id
        if isinstance(event, StasisStarted) and channel_id not in self.calls:
            handler = self._make(channel_id, event.args)
            if handler is None:
                log.warning("no handler for Stasis args %r: hanging up %s", event.args, channel_id)
                await self._hangup_unowned(channel_id)
                return
            self.calls[channel_id] = handler
            self.bus.publish(CallHandled(channel_id, event.args[0]))
        handler = self.calls.get(channel_id)
        if handler is None:
            return
        try:
            await handler.handle(event)
        except Exception:
            log.exception("call %s: handler failed on %s; hanging up", channel_id, type(event).__name__)
            await self._hangup_unowned(channel_id)
        if isinstance(event, StasisEnded):
            self.calls.pop(channel_id, None)

    async def _hangup_unowned(self, channel_id: str) -> None:
        try:
            await self.ari.request("DELETE", f"/channels/{channel_id}")
        except AriError as exc:
            log.info("hangup of %s: %s", channel_id, exc)

    async def on_link(self, state: LinkState, retry_every: float = 2.0) -> None:
        """Reconcile at each reconnection; while the link is up, until Asterisk has answered."""
        if state.link != "ari" or not state.up:
            return
        for _ in range(30):  # a minute at most; the next reconnection starts afresh
            if await self.reconcile() or not self.ari.up:
                return
            await asyncio.sleep(retry_every)

    async def reconcile(self) -> bool:
        """Compare our handlers with the channels Asterisk has in our app, and settle differences; False
        when Asterisk could not be asked."""
        try:
            info: dict[str, Any] = await self.ari.request("GET", f"/applications/{self.ari.config.app}")
        except AriError as exc:
            log.warning("reconcile postponed: %s", exc)
            return False
        live = set(info.get("channel_ids", []))
        for channel_id, handler in list(self.calls.items()):
            try:
                async with handler.lock:
                    if channel_id in live:
                        await handler.on_resumed()
                        continue
                    await handler.on_lost()
            except Exception:
                log.exception("call %s: reconcile failed; hanging up", channel_id)
                await self._hangup_unowned(channel_id)
            self.calls.pop(channel_id, None)
        for channel_id in live - set(self.calls):
            await self._adopt(channel_id)
        return True

    async def _adopt(self, channel_id: str) -> None:
        """A channel in our app that no handler owns: its StasisStart was lost. Start it from what Asterisk
        says of it now (its Stasis arguments are the dialplan's application data)."""
        try:
            channel: dict[str, Any] = await self.ari.request("GET", f"/channels/{channel_id}")
        except AriError as exc:
            log.info("channel %s left before it could be adopted: %s", channel_id, exc)
            return
        start = stasis_start_of(channel, self.ari.config.app)
        handler = self._make(channel_id, start.args) if start is not None else None
        if start is None or handler is None:
            log.warning("channel %s is in our app but no handler can own it: hanging up", channel_id)
            await self._hangup_unowned(channel_id)
            return
        log.warning("channel %s entered our app while the link was down (args %r): adopting it",
                    channel_id, start.args)
        self.calls[channel_id] = handler
        self.bus.publish(CallHandled(channel_id, start.args[0]))
        try:
            async with handler.lock:
                await handler.on_adopted(start)
        except Exception:
            log.exception("call %s: adopting failed; hanging up", channel_id)
            self.calls.pop(channel_id, None)
            await self._hangup_unowned(channel_id)


def stasis_start_of(channel: dict[str, Any], app: str) -> StasisStarted | None:
    """The StasisStart a channel would have sent, from ARI's channel object: ``dialplan.app_data`` holds
    ``<app>,<args...>`` while the channel runs ``Stasis``. None when it is not in our app's Stasis."""
    plan = channel.get("dialplan") or {}
    if str(plan.get("app_name", "")).lower() != "stasis":
        return None
    data = [part.strip() for part in str(plan.get("app_data", "")).split(",")]
    if not data or data[0] != app:
        return None
    caller = channel.get("caller") or {}
    return StasisStarted(str(channel.get("id", "")), args=tuple(data[1:]),
                         caller_number=str(caller.get("number") or ""), channel=str(channel.get("name") or ""),
                         state=ChannelState.parse(channel.get("state", "")))
