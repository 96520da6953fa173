"""A small in-process publish/subscribe bus keyed by event type."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], Awaitable[None] | None]


class EventBus:
    """Delivers each published event to the handlers subscribed to its type (or a base class).

    Handlers may be plain functions or coroutines; a failing handler is logged and does not stop the
    others. Coroutine handlers run as tasks so a slow subscriber cannot stall the publisher.
    """

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None] | None]) -> None:
        self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None] | None]) -> None:
        if handler in self._handlers.get(event_type, []):
            self._handlers[event_type].remove(handler)

    def publish(self, event: object) -> None:
        for cls in type(event).__mro__:
            for handler in list(self._handlers.get(cls, ())):
                try:
                    result = handler(event)
                except Exception:
                    log.exception("event handler %r failed on %r", handler, event)
                    continue
                if asyncio.iscoroutine(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("event handler task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for handler tasks started so far (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
