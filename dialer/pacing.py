"""How many calls an operator campaign should have ringing now: progressive or predictive pacing.

Pure logic, no I/O: the dialer (:mod:`dialer.pacing_inputs`) and the simulator (``scripts/sim_pacing.py``)
measure, this module decides.

**Progressive** (the old pacing): one call per ready operator times a ratio, less the answered calls already
waiting and the calls already ringing. An operator waits through every ring, busy and no-answer.

**Predictive** uses an *expected-availability model* (the method of Wombat/OMniLeads' predictive mode and,
for the feedback, of VICIdial's ``ADAPT_*`` modes) with a safety margin steered by the abandon rate:

1. *Operators free by t*: those ready now, those in wrap-up with less than ``t`` left, and each operator on a
   call with the probability that the call *and* the wrap-up after it end by ``t``: from the measured talk
   times, conditional on how long the call has already lasted (no distribution shape assumed).
2. *Answers by t*: each ringing call is answered by ``t`` with the measured answer rate and ring-to-answer
   times, conditional on how long it has rung; each new call with ``answer rate x P(ring-to-answer <= t)``.
3. At each decile ``t`` of the ring-to-answer times, the answers expected by ``t`` plus ``z`` standard
   deviations must not exceed the operators free by the previous decile + the grace (an answer may come
   anywhere between the two; the grace is how long an answered call may wait, less the hand-over to the
   operator), less the answered calls already waiting:
   the number of new calls is the largest that fits at every ``t`` (a quadratic, solved exactly).
4. The margin ``z`` is the feedback term: ``z = z_base + z_gain x (window abandon rate / aim - 1)``, the aim
   a share (60%) of the cap; abandons in the sliding window raise the margin and dial less, a clean window
   lowers it and dials more (proportional control, as VICIdial's adaptive modes raise and lower the level).

Why this method: it needs only what the war room already records (answers, ring and talk times, operator
states), follows operators going on break within a pass, and the one knob the feedback turns is the very
figure the regulator caps; Erlang-C assumes Poisson arrivals, which a dialer does not have (it *makes* the
arrivals). Tuned with ``scripts/sim_pacing.py`` (35 operators, 30-60% answer: occupancy 0.89-0.92 at a
3% cap, against 0.62-0.80 progressive).

**Guards** (checked first, in order): never more calls than the free lines; *progressive* while data is thin
(fewer than ``min_answered`` answers measured today, or fewer than ``min_operators`` operators working), and
while the cap is at risk (the window's abandon rate at the cap, or today's abandon budget, ``cap x answered -
abandoned``, under two calls: calls already out may still abandon). The calling rules are not here: the
claim applies them to every call started.
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field


class PacingMode(enum.StrEnum):
    progressive = "progressive"
    predictive = "predictive"


DEFAULT_CAP = 0.03
SPARE = 2.0   # abandons today's cap must still allow before dialing ahead (calls already out may abandon)


@dataclass(frozen=True)
class PacingPolicy:
    """A campaign's pacing settings and the tuning shared by all campaigns."""

    mode: PacingMode = PacingMode.progressive
    cap: float = DEFAULT_CAP            # abandoned / answered, over the window and the day
    ratio: float = 1.0                  # progressive: calls per ready operator
    min_answered: int = 30              # answers measured today before predicting
    min_operators: int = 3              # operators working (not paused or signed out) before predicting
    target: float = 0.6                 # aim the window's abandon rate at this share of the cap
    z_base: float = 2.0                 # feedback: margin z = z_base + z_gain x (window rate / aim - 1)
    z_gain: float = 1.0
    z_max: float = 4.0
    min_samples: int = 30               # ring-to-answer and talk time samples needed for the model
    grace: float = 2.0                  # how late an operator may come to an answered call: the abandon wait
    #                                     less the hand-over (the operator's phone ringing and answered)

    def __post_init__(self) -> None:
        if not 0 < self.cap < 1:
            raise ValueError(f"abandon cap {self.cap!r}: must be between 0 and 1 (0.03 is 3%)")
        if self.ratio <= 0:
            raise ValueError(f"progressive ratio {self.ratio!r}: must be above 0")


