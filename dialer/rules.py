"""The calling rules, as a pure function: may this person be called now, and if not, which rule stops it
and until when. No I/O here: the dialer gathers the facts, this module decides.

Rules, checked in this order (the first that applies is reported):
1. ``dnd`` — the person opted out or is on the do-not-disturb list: never.
2. ``status`` — marked wrong number / unreachable / opted out: never (until the directory changes).
3. ``no_phone`` — no dialable phone left.
4. ``silence`` — inside the silence period before the close of poll in the person's AC (48 h by default,
   Representation of the People Act s.126): not until the poll has closed. The one exception is a poll-day
   plan's call (``Facts.poll_day``) to one of its own booth agents playing one of the plan's scripts: an
   organisational call to the party's own agent, not campaigning. Every other call waits.
5. ``schedule`` — before the campaign's start or after its end.
6. ``window`` — outside the calling window (09:00-21:00 Asia/Kolkata by default): at the next opening.
7. ``busy_phone`` — that phone is in a call right now: never two calls to one phone at once.
8. ``gap`` — called less than ``min_gap`` ago: when the gap has passed.
9. ``daily_cap`` — ``max_per_day`` attempts already today (all campaigns, the rules' time zone): tomorrow.

A poll-day plan's call to its booth agent is held by the hard ban (22:00-06:00), not by the campaign's
calling window, and not by the daily cap (its rounds call each agent several times that day); every other
rule holds for it as for any call. A counting plan's call to its counting agent (counting day, after the
poll) is judged the same way: its rounds begin at 08:00 and call each table's agent every round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# The Election Commission bans campaign calls between 22:00 and 06:00: no window may reach into it.
HARD_EARLIEST = time(6, 0)
HARD_LATEST = time(22, 0)


class RulesError(ValueError):
    """A rule setting is invalid; the message names it."""


@dataclass(frozen=True)
class CallingRules:
    window_start: time = time(9, 0)
    window_end: time = time(21, 0)
    timezone: str = "Asia/Kolkata"
    silence_hours: float = 48.0
    max_per_day: int = 3
    min_gap: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if not self.window_start < self.window_end:
            raise RulesError(f"calling window {self.window_start:%H:%M}-{self.window_end:%H:%M}: "
                             "the start must be before the end")
        if self.window_start < HARD_EARLIEST or self.window_end > HARD_LATEST:
            raise RulesError(f"calling window {self.window_start:%H:%M}-{self.window_end:%H:%M} reaches into "
                             f"{HARD_LATEST:%H:%M}-{HARD_EARLIEST:%H:%M}, when campaign calls are banned")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError) as exc:
            raise RulesError(f"unknown time zone '{self.timezone}'") from exc
        if self.silence_hours < 0 or self.max_per_day < 1 or self.min_gap < timedelta(0):
            raise RulesError("silence_hours and min_gap must be >= 0 and max_per_day >= 1")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class PollDayCall:
    """A call made by a poll-day plan, as the plan sees it: is the person one of its booth agents, and is
    the script one of the plan's."""

    booth_agent: bool
    plan_script: bool

    @property
    def exempt(self) -> bool:
        return self.booth_agent and self.plan_script


@dataclass(frozen=True)
class Facts:
    """What the rules look at for one person, gathered by the dialer."""

    dnd: bool = False
    status: str = "active"
    phone: str | None = "+910000000000"
    poll_end_at: datetime | None = None        # close of poll in the person's AC
    starts_at: datetime | None = None          # the campaign's schedule
    ends_at: datetime | None = None
    phone_in_call: bool = False
    last_call_at: datetime | None = None
    attempts_today: int = 0
    poll_day: PollDayCall | None = None        # a poll-day plan's call (None: any other call)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str | None = None
    reason: str = ""
    retry_at: datetime | None = None           # when this rule stops holding; None: not by itself

    def __str__(self) -> str:
        return "allowed" if self.allowed else f"{self.rule}: {self.reason}"


ALLOWED = Verdict(True)


