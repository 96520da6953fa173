"""The in-process event bus."""

from __future__ import annotations

import asyncio

from events.asterisk import LinkState, StasisStarted
from events.bus import EventBus


async def test_sync_and_async_handlers_and_failures_isolated() -> None:
    bus = EventBus()
    got: list[str] = []

    def bad(_e: LinkState) -> None:
        raise ValueError("boom")

    async def slow(e: LinkState) -> None:
        await asyncio.sleep(0.01)
        got.append(f"async {e.link}")

    bus.subscribe(LinkState, bad)
    bus.subscribe(LinkState, lambda e: got.append(f"sync {e.link}"))
    bus.subscribe(LinkState, slow)
    bus.subscribe(object, lambda e: got.append(type(e).__name__))
    bus.publish(LinkState("ami", True))
    bus.publish(StasisStarted("c1"))
    await bus.drain()
    assert got == ["sync ami", "LinkState", "StasisStarted", "async ami"]
