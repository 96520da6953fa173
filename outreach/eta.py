"""How long an outreach campaign will take, and how many lines it needs to finish by a time (pure).

One attempt holds a line for its ring time (unanswered) or its listen time (answered), plus set-up; at the
current answer rate a line makes ``3600 / seconds per attempt`` attempts an hour. Only the calling window's
hours count (no calls outside it, and never 22:00-06:00), so the finish is walked window by window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.rules import CallingRules, in_window, next_window_start

SETUP_SECONDS = 3.0


@dataclass(frozen=True)
class Pace:
    """Live figures of a campaign (defaults until it has made calls)."""

    answer_rate: float = 0.6
    listen_seconds: float = 30.0
    ring_seconds: float = 25.0

    @property
    def seconds_per_attempt(self) -> float:
        a = min(max(self.answer_rate, 0.0), 1.0)
        return SETUP_SECONDS + a * self.listen_seconds + (1 - a) * self.ring_seconds

    def per_line_hour(self) -> float:
        return 3600.0 / self.seconds_per_attempt


def window_end(moment: datetime, rules: CallingRules) -> datetime:
    """The end of the calling window open at ``moment``."""
    local = moment.astimezone(rules.tz)
    return datetime.combine(local.date(), rules.window_end, tzinfo=rules.tz)


def finish_at(now: datetime, remaining: int, lines: int, pace: Pace, rules: CallingRules) -> datetime | None:
    """When ``remaining`` contacts are called on ``lines`` lines (None: no lines)."""
    if remaining <= 0:
        return now
    if lines <= 0:
        return None
    left = remaining * pace.seconds_per_attempt / lines   # seconds of calling time
    moment = now
    for _ in range(3660):  # ten years of days: a bound, never reached in practice
        moment = next_window_start(moment, rules)
        end = window_end(moment, rules)
        usable = (end - moment).total_seconds()
        if usable >= left:
            return moment + timedelta(seconds=left)
        left -= usable
        moment = end
    return None


def calling_seconds_until(now: datetime, deadline: datetime, rules: CallingRules) -> float:
    """Seconds of calling window between ``now`` and ``deadline``."""
    total, moment = 0.0, now
    while moment < deadline:
        moment = next_window_start(moment, rules)
        if moment >= deadline:
            break
        end = min(window_end(moment, rules), deadline)
        total += (end - moment).total_seconds()
        moment = window_end(moment, rules) if in_window(moment, rules) else end
    return total


def lines_needed(now: datetime, deadline: datetime, remaining: int, pace: Pace, rules: CallingRules) -> int | None:
    """The fewest lines that call ``remaining`` contacts by ``deadline`` (None: no calling time left)."""
    if remaining <= 0:
        return 0
    seconds = calling_seconds_until(now, deadline, rules)
    if seconds <= 0:
        return None
    return math.ceil(remaining * pace.seconds_per_attempt / seconds)
