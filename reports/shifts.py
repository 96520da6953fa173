"""Shifts: named local-time ranges of the day (``morning=09:00-15:00,evening=15:00-21:00``), and splitting a
span of time across them. Time outside every shift is ``off-shift``. Pure functions, no database."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import Invalid

DEFAULT_SHIFTS = "morning=09:00-15:00,evening=15:00-21:00"
OFF_SHIFT = "off-shift"
DAY = 24 * 3600
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class ShiftError(Invalid):
    """A shift spec is invalid; the message names it."""


@dataclass(frozen=True)
class Shift:
    """``start`` .. ``end`` in seconds after local midnight (``end`` up to 24:00); a shift with
    ``end <= start`` runs past midnight."""

    name: str
    start: int
    end: int

    def covers(self, second: float) -> bool:
        if self.start < self.end:
            return self.start <= second < self.end
        return second >= self.start or second < self.end

    def label(self) -> str:
        return f"{self.name}={_clock(self.start)}-{_clock(self.end)}"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _seconds(text: str, item: str) -> int:
    m = _TIME.match(text.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (int(m.group(1)) == 24 and int(m.group(2))):
        raise ShiftError(f"shift '{item}': '{text.strip()}' is not a time HH:MM (00:00-24:00)")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def parse_shifts(spec: str) -> tuple[Shift, ...]:
    """``NAME=HH:MM-HH:MM`` items, comma-separated, that do not overlap (a shift may run past midnight)."""
    shifts: list[Shift] = []
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise ShiftError(f"no shifts in '{spec}': expected e.g. {DEFAULT_SHIFTS}")
    for item in items:
        name, sep, times = item.partition("=")
        name = name.strip()
        start, dash, end = times.partition("-")
        if not sep or not dash or not name:
            raise ShiftError(f"shift '{item}': expected NAME=HH:MM-HH:MM, e.g. morning=09:00-15:00")
        if name.lower() == OFF_SHIFT:
            raise ShiftError(f"shift '{item}': '{OFF_SHIFT}' is the name of the time outside every shift")
        if any(s.name == name for s in shifts):
            raise ShiftError(f"shift '{item}': there is already a shift named '{name}'")
        shift = Shift(name, _seconds(start, item) % DAY, _seconds(end, item))  # ends at 24:00 are kept
        if shift.start == shift.end:
            raise ShiftError(f"shift '{item}': it starts when it ends")
        for other in shifts:
            if _overlap(shift, other):
                raise ShiftError(f"shift '{item}' overlaps shift '{other.label()}'")
        shifts.append(shift)
    return tuple(shifts)


def _pieces(shift: Shift) -> list[tuple[int, int]]:
    return [(shift.start, shift.end)] if shift.start < shift.end else [(shift.start, DAY), (0, shift.end)]


def _overlap(a: Shift, b: Shift) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in _pieces(a) for s2, e2 in _pieces(b))


def _second_of_day(local: datetime) -> float:
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def shift_of(shifts: tuple[Shift, ...], at: datetime, tz: ZoneInfo) -> str:
    """The name of the shift the instant ``at`` falls in (local time in ``tz``), or ``off-shift``."""
    second = _second_of_day(at.astimezone(tz))
    return next((s.name for s in shifts if s.covers(second)), OFF_SHIFT)


def split(shifts: tuple[Shift, ...], start: datetime, end: datetime, tz: ZoneInfo) -> dict[str, float]:
    """Seconds of ``start`` .. ``end`` (aware instants) spent in each shift, cut at every shift boundary."""
    out: dict[str, float] = defaultdict(float)
    bounds = sorted({0, *(s.start for s in shifts), *(s.end for s in shifts)})
    cur = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while cur < end:
        local = cur.astimezone(tz)
        second = _second_of_day(local)
        following = next((b for b in bounds if b > second), DAY)
        midnight = datetime.combine(local.date(), time(0), tzinfo=tz)
        boundary = (midnight + timedelta(seconds=following)).astimezone(UTC)
        if boundary <= cur:  # a clock change made the wall-clock boundary useless: step a minute
            boundary = cur + timedelta(minutes=1)
        piece_end = min(boundary, end)
        out[next((s.name for s in shifts if s.covers(second)), OFF_SHIFT)] += (piece_end - cur).total_seconds()
        cur = piece_end
    return dict(out)
