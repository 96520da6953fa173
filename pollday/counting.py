"""Counting day, pure: an AC's counting plan (the counting date, its rounds, the tables in the hall, the
parties or candidates in the result sheet's order), its rounds (the same :class:`~pollday.plan.Round` the
poll-day scheduler runs), the table a counting agent reports for (from their committee post, "Counting
agent 3"), and the result sheet.

The result sheet is laid out like the Election Commission's round-wise result sheet (Form 20 style): a
row per round, a column per party in the sheet's order, the round's total, the running totals, the leader
and their margin over the second; each row also says which tables have not reported the round yet (or
only for some parties). A round's figures are the sum over the tables that reported it.

Each round's report time is when the round's counting is expected to be done (``starts`` plus ``round``
times ``round_minutes``); the counting agents are called just after it, until the next round's time. The
hall counts by the Commission's allocation: in round r, table t counts the EVM of booth (r - 1) x tables + t,
so a table's return is checked against that booth's electors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.rules import HARD_EARLIEST, HARD_LATEST
from pollday.errors import PlanInvalid
from pollday.plan import Round

MAX_PARTIES = 10        # the counting script asks at most this many parties (steps p1..p10)
MAX_TABLES = 50
MAX_ROUNDS = 60
DEFAULT_COUNTING_POSTS = ("counting agent",)
STEP_PREFIX = "p"       # the counting script's steps: p1 (the sheet's first party), p2, ...


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass(frozen=True)
class Party:
    """A column of the result sheet: ``key`` as the sheet heads it (BJP, INC, NOTA), ``name`` the candidate."""

    key: str
    name: str = ""

    def __post_init__(self) -> None:
        if not self.key.strip() or len(self.key) > 40:
            raise PlanInvalid(f"counting plan: party '{self.key}': a short name of 1 to 40 characters",
                              field="parties")

    @property
    def spoken(self) -> str:
        """What the agent hears: the candidate's name with the party, or the party alone."""
        return f"{self.name} ({self.key})" if self.name else self.key


@dataclass(frozen=True)
class CountingPlan:
    ac_id: int
    counting_date: date
    round_count: int
    tables: int
    parties: tuple[Party, ...]
    starts: time = time(8)                 # counting begins
    round_minutes: int = 30                # a round takes about this long
    timezone: str = "Asia/Kolkata"
    posts: tuple[str, ...] = DEFAULT_COUNTING_POSTS  # posts called, in order; the table number follows
    use_alternate: bool = True
    script: str = "counting"
    call_delay: timedelta = timedelta(minutes=2)
    max_votes: int = 2000                  # a table's round above this is absurd (a booth has at most 1,500-2,000)
    scripts: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            raise PlanInvalid(f"counting plan: unknown time zone '{self.timezone}'", field="timezone") from None
        if not 1 <= self.round_count <= MAX_ROUNDS:
            raise PlanInvalid(f"counting plan: {self.round_count} rounds: between 1 and {MAX_ROUNDS}",
                              field="rounds")
        if not 1 <= self.tables <= MAX_TABLES:
            raise PlanInvalid(f"counting plan: {self.tables} tables: between 1 and {MAX_TABLES}", field="tables")
        if not 1 <= len(self.parties) <= MAX_PARTIES:
            raise PlanInvalid(f"counting plan: {len(self.parties)} parties: name 1 to {MAX_PARTIES}, in the "
                              "result sheet's order", field="parties")
        keys = [_norm(p.key) for p in self.parties]
        if len(set(keys)) != len(keys):
            raise PlanInvalid("counting plan: a party is named twice: "
                              + ", ".join(p.key for p in self.parties), field="parties")
        if not 5 <= self.round_minutes <= 240:
            raise PlanInvalid("counting plan: round_minutes must be between 5 and 240", field="round_minutes")
        if not self.posts or not all(_norm(p) for p in self.posts):
            raise PlanInvalid("counting plan: name at least one committee post to call (e.g. counting agent)",
                              field="posts")
        if not timedelta(0) <= self.call_delay <= timedelta(minutes=30):
            raise PlanInvalid("counting plan: call_delay must be between 0 and 30 minutes", field="call_delay")
        if not 1 <= self.max_votes <= 100_000:
            raise PlanInvalid("counting plan: max_votes must be between 1 and 100,000", field="max_votes")
        marks = self.rounds()
        first, last = marks[0].at, marks[-1].calls_from
        if first.time() < HARD_EARLIEST or last.date() != self.counting_date or last.time() >= HARD_LATEST:
            raise PlanInvalid(f"counting plan: {self.round_count} rounds of {self.round_minutes} minutes from "
                              f"{self.starts:%H:%M} reach into {HARD_LATEST:%H:%M}-{HARD_EARLIEST:%H:%M}, when no "
                              "calls may be made", field="rounds")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def all_scripts(self) -> tuple[str, ...]:
        return (self.script, *self.scripts)

    def rounds(self) -> list[Round]:
        """Every counting round in order: reported at ``starts`` + n x ``round_minutes``, its calls until
        the next round's time (the last's until the end of the day's calls)."""
        begin = datetime.combine(self.counting_date, self.starts, tzinfo=self.tz)
        step = timedelta(minutes=self.round_minutes)
        # wall-clock arithmetic on an aware datetime keeps the zone's local time (a DST change is not skipped)
        marks = [begin + n * step for n in range(1, self.round_count + 1)]
        end_of_calls = datetime.combine(self.counting_date, HARD_LATEST, tzinfo=self.tz)
        out = []
        for i, at in enumerate(marks):
            until = marks[i + 1] if i + 1 < len(marks) else max(end_of_calls, at + self.call_delay)
            out.append(Round(i + 1, f"{at:%H:%M}", at, at + self.call_delay, until))
        return out

    def party_of_step(self, step: str) -> Party | None:
        """The party a counting script's step asks for (``p1`` -> the sheet's first), None for other steps."""
        if not step.startswith(STEP_PREFIX) or not step[len(STEP_PREFIX):].isdigit():
            return None
        n = int(step[len(STEP_PREFIX):])
        return self.parties[n - 1] if 1 <= n <= len(self.parties) else None

    def fields(self, number: int | None = None) -> dict[str, str]:
        """The campaign fields a round's calls play: the round, how many parties, each party's name."""
        out = {"parties": str(len(self.parties)), "round": str(number or "")}
        out.update({f"party{i}": p.spoken for i, p in enumerate(self.parties, start=1)})
        return out