@dataclass(frozen=True)
class Measurements:
    """One campaign's figures now. Times in seconds."""

    lines_free: int                     # lines this campaign may take now
    ready: int                          # operators ready now
    waiting: int = 0                    # answered calls waiting for an operator
    ringing: Sequence[float] = ()       # how long each of the campaign's unanswered calls has been out
    wrapping: Sequence[float] = ()      # wrap-up left, per operator in wrap-up
    talking: Sequence[float] = ()       # time on the call so far, per operator on a call
    wrap_seconds: float = 20.0          # the wrap-up an operator gets after each call
    dialed: int = 0                     # calls of the window that finished ringing (answered or not)
    answered: int = 0                   # ...of which answered
    abandoned: int = 0                  # answered calls of the window no operator took in time
    answered_day: int = 0
    abandoned_day: int = 0
    answer_delays: Sequence[float] = ()  # dial-to-answer time of recent answered calls
    talk_times: Sequence[float] = ()     # talk time of recent calls taken by an operator

    @property
    def working(self) -> int:
        return self.ready + len(self.wrapping) + len(self.talking)

    @property
    def answer_rate(self) -> float:
        return self.answered / self.dialed if self.dialed else 0.0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    @property
    def abandon_rate_day(self) -> float:
        return self.abandoned_day / self.answered_day if self.answered_day else 0.0


@dataclass(frozen=True)
class Decision:
    mode: PacingMode          # what was used this time (predictive falls back to progressive)
    start: int                # calls to start now
    in_progress: int          # calls to have ringing, counting those already ringing
    level: float              # dial level: calls ringing or waiting per operator working
    reason: str               # in words, for the dashboard and the log
    details: dict[str, float] = field(default_factory=dict)
    why: str = "progressive"  # the reason's key in REASONS (the dashboard says it in the user's language)
    why_args: dict[str, str] = field(default_factory=dict)  # ...and its figures, formatted


# Each reason a decision gives, in English (the dashboard's Hindi is in web/i18n.py, under "pr_" + the key).
REASONS: dict[str, str] = {
    "progressive": "progressive",
    "few_operators": "progressive: {working} operators working (predicting needs {needed})",
    "few_answers": "progressive: {answered} answers today (predicting needs {needed})",
    "few_samples": "progressive: too few ring and talk times measured",
    "window_cap": "progressive: window abandon rate {rate} at the cap {cap}",
    "day_cap": "progressive: today's abandons {abandoned} of {answered} answered: cap {cap} near",
    "predictive": "predictive: margin {z} sd, answers {rate}, tightest {ahead} s ahead",
}


def reason(why: str, args: dict[str, str]) -> str:
    return REASONS[why].format(**args)


def decide(m: Measurements, policy: PacingPolicy) -> Decision:
    """How many calls to start now for one campaign (see the module's docstring)."""
    if policy.mode is PacingMode.predictive:
        why = _why_not_predict(m, policy)
        if why is None:
            return _predictive(m, policy)
        return _progressive(m, policy, *why)
    return _progressive(m, policy, "progressive", {})


def _why_not_predict(m: Measurements, p: PacingPolicy) -> tuple[str, dict[str, str]] | None:
    if m.working < p.min_operators:
        return "few_operators", {"working": str(m.working), "needed": str(p.min_operators)}
    if m.answered_day < p.min_answered or m.dialed == 0 or m.answered == 0:
        return "few_answers", {"answered": str(m.answered_day), "needed": str(p.min_answered)}
    if len(m.answer_delays) < p.min_samples or len(m.talk_times) < p.min_samples:
        return "few_samples", {}
    if m.abandon_rate >= p.cap:
        return "window_cap", {"rate": f"{m.abandon_rate:.1%}", "cap": f"{p.cap:.1%}"}
    if p.cap * m.answered_day - m.abandoned_day < SPARE:
        return "day_cap", {"abandoned": str(m.abandoned_day), "answered": str(m.answered_day),
                           "cap": f"{p.cap:.1%}"}
    return None


def _clamp(start: int, m: Measurements) -> int:
    return max(0, min(start, m.lines_free))


def _progressive(m: Measurements, p: PacingPolicy, why: str, args: dict[str, str]) -> Decision:
    target = max(0, math.floor(m.ready * p.ratio) - m.waiting)
    start = _clamp(target - len(m.ringing), m)
    return Decision(PacingMode.progressive, start, len(m.ringing) + start,
                    _level(len(m.ringing) + start + m.waiting, m), reason(why, args), why=why, why_args=args)


