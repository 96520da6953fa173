"""Plausibility checks on a reported round, pure: a number that cannot be right is flagged for an operator
to call the booth back, never silently accepted or dropped (the report is stored either way). Poll day's
turnout (below); counting day's tables: :func:`check_count`.

- ``falling``: fewer votes than the same booth reported in an earlier round (the count only grows);
- ``above_voters``: more votes than the booth has voters;
- ``ours_above_votes``: more of our supporters' votes than votes polled;
- ``off_pattern``: the booth's turnout (share of its voters) is far from the AC's pattern this round (the
  median of the other booths that reported it), once enough booths have reported to make a pattern.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    kind: str
    message: str


@dataclass(frozen=True)
class Reported:
    """One booth's figures for one round."""

    booth_id: int
    round: int
    votes: int
    ours: int | None = None


@dataclass(frozen=True)
class Pattern:
    """How far a booth's turnout may stray from the AC's median (percentage points), and how many other
    booths must have reported before the median is trusted."""

    tolerance_points: float = 20.0
    min_booths: int = 5


def check_report(report: Reported, *, voters: int | None, earlier: Sequence[Reported] = (),
                 others_turnout: Sequence[float] = (), pattern: Pattern | None = None) -> list[Flag]:
    """Every flag on ``report``. ``earlier``: the booth's reports from earlier rounds; ``others_turnout``:
    the turnout (%) of the AC's other booths this round."""
    pattern = pattern or Pattern()
    flags = []
    before = [e for e in earlier if e.round < report.round]
    if before:
        top = max(before, key=lambda e: e.votes)
        if report.votes < top.votes:
            flags.append(Flag("falling", f"{report.votes} votes in round {report.round}, fewer than the "
                                         f"{top.votes} reported in round {top.round}"))
    if voters is not None and report.votes > voters:
        flags.append(Flag("above_voters", f"{report.votes} votes, more than the booth's {voters} voters"))
    if report.ours is not None and report.ours > report.votes:
        flags.append(Flag("ours_above_votes", f"{report.ours} of our supporters' votes, more than the "
                                              f"{report.votes} votes polled"))
    if voters and len(others_turnout) >= pattern.min_booths:
        mine = 100.0 * report.votes / voters
        median = statistics.median(others_turnout)
        if abs(mine - median) > pattern.tolerance_points:
            flags.append(Flag("off_pattern", f"turnout {mine:.0f}% against the AC's {median:.0f}% this round "
                                             f"(more than {pattern.tolerance_points:g} points apart)"))
    return flags


def turnout(votes: int, voters: int | None) -> float | None:
    """Votes as a percentage of the booth's voters (None when the voters are not known)."""
    return round(100.0 * votes / voters, 1) if voters else None


def check_count(votes: Mapping[str, int], *, table: int, tables: int, electors: int | None, max_votes: int,
                booth: int | None = None) -> list[Flag]:
    """Every flag on one counting table's return for a round (counting day; the same rule: flagged for an
    operator, never dropped). ``votes``: party -> votes reported so far; ``electors``: the electors of the
    booth the table counts this round (None: not known).

    - ``negative``: a party's figure below zero;
    - ``absurd``: a party's figure, or the table's total, above ``max_votes`` (no booth is that big);
    - ``above_electors``: the table's total above the electors of the booth it counts;
    - ``unknown_table``: a table the hall does not have (the agent's post names another).
    """
    flags = []
    below = {p: n for p, n in votes.items() if n < 0}
    if below:
        flags.append(Flag("negative", "negative votes: " + ", ".join(f"{p} {n}" for p, n in below.items())))
    total = sum(votes.values())
    big = {p: n for p, n in votes.items() if n > max_votes}
    if big or total > max_votes:
        what = ", ".join(f"{p} {n}" for p, n in big.items()) if big else f"a total of {total}"
        flags.append(Flag("absurd", f"{what}: more than the {max_votes} votes any table's round can have"))
    if electors is not None and total > electors:
        where = f"booth {booth}" if booth is not None else "the booth counted"
        flags.append(Flag("above_electors", f"{total} votes, more than the {electors} electors of {where}"))
    if not 1 <= table <= tables:
        flags.append(Flag("unknown_table", f"table {table}: the hall has tables 1 to {tables}"))
    return flags