def booth_of(rnd: int, table: int, tables: int) -> int:
    """The booth number counted at ``table`` in round ``rnd`` (the Commission's serial allocation)."""
    return (rnd - 1) * tables + table


def table_of(post: str | None, posts: Sequence[str]) -> tuple[int, int] | None:
    """(the post's place in the plan's order, the table number) for a post such as "Counting agent 3",
    "counting-agent-03" or "CA 3" (the plan's post followed by the table), None when the post is none of
    them or names no table."""
    key = _norm(post or "")
    for rank, name in enumerate(posts):
        base = _norm(name)
        rest = key[len(base):]
        if base and key.startswith(base) and rest.isascii() and rest.isdigit() and len(rest) <= 3 and int(rest):
            return rank, int(rest)
    return None


@dataclass(frozen=True)
class TableReturn:
    """One table's figures for one round: party key -> votes (the parties reported so far)."""

    round: int
    table: int
    votes: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.votes.values())


@dataclass(frozen=True)
class SheetRow:
    """One round of the result sheet. ``votes``: each party's votes this round (in the sheet's order) over
    the tables that reported; ``cumulative``: up to and including this round; ``leader``/``margin``: who
    leads the running totals and by how much (None and 0 on a tie); ``round_leader``/``round_margin`` the
    same for this round alone. ``reported``: tables with every party in; ``partial``: some; ``missing``:
    none."""

    round: int
    votes: tuple[int, ...]
    total: int
    cumulative: tuple[int, ...]
    cumulative_total: int
    leader: str | None
    margin: int
    round_leader: str | None
    round_margin: int
    reported: tuple[int, ...]
    partial: tuple[int, ...]
    missing: tuple[int, ...]


@dataclass(frozen=True)
class Sheet:
    parties: tuple[str, ...]
    rows: tuple[SheetRow, ...]
    totals: tuple[int, ...]
    total: int
    leader: str | None
    margin: int


def lead(parties: Sequence[str], votes: Sequence[int]) -> tuple[str | None, int]:
    """Who leads ``votes`` (in ``parties``' order) and by how much over the second; (None, 0) on a tie or
    when nobody has a vote."""
    if not votes or max(votes) <= 0:
        return None, 0
    order = sorted(range(len(votes)), key=lambda i: -votes[i])
    second = votes[order[1]] if len(order) > 1 else 0
    margin = votes[order[0]] - second
    return (parties[order[0]] if margin > 0 else None), margin


def result_sheet(parties: Sequence[str], tables: int, rounds: int, returns: Iterable[TableReturn]) -> Sheet:
    """The round-wise result sheet from the tables' returns. Figures for a party not on the sheet, a table
    outside 1..``tables`` or a round outside 1..``rounds`` are not summed (the checks flag them)."""
    index = {p: i for i, p in enumerate(parties)}
    per_round: dict[int, list[int]] = {r: [0] * len(parties) for r in range(1, rounds + 1)}
    got: dict[tuple[int, int], set[str]] = {}
    for ret in returns:
        if ret.round not in per_round or not 1 <= ret.table <= tables:
            continue
        for party, n in ret.votes.items():
            if party in index:
                per_round[ret.round][index[party]] += n
                got.setdefault((ret.round, ret.table), set()).add(party)
    rows = []
    running = [0] * len(parties)
    everyone = set(parties)
    for r in range(1, rounds + 1):
        votes = per_round[r]
        running = [a + b for a, b in zip(running, votes, strict=True)]
        seen = {t: got.get((r, t), set()) for t in range(1, tables + 1)}
        leader, margin = lead(parties, running)
        round_leader, round_margin = lead(parties, votes)
        rows.append(SheetRow(r, tuple(votes), sum(votes), tuple(running), sum(running), leader, margin, round_leader,
                             round_margin, tuple(t for t, s in seen.items() if s >= everyone),
                             tuple(t for t, s in seen.items() if s and not s >= everyone),
                             tuple(t for t, s in seen.items() if not s)))
    leader, margin = lead(parties, running)
    return Sheet(tuple(parties), tuple(rows), tuple(running), sum(running), leader, margin)
