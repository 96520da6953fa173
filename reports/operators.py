"""Operator figures, in all or per shift: calls taken, offers missed, time in each working state, and the
dispositions they recorded.

Time comes from the state history (``operator_state_changes``): each change starts an interval that lasts
until the operator's next change (the last one until the period's end, or now), clipped to the period.
A call taken is an ``on_call`` interval that ended in ``wrap_up`` (the dispatcher's way out of a connected
call; ``on_call`` -> ``paused`` is a missed offer, -> ``ready`` a caller who left while it rang). Its talk
time is that interval (ringing included). A call counts where it began; time is split where it was spent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import utcnow
from db.operators import CallDisposition, Disposition, OperatorStateChange
from db.operators import OperatorState as S
from db.users import Role, User
from reports.model import Cell, Period, Report, average
from reports.shifts import OFF_SHIFT, Shift, shift_of, split

TIMED = (S.ready, S.paused, S.on_call, S.wrap_up)
KINDS = [d.value for d in Disposition]
FIGURES = ["calls", "missed", "talk_seconds", "avg_talk_seconds", *KINDS, "signed_in_seconds",
           *(f"{s.value}_seconds" for s in TIMED)]
ALL = "all"


@dataclass(frozen=True)
class Interval:
    """An operator in ``state`` from ``start`` to ``end`` (clipped to the period; ``began`` is when the
    state really began); ``left_to`` is the state they went to next, if within the period."""

    user_id: int
    state: S
    start: datetime
    end: datetime
    began: datetime
    left_to: S | None


def intervals(changes: Iterable[tuple[int, S, datetime]], start: datetime | None, end: datetime) -> Iterator[Interval]:
    """Intervals from changes (user, new state, when), sorted by user then time, clipped to start .. end.
    A change before ``start`` only gives the state the operator was in when the period began."""
    current: tuple[int, S, datetime] | None = None
    for user_id, state, at in changes:
        if current is not None and current[0] == user_id:
            yield from _clipped(current, at, state, start, end)
        elif current is not None:
            yield from _clipped(current, end, None, start, end)
        current = (user_id, state, at)
    if current is not None:
        yield from _clipped(current, end, None, start, end)


def _clipped(current: tuple[int, S, datetime], until: datetime, left_to: S | None, start: datetime | None,
             end: datetime) -> Iterator[Interval]:
    user_id, state, at = current
    lo = max(at, start) if start is not None else at
    hi = min(until, end)
    if hi > lo:
        yield Interval(user_id, state, lo, hi, at, left_to if until <= end else None)


@dataclass
class Figures:
    """One operator's figures in one bucket (all, or a shift)."""

    calls: int = 0
    missed: int = 0
    talk: float = 0.0
    seconds: dict[S, float] = field(default_factory=lambda: defaultdict(float))
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def busy(self) -> bool:
        return bool(self.calls or self.missed or any(self.seconds.values()) or any(self.kinds.values()))

    def row(self) -> list[Cell]:
        timed = [round(self.seconds[s]) for s in TIMED]
        return [self.calls, self.missed, round(self.talk), average(self.talk, self.calls),
                *(self.kinds[k] for k in KINDS), sum(timed), *timed]


Bucketer = tuple[Callable[[datetime, datetime], dict[str, float]], Callable[[datetime], str]]


def _collect(session: Session, period: Period, now: datetime | None,
             bucketer: Bucketer) -> dict[tuple[int, str], Figures]:
    """Figures per (user, bucket): the state history and the dispositions in the period."""
    spread, bucket_of = bucketer
    now = now or utcnow()
    start, end = period.start, min(period.end or now, now)
    out: dict[tuple[int, str], Figures] = defaultdict(Figures)
    for iv in intervals(_changes(session, start, end), start, end):
        if iv.state is S.signed_out:
            continue
        for bucket, seconds in spread(iv.start, iv.end).items():
            out[iv.user_id, bucket].seconds[iv.state] += seconds
            if iv.state is S.on_call and iv.left_to is S.wrap_up:
                out[iv.user_id, bucket].talk += seconds
        if iv.state is S.on_call and (start is None or iv.began >= start):
            figures = out[iv.user_id, bucket_of(iv.start)]
            figures.calls += iv.left_to is S.wrap_up
            figures.missed += iv.left_to is S.paused
    query = select(CallDisposition.user_id, CallDisposition.disposition, CallDisposition.created_at) \
        .where(*period.conditions(CallDisposition.created_at), CallDisposition.created_at < end)
    for user_id, kind, at in session.execute(query).yield_per(5000):
        out[user_id, bucket_of(at)].kinds[Disposition(kind).value] += 1
    return out


def _changes(session: Session, start: datetime | None, end: datetime) -> list[tuple[int, S, datetime]]:
    """The state each operator was in at ``start`` (their last change before it), then every change up
    to ``end``, sorted by user and time."""
    c = OperatorStateChange
    rows: list[tuple[int, S, datetime]] = []
    if start is not None:
        last = select(c.user_id, func.max(c.at).label("at")).where(c.at < start).group_by(c.user_id).subquery()
        before: dict[int, tuple[S, datetime]] = {}
        for user_id, state, at in session.execute(
                select(c.user_id, c.to_state, c.at).join(last, (last.c.user_id == c.user_id) & (last.c.at == c.at))
                .order_by(c.user_id, c.id)):
            before[user_id] = (S(state), at)  # same instant twice: the later row wins
        rows.extend((user_id, state, at) for user_id, (state, at) in before.items())
    query = select(c.user_id, c.to_state, c.at).where(c.at < end)
    if start is not None:
        query = query.where(c.at >= start)
    rows.extend((user_id, S(state), at) for user_id, state, at in session.execute(query.order_by(c.id)))
    rows.sort(key=lambda r: (r[0], r[2]))  # stable: rows at the same instant keep their id order
    return rows


def _operators(session: Session) -> list[tuple[int, str, str]]:
    return [(u.id, u.username, u.display_name) for u in
            session.scalars(select(User).where(User.role == Role.operator).order_by(User.username))]


def operator_report(session: Session, period: Period | None = None, now: datetime | None = None) -> Report:
    """One row per operator (every user with the operator role) over the period (up to ``now``)."""
    period = period or Period()

    def spread(a: datetime, b: datetime) -> dict[str, float]:
        return {ALL: (b - a).total_seconds()}

    figures = _collect(session, period, now, (spread, lambda _at: ALL))
    rows: list[list[Cell]] = [[username, name, *figures.get((uid, ALL), Figures()).row()]
                              for uid, username, name in _operators(session)]
    return Report("Operators", ["operator", "name", *FIGURES], rows, period.as_meta())


def shift_report(session: Session, shifts: tuple[Shift, ...], period: Period | None = None,
                 now: datetime | None = None) -> Report:
    """One row per operator and shift they worked in (``off-shift`` last), over the period; rows where
    nothing happened are left out."""
    period = period or Period()
    tz: ZoneInfo = period.tz
    figures = _collect(session, period, now, (lambda a, b: split(shifts, a, b, tz),
                                              lambda at: shift_of(shifts, at, tz)))
    rows: list[list[Cell]] = []
    for uid, username, name in _operators(session):
        for bucket in [*(s.name for s in shifts), OFF_SHIFT]:
            f = figures.get((uid, bucket))
            if f is not None and f.busy():
                rows.append([username, name, bucket, *f.row()])
    meta = period.as_meta() | {"shifts": ",".join(s.label() for s in shifts)}
    return Report("Operators per shift", ["operator", "name", "shift", *FIGURES], rows, meta)
