"""A poll-day plan for one AC, as pure data: the poll date and hours, the report times (each a turnout
round), which committee posts are called and in what order, and the script the rounds play.

Report times are local times of the plan's time zone; every instant the plan hands out is timezone-aware.
No round may fall into 22:00-06:00 (the hard ban on calls) or outside the hours of poll; a final round at
the close of poll (``close_round``) asks for the final figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.rules import HARD_EARLIEST, HARD_LATEST
from pollday.errors import PlanInvalid

DEFAULT_REPORTS = (time(9), time(11), time(13), time(15), time(17))
DEFAULT_POSTS = ("BLA-2", "president")


@dataclass(frozen=True)
class Round:
    """One report round: ``number`` from 1, its report time (``at``) and the time its calls must stop
    (``until``: the next round's report time, or the end of the day's calls after the last)."""

    number: int
    label: str
    at: datetime
    calls_from: datetime
    until: datetime


@dataclass(frozen=True)
class PollDayPlan:
    ac_id: int
    poll_date: date
    opens: time = time(7)
    closes: time = time(18)
    report_times: tuple[time, ...] = DEFAULT_REPORTS
    close_round: bool = True
    timezone: str = "Asia/Kolkata"
    posts: tuple[str, ...] = DEFAULT_POSTS
    use_alternate: bool = True
    script: str = "turnout"
    call_delay: timedelta = timedelta(minutes=2)   # calls begin just after each report time
    scripts: tuple[str, ...] = field(default=())    # other scripts the plan may play (the counting round...)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            raise PlanInvalid(f"poll-day plan: unknown time zone '{self.timezone}'", field="timezone") from None
        if not self.opens < self.closes:
            raise PlanInvalid(f"poll-day plan: the poll opens ({self.opens:%H:%M}) after it closes "
                              f"({self.closes:%H:%M})", field="closes")
        times = list(self.report_times)
        if not times and not self.close_round:
            raise PlanInvalid("poll-day plan: no report times and no close round: nothing to ask",
                              field="report_times")
        if sorted(set(times)) != times:
            raise PlanInvalid("poll-day plan: report times must be in order, each once: "
                              + ", ".join(f"{t:%H:%M}" for t in times), field="report_times")
        for t in times:
            if not self.opens < t <= self.closes:
                raise PlanInvalid(f"poll-day plan: report time {t:%H:%M} is outside the hours of poll "
                                  f"{self.opens:%H:%M}-{self.closes:%H:%M}", field="report_times")
        first = times[0] if times else self.closes
        last = self._local(self.closes if self.close_round else times[-1]) + self.call_delay
        if first < HARD_EARLIEST or last.time() >= HARD_LATEST or last.date() != self.poll_date:
            raise PlanInvalid(f"poll-day plan: rounds reach into {HARD_LATEST:%H:%M}-{HARD_EARLIEST:%H:%M}, when "
                              "no calls may be made", field="report_times")
        if not self.posts:
            raise PlanInvalid("poll-day plan: name at least one committee post to call (e.g. BLA-2)",
                              field="posts")
        if not timedelta(0) <= self.call_delay <= timedelta(minutes=30):
            raise PlanInvalid("poll-day plan: call_delay must be between 0 and 30 minutes", field="call_delay")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _local(self, t: time) -> datetime:
        return datetime.combine(self.poll_date, t, tzinfo=self.tz)

    @property
    def close_at(self) -> datetime:
        return self._local(self.closes)

    @property
    def all_scripts(self) -> tuple[str, ...]:
        return (self.script, *self.scripts)

    def rounds(self) -> list[Round]:
        """Every round of the day in order, with the window its calls have."""
        marks = [(f"{t:%H:%M}", self._local(t)) for t in self.report_times]
        if self.close_round and (not marks or marks[-1][1] != self.close_at):
            marks.append(("close", self.close_at))
        elif self.close_round:
            marks[-1] = ("close", marks[-1][1])
        end_of_calls = datetime.combine(self.poll_date, HARD_LATEST, tzinfo=self.tz)
        out = []
        for i, (label, at) in enumerate(marks):
            until = marks[i + 1][1] if i + 1 < len(marks) else end_of_calls
            out.append(Round(i + 1, label, at, at + self.call_delay, until))
        return out
