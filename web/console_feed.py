"""The operator console's live feed: typed events from the bus, fanned out to each signed-in operator's open
pages as Server-Sent Events (the console's counterpart of :class:`dashboard.feed.DashboardFeed`)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from events.bus import EventBus
from events.types import CallbackTaskChanged, OperatorCall, OperatorStateChanged, ScreenPop


class ConsoleFeed:
    """Per user, a queue for each open page; slow pages drop their oldest messages, never block.

    It hears the bus between :meth:`start` and :meth:`close` (the composition calls both)."""

    def __init__(self, bus: EventBus, max_queued: int = 100) -> None:
        self.bus = bus
        self._pages: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.max_queued = max_queued
        self._started = False

    def start(self) -> ConsoleFeed:
        """Subscribe to the operators' events (once); returns itself."""
        if not self._started:
            self.bus.subscribe(ScreenPop, self._screen_pop)
            self.bus.subscribe(OperatorCall, self._operator_call)
            self.bus.subscribe(OperatorStateChanged, self._state)
            self.bus.subscribe(CallbackTaskChanged, self._callbacks)
            self._started = True
        return self

    def close(self) -> None:
        """Unsubscribe; open pages keep their stream but hear nothing more."""
        self.bus.unsubscribe(ScreenPop, self._screen_pop)
        self.bus.unsubscribe(OperatorCall, self._operator_call)
        self.bus.unsubscribe(OperatorStateChanged, self._state)
        self.bus.unsubscribe(CallbackTaskChanged, self._callbacks)
        self._started = False

    def _state(self, event: OperatorStateChanged) -> None:
        self.send(event.user_id, "state", {"state": event.state, "reason": event.reason,
                                           "since": event.at.isoformat(), "channel_id": event.channel_id})

    def _screen_pop(self, event: ScreenPop) -> None:
        self.send(event.user_id, "screen_pop", {"channel_id": event.channel_id, **event.details})

    def _operator_call(self, event: OperatorCall) -> None:
        self.send(event.user_id, "call", {"channel_id": event.channel_id, "what": event.what})

    def _callbacks(self, event: CallbackTaskChanged) -> None:
        for user_id in list(self._pages):  # every console lists the open tasks: all hear of a change
            self.send(user_id, "callbacks", {"task_id": event.task_id, "state": event.state})

    def send(self, user_id: int, kind: str, data: dict[str, Any]) -> None:
        for q in list(self._pages.get(user_id, ())):
            if q.full():
                q.get_nowait()
            q.put_nowait({"event": kind, "data": data})

    async def stream(self, user_id: int, hello: dict[str, Any]) -> AsyncIterator[str]:
        """SSE for one page: first a snapshot (so a reconnect is never stale), then events as they come,
        and a comment every 15 s so proxies keep the connection."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.max_queued)
        self._pages[user_id].add(q)
        try:
            yield _sse("snapshot", hello)
            while True:
                try:
                    msg = await asyncio.wait_for(q.get(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield _sse(msg["event"], msg["data"])
        finally:
            self._pages[user_id].discard(q)

    def pages(self, user_id: int) -> int:
        return len(self._pages.get(user_id, ()))


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