def _level(calls: int, m: Measurements) -> float:
    return round(calls / m.working, 2) if m.working else 0.0


def _survival(sorted_samples: Sequence[float], t: float) -> float:
    """Share of the samples above ``t``."""
    return 1.0 - bisect_right(sorted_samples, t) / len(sorted_samples)


def free_within(m: Measurements, horizon: float, talks: Sequence[float]) -> tuple[float, float]:
    """Operators free within ``horizon`` seconds (``talks`` sorted): expectation and variance."""
    soon = float(m.ready) + sum(1 for left in m.wrapping if left <= horizon)
    var = 0.0
    for elapsed in m.talking:
        alive = _survival(talks, elapsed)   # P(T > elapsed)
        if alive <= 0:  # longer than any call measured: no telling when it ends, so a cautious guess
            chance = min(1.0, max(0.0, horizon - m.wrap_seconds) / talks[-1])
        elif horizon > m.wrap_seconds:      # P(T <= elapsed + H - wrap | T > elapsed)
            chance = max(0.0, alive - _survival(talks, elapsed + horizon - m.wrap_seconds)) / alive
        else:
            chance = 0.0
        soon += chance
        var += chance * (1.0 - chance)
    return soon, var


def answers_by(m: Measurements, delays: Sequence[float], rate: float, t: float) -> tuple[float, float]:
    """Answers within ``t`` seconds from the calls ringing now (``delays`` sorted): expectation and variance."""
    total = var = 0.0
    for age in m.ringing:
        later = rate * _survival(delays, age)             # P(answered, but not yet)
        if later <= 0:
            continue
        chance = rate * (_survival(delays, age) - _survival(delays, age + t)) / (later + (1.0 - rate))
        total += chance
        var += chance * (1.0 - chance)
    return total, var


def margin(m: Measurements, p: PacingPolicy) -> float:
    """The feedback term: the safety margin, in standard deviations, from the window's abandon rate."""
    z = p.z_base + p.z_gain * (m.abandon_rate / (p.cap * p.target) - 1.0)
    return min(p.z_max, max(0.0, z))


def most_calls(a: float, room: float, var: float, z: float) -> float:
    """The largest ``n`` with ``n a + z sqrt(var + n a (1 - a)) <= room``: ``n`` new calls, each answered in
    time with chance ``a``, fit the room left with a margin of ``z`` standard deviations."""
    if room - z * math.sqrt(var) < 0:
        return 0.0
    c = a * (1.0 - a)
    qa, qb, qc = a * a, -(2.0 * room * a + z * z * c), room * room - z * z * var
    disc = max(0.0, qb * qb - 4.0 * qa * qc)
    root = (-qb - math.sqrt(disc)) / (2.0 * qa)
    # the root is the boundary itself, which rounding may leave a hair over the room: step just inside it
    return max(0.0, root - 1e-9 * max(1.0, root))


def _predictive(m: Measurements, p: PacingPolicy) -> Decision:
    delays, talks = sorted(m.answer_delays), sorted(m.talk_times)
    rate = m.answer_rate
    z = margin(m, p)
    # at each decile t of the ring-to-answer times: the answers expected by t, from the calls ringing now and
    # those started now, with z standard deviations to spare, must not outrun the operators free by the
    # previous decile + grace (an answer may come anywhere between the two deciles)
    wanted = float(m.lines_free)
    limit_at = previous = 0.0
    for q in range(1, 11):
        t = delays[min(len(delays) - 1, len(delays) * q // 10)]
        share = 1.0 - _survival(delays, t)      # a new call answered by t: rate x share
        if share <= 0:
            continue
        free, free_var = free_within(m, previous + p.grace, talks)
        coming, coming_var = answers_by(m, delays, rate, t)
        fits = most_calls(rate * share, free - m.waiting - coming, free_var + coming_var, z)
        if fits < wanted:
            wanted, limit_at = fits, t
        previous = t
    start = _clamp(math.floor(wanted), m)
    details = {"z": round(z, 2), "limit_at": round(limit_at, 1), "answer_rate": round(rate, 3)}
    args = {"z": f"{z:.1f}", "rate": f"{rate:.0%}", "ahead": f"{limit_at:.0f}"}
    return Decision(PacingMode.predictive, start, len(m.ringing) + start,
                    _level(len(m.ringing) + start + m.waiting, m), reason("predictive", args), details,
                    why="predictive", why_args=args)
