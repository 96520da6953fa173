"""What every report is made of: a :class:`Report` (title, columns, rows of plain values), the
:class:`Period` it covers (local calendar days in a time zone) and small shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import Invalid

DEFAULT_TIMEZONE = "Asia/Kolkata"  # the dialer's default (see dialer.rules.CallingRules)

Cell = str | int | float | None


class ReportError(Invalid):
    """A report request is invalid; the message says what."""


@dataclass
class Report:
    """A table of figures. ``meta`` says what it covers (period, time zone, filters)."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: rows as dicts keyed by column."""
        return {"title": self.title, "meta": dict(self.meta), "columns": list(self.columns),
                "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows]}


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``, or a :class:`ReportError` naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone '{name}' (e.g. Asia/Kolkata)") from None


def parse_day(text: str, what: str = "date") -> date:
    """``YYYY-MM-DD`` -> a date, or a :class:`ReportError` naming the bad text."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{what} '{text}': expected YYYY-MM-DD, e.g. 2024-05-13") from None


@dataclass(frozen=True)
class Period:
    """Local calendar days ``since`` .. ``until`` (both included; either may be open) in ``timezone``."""

    since: date | None = None
    until: date | None = None
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.since and self.until and self.until < self.since:
            raise ReportError(f"the period ends ({self.until}) before it starts ({self.since})")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def start(self) -> datetime | None:
        """The first instant of the period (UTC), or None when open."""
        return _midnight(self.since, self.tz) if self.since else None

    @property
    def end(self) -> datetime | None:
        """The first instant after the period (UTC), or None when open."""
        return _midnight(self.until + timedelta(days=1), self.tz) if self.until else None

    def conditions(self, column: Any) -> list[Any]:
        """SQL conditions keeping ``column`` (a UTC timestamp) inside the period."""
        out = []
        if self.start is not None:
            out.append(column >= self.start)
        if self.end is not None:
            out.append(column < self.end)
        return out

    def day_of(self, at: datetime) -> date:
        """The local calendar day of the instant ``at``."""
        return at.astimezone(self.tz).date()

    def as_meta(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None, "timezone": self.timezone}


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 3 places; None when there is nothing to divide by."""
    return round(part / whole, 3) if whole else None


def average(total: float, count: int, places: int = 1) -> float | None:
    return round(total / count, places) if count else None