def next_window_start(now: datetime, rules: CallingRules) -> datetime:
    """The next moment the calling window opens (now itself if it is open now)."""
    local = now.astimezone(rules.tz)
    if in_window(now, rules):
        return now
    day = local.date() if local.time() < rules.window_start else local.date() + timedelta(days=1)
    return datetime.combine(day, rules.window_start, tzinfo=rules.tz)


def in_window(now: datetime, rules: CallingRules) -> bool:
    local = now.astimezone(rules.tz).time()
    return rules.window_start <= local < rules.window_end


def day_start(now: datetime, rules: CallingRules) -> datetime:
    """Midnight at the start of ``now``'s day in the rules' time zone (for the daily cap)."""
    return datetime.combine(now.astimezone(rules.tz).date(), time(0), tzinfo=rules.tz)


def in_hard_ban(now: datetime, rules: CallingRules) -> bool:
    """Inside 22:00-06:00 in the rules' time zone, when no call may be made."""
    local = now.astimezone(rules.tz).time()
    return not HARD_EARLIEST <= local < HARD_LATEST


def outside_hard_ban(now: datetime, rules: CallingRules) -> datetime:
    """``now``, or the end of the 22:00-06:00 ban when it is on: when a plan's round may call its agents."""
    return _after_hard_ban(now, rules) if in_hard_ban(now, rules) else now


def _after_hard_ban(now: datetime, rules: CallingRules) -> datetime:
    local = now.astimezone(rules.tz)
    day = local.date() if local.time() < HARD_EARLIEST else local.date() + timedelta(days=1)
    return datetime.combine(day, HARD_EARLIEST, tzinfo=rules.tz)


def check(facts: Facts, now: datetime, rules: CallingRules) -> Verdict:
    """Decide whether to call now. ``now`` must be timezone-aware."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if facts.dnd:
        return Verdict(False, "dnd", "opted out / do not disturb")
    if facts.status != "active":
        return Verdict(False, "status", f"marked {facts.status.replace('_', ' ')}")
    if not facts.phone:
        return Verdict(False, "no_phone", "no dialable phone (primary and alternate marked invalid)")
    if facts.poll_end_at is not None:
        silence_from = facts.poll_end_at - timedelta(hours=rules.silence_hours)
        exempt = facts.poll_day is not None and facts.poll_day.exempt
        if silence_from <= now < facts.poll_end_at and not exempt:
            why = ""
            if facts.poll_day is not None:
                why = (" (a poll-day plan may call only its own booth agents" if not facts.poll_day.booth_agent
                       else " (a poll-day plan may play only its own scripts") + " in it)"
            return Verdict(False, "silence", f"silence period before the close of poll at "
                           f"{facts.poll_end_at.astimezone(rules.tz):%d %b %H:%M}{why}", facts.poll_end_at)
    if facts.starts_at is not None and now < facts.starts_at:
        return Verdict(False, "schedule", "the campaign has not started", facts.starts_at)
    if facts.ends_at is not None and now >= facts.ends_at:
        return Verdict(False, "schedule", "the campaign has ended")
    poll_day = facts.poll_day is not None and facts.poll_day.exempt
    if poll_day and in_hard_ban(now, rules):
        return Verdict(False, "window", f"no calls between {HARD_LATEST:%H:%M} and {HARD_EARLIEST:%H:%M} "
                       f"{rules.timezone}, poll day or not", _after_hard_ban(now, rules))
    if not poll_day and not in_window(now, rules):
        return Verdict(False, "window", f"outside the calling window {rules.window_start:%H:%M}-"
                       f"{rules.window_end:%H:%M} {rules.timezone}", next_window_start(now, rules))
    if facts.phone_in_call:
        return Verdict(False, "busy_phone", "that phone is in a call now", now + timedelta(seconds=30))
    if facts.last_call_at is not None and now - facts.last_call_at < rules.min_gap:
        return Verdict(False, "gap", f"called less than {rules.min_gap} ago", facts.last_call_at + rules.min_gap)
    if facts.attempts_today >= rules.max_per_day and not poll_day:
        tomorrow = day_start(now, rules) + timedelta(days=1)
        return Verdict(False, "daily_cap", f"{facts.attempts_today} attempts today (limit {rules.max_per_day})",
                       next_window_start(tomorrow, rules))
    return ALLOWED
