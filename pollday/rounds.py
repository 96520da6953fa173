"""The round scheduler, pure (poll day's turnout rounds and counting day's rounds alike): which round's
calls run now (on time, late, or superseded by the next), the order a round calls its booths in, whether
its calls can finish before the next round, and which booths have gone silent.

A round's calls run from just after its report time until the next round's report time; what is not
done by then is dropped, since the next round asks for the running total anyway. So a round that cannot
finish calls the booths that matter most first: weak booths, then swing, then strong (a weak booth with
low turnout is the war room's call to action), booths silent last round before those that reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pollday.plan import Round

STATUS_ORDER = {"weak": 0, "swing": 1, "strong": 2}


class Plan(Protocol):
    """A plan with rounds: poll day's turnout rounds (:class:`~pollday.plan.PollDayPlan`) or counting day's
    (:class:`~pollday.counting.CountingPlan`)."""

    def rounds(self) -> list[Round]: ...


@dataclass(frozen=True)
class RoundNow:
    """What the scheduler should do at one moment: run ``round`` (``late`` when its calls start after their
    planned start), having let ``superseded`` rounds go (their window passed before they ran)."""

    round: Round | None
    late: bool = False
    superseded: tuple[int, ...] = ()
    over: bool = False     # every round's window has passed


def round_now(plan: Plan, now: datetime, started: Iterable[int] = ()) -> RoundNow:
    """The round whose calls may run at ``now`` (aware), given the rounds already started."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    done = set(started)
    rounds = plan.rounds()
    current = next((r for r in rounds if r.calls_from <= now < r.until), None)
    over = now >= rounds[-1].until
    if current is None:
        return RoundNow(None, over=over)
    superseded = tuple(r.number for r in rounds if r.number < current.number and r.number not in done)
    if current.number in done:
        return RoundNow(current, superseded=superseded)
    late = now - current.calls_from > timedelta(minutes=5)
    return RoundNow(current, late=late, superseded=superseded)


@dataclass(frozen=True)
class BoothToCall:
    booth_id: int
    status: str | None = None
    number: int | None = None
    silent_last_round: bool = False


def call_order(booths: Iterable[BoothToCall]) -> list[BoothToCall]:
    """Weak, swing, strong, then booths without a status; silent booths first within each; then by number."""
    return sorted(booths, key=lambda b: (STATUS_ORDER.get(b.status or "", 3), not b.silent_last_round,
                                         b.number if b.number is not None else math.inf, b.booth_id))


@dataclass(frozen=True)
class Estimate:
    """Whether a round's calls finish before the next round: when they would, the lines it would take to
    finish in time, and how many booths would not be called in time with the lines there are."""

    finishes_at: datetime
    fits: bool
    lines_needed: int
    not_called: int


def estimate(round_: Round, booths: int, lines: int, call_seconds: float, start: datetime | None = None,
             tries: float = 1.3) -> Estimate:
    """``booths`` calls of ``call_seconds`` each (``tries`` dialled per booth on average: retries, alternate
    phones) over ``lines`` lines, starting at ``start`` (default: the round's start)."""
    if lines < 1 or call_seconds <= 0 or tries < 1:
        raise ValueError("lines must be >= 1, call_seconds > 0 and tries >= 1")
    begin = max(start or round_.calls_from, round_.calls_from)
    calls = booths * tries
    finishes = begin + timedelta(seconds=math.ceil(calls / lines) * call_seconds)
    window = (round_.until - begin).total_seconds()
    # whole calls: a line fits ``slots`` calls in the window (a call begun is finished, not cut short)
    slots = math.floor(window / call_seconds) if window > 0 else 0
    needed = max(1, math.ceil(calls / slots)) if slots > 0 else max(1, booths)
    reached = math.floor(slots * lines / tries)
    return Estimate(finishes, finishes <= round_.until, needed, max(0, booths - reached))


@dataclass(frozen=True)
class Silence:
    """A booth with no report in the last ``rounds`` closed rounds, and the last round it did report in
    (None: not once today)."""

    booth_id: int
    last_round: int | None
    rounds: int


def silent_booths(booths: Iterable[int], reported: Mapping[int, Iterable[int]], closed: Sequence[int],
                  run: int = 2) -> list[Silence]:
    """Booths with no report in each of the last ``run`` closed rounds (``closed``: the round numbers whose
    windows have ended, in order). ``reported``: booth -> the rounds it reported in."""
    if run < 1:
        raise ValueError("run must be >= 1")
    last = list(closed)[-run:]
    if len(last) < run:
        return []
    out = []
    for booth in booths:
        got = set(reported.get(booth, ()))
        if not got & set(last):
            earlier = [r for r in got if r < last[0]]
            out.append(Silence(booth, max(earlier) if earlier else None, run))
    return out
