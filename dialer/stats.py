"""The dialer's live counters (for the supervisors' figures and the benchmark)."""

from __future__ import annotations

from collections import deque
from datetime import datetime


class DialerStats:
    """Live counters: attempts per minute, answer rate, line re-dial delays."""

    def __init__(self) -> None:
        self.starts: deque[datetime] = deque()
        self.finished: dict[str, int] = {}
        self.line_delays: list[float] = []
        self.inbound = 0

    def started(self, at: datetime) -> None:
        self.starts.append(at)

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
