"""The dialer's live counters (for the supervisors' figures and the benchmark)."""

from __future__ import annotations

from collections import deque
from datetime import datetime


class DialerStats:
    """Live counters: attempts per minute, answer rate, line re-dial delays."""

    def __init__(self) -> None:
        self.starts: deque[datetime] = deque()  # the last minute's
        self.finished: dict[str, int] = {}
        self.line_delays: deque[float] = deque(maxlen=100_000)  # the latest (a service runs for weeks)
        self.inbound = 0

    def started(self, at: datetime) -> None:
        self.starts.append(at)
        while (at - self.starts[0]).total_seconds() > 60:
            self.starts.popleft()

    def starts_per_second(self, now: datetime, over: float = 10.0) -> float | None:
        """Calls started per second over the last ``over`` seconds (at most a minute), or since the first
        call when that is more recent (at least a second); None before any call in the last minute."""
        if not self.starts:
            return None
        n = 0
        for at in reversed(self.starts):
            if (now - at).total_seconds() > over:
                break
            n += 1
        return n / max(1.0, min(over, (now - self.starts[0]).total_seconds()))

    def ended(self, disposition: str, at: datetime) -> None:
        self.finished[disposition] = self.finished.get(disposition, 0) + 1

    def figures(self, now: datetime) -> dict[str, float | int | dict[str, int]]:
        while self.starts and (now - self.starts[0]).total_seconds() > 60:
            self.starts.popleft()
        total = sum(self.finished.values())
        answered = self.finished.get("answered", 0)
        return {"attempts_last_minute": len(self.starts), "ended": total,
                "answer_rate": round(answered / total, 3) if total else 0.0, "dispositions": dict(self.finished),
                "max_line_delay": round(max(self.line_delays), 4) if self.line_delays else 0.0}
