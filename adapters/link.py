"""What the AMI and ARI adapters share: a link's state (published on the bus at each change) and the
back-off between reconnection attempts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from events.asterisk import LinkState
from events.bus import EventBus

log = logging.getLogger(__name__)


class Backoff:
    """Waits that double after each failure, from ``least`` up to ``most``; ``reset`` after a success."""

    def __init__(self, least: float, most: float) -> None:
        self.least, self.most = least, max(least, most)
        self.current = least

    def next(self) -> float:
        """The wait before the next attempt; the one after it doubles."""
        wait = self.current
        self.current = min(self.current * 2, self.most)
        return wait

    def reset(self) -> None:
        self.current = self.least


class LinkStatus:
    """Up or down, and why. Publishes :class:`LinkState` when (and only when) up/down changes; a
    reconnection is always a down then an up, so subscribers that reconcile on "up" do so once each time."""

    def __init__(self, link: str, bus: EventBus, on_down: Callable[[str], None] = lambda _why: None) -> None:
        self.link, self.bus, self.on_down = link, bus, on_down
        self.up = False
        self.detail = "not started"
        self._up_event = asyncio.Event()

    def set(self, up: bool, detail: str) -> bool:
        """Record the link's state; True (and published) when up/down changed."""
        self.detail = detail
        if up == self.up:
            return False
        self.up = up
        if up:
            self._up_event.set()
        else:
            self._up_event.clear()
            self.on_down(detail)
        log.info("%s link %s: %s", self.link.upper(), "up" if up else "down", detail)
        self.bus.publish(LinkState(self.link, up, detail))
        return True

    async def wait_up(self, timeout: float) -> bool:
        """Wait until the link is up; False on timeout."""
        try:
            await asyncio.wait_for(self._up_event.wait(), timeout)
        except TimeoutError:
            return False
        return True
