"""Sign-in rate limit: after ``attempts`` failures within ``window`` seconds, a key (a user name, or an
address) must wait until the oldest failure leaves the window. Pure and clock-injected, so it is tested
without waiting."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SignInLimiter:
    def __init__(self, attempts: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before any of ``keys`` may try again (0: go ahead)."""
        wait = 0.0
        for key in keys:
            q = self._recent(key)
            if len(q) >= self.attempts:
                wait = max(wait, self.window - (self.clock() - q[0]))
        return wait

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock())

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
