"""The law for outreach calls, as pure functions (no I/O): the dialer's calling rules per person by their
AC, plus what outreach adds.

Checked in order, the first that applies reported:
1. ``opted_out`` — the number asked not to be called (keypad 9, an operator, a request): never.
2. ``dnd`` — the number is on the do-not-call registry file: never.
3. ``ban`` — 22:00-06:00 in India (the Election Commission's ban on campaign calls), whatever time zone
   the war room's calling window is kept in: at 06:00.
4. the dialer's rules (``dialer.rules.check``): the 48-hour silence before the close of poll in the
   person's AC (no AC, or an AC the calendar does not know: the state's earliest poll), the calling
   window, the gap between calls and the daily cap.
And for a campaign: ``mcmc`` — it cannot start without the MCMC certificate reference of its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.rules import HARD_EARLIEST, HARD_LATEST, CallingRules, Facts, Verdict, check

INDIA = "Asia/Kolkata"


@dataclass(frozen=True)
class PollCalendar:
    """Close of poll per AC number."""

    closes: Mapping[int, datetime]

    def close_for(self, ac_no: int | None) -> datetime | None:
        """The close of poll that governs a person: their AC's, else the state's earliest."""
        if ac_no is not None and ac_no in self.closes:
            return self.closes[ac_no]
        return min(self.closes.values()) if self.closes else None


@dataclass(frozen=True)
class Person:
    """What the outreach rules look at for one number."""

    phone: str
    ac_no: int | None = None
    opted_out: bool = False
    on_dnd: bool = False
    last_call_at: datetime | None = None
    attempts_today: int = 0


def in_ban(now: datetime, zone: str = INDIA) -> bool:
    """Whether ``now`` falls in 22:00-06:00 in ``zone``."""
    local = now.astimezone(ZoneInfo(zone)).time()
    return local >= HARD_LATEST or local < HARD_EARLIEST


def ban_ends(now: datetime, zone: str = INDIA) -> datetime:
    """06:00 after ``now`` in ``zone`` (``now`` inside the ban)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = local.date() if local.time() < HARD_EARLIEST else local.date() + timedelta(days=1)
    return datetime.combine(day, time(6, 0), tzinfo=tz)


def check_person(person: Person, now: datetime, rules: CallingRules, calendar: PollCalendar,
                 ban_zone: str = INDIA) -> Verdict:
    """May ``person`` be called by an outreach campaign at ``now`` (timezone-aware)?"""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if person.opted_out:
        return Verdict(False, "opted_out", "asked not to be called again")
    if person.on_dnd:
        return Verdict(False, "dnd", "on the do-not-call registry")
    if in_ban(now, ban_zone):
        return Verdict(False, "ban", f"22:00-06:00 in {ban_zone}: campaign calls are banned",
                       ban_ends(now, ban_zone))
    return check(Facts(phone=person.phone, poll_end_at=calendar.close_for(person.ac_no),
                       last_call_at=person.last_call_at, attempts_today=person.attempts_today), now, rules)


def may_start(mcmc_ref: str | None) -> Verdict:
    """An outreach campaign starts only with its message's MCMC certificate reference recorded."""
    if not (mcmc_ref or "").strip():
        return Verdict(False, "mcmc", "no MCMC certificate reference recorded for the campaign's message "
                                      "(the Media Certification and Monitoring Committee must certify it first)")
    return Verdict(True)
