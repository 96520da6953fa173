"""The Stasis application: routes ARI events to one handler object per call.

A handler has ``on_<EventType>`` methods (``on_StasisStart``, ``on_ChannelDtmfReceived``...), runs them
under its own lock (never a global one) and logs every state transition. ARI does not replay events
missed while the websocket was down, so on every (re)connection the app reconciles: handlers whose
channel is gone are told so, and channels in our app that no handler owns are hung up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from adapters.ari import AriClient, AriError
from events.bus import EventBus
from events.types import AriEvent, LinkState

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

    async def handle(self, event: AriEvent) -> None:
        method = getattr(self, f"on_{event.type}", None)
        if method is None:
            return
        async with self.lock:
            await method(event)


HandlerFactory = Callable[[AriClient, str, list[str]], CallHandler | None]


class StasisApp:
    """Owns the handlers of live calls; ``factories`` choose a handler class by the first Stasis argument."""

    def __init__(self, ari: AriClient, bus: EventBus, factories: dict[str, HandlerFactory]) -> None:
        self.ari = ari
        self.factories = factories
        self.calls: dict[str, CallHandler] = {}
        bus.subscribe(AriEvent, self.on_event)
        bus.subscribe(LinkState, self.on_link)

    async def on_event(self, event: AriEvent) -> None:
        channel_id = event.channel_id
        if channel_id is None:
            return
        if event.type == "StasisStart" and channel_id not in self.calls:
            args = [str(a) for a in event.body.get("args", [])]
            factory = self.factories.get(args[0] if args else "")
            handler = factory(self.ari, channel_id, args[1:]) if factory else None
            if handler is None:
                log.warning("no handler for Stasis args %r: hanging up %s", args, channel_id)
                await self._hangup_unowned(channel_id)
                return
            self.calls[channel_id] = handler
        handler = self.calls.get(channel_id)
        if handler is None:
            return
        try:
            await handler.handle(event)
        except Exception:
            log.exception("call %s: handler failed on %s; hanging up", channel_id, event.type)
            await self._hangup_unowned(channel_id)
        if event.type == "StasisEnd":
            self.calls.pop(channel_id, None)

    async def _hangup_unowned(self, channel_id: str) -> None:
        try:
            await self.ari.request("DELETE", f"/channels/{channel_id}")
        except AriError as exc:
            log.info("hangup of %s: %s", channel_id, exc)

    async def on_link(self, state: LinkState) -> None:
        if state.link == "ari" and state.up:
            await self.reconcile()

    async def reconcile(self) -> None:
        """Compare our handlers with the channels Asterisk has in our app, and settle differences."""
        try:
            info: dict[str, Any] = await self.ari.request("GET", f"/applications/{self.ari.config.app}")
        except AriError as exc:
            log.warning("reconcile skipped: %s", exc)
            return
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
            log.warning("channel %s is in our app but no handler owns it: hanging up", channel_id)
            await self._hangup_unowned(channel_id)
