"""Call figures per campaign and per local calendar day.

Attempts count in the period by when they were dialled (``created_at``). The answer rate is answered
attempts over attempts that have ended (in-flight calls have no outcome yet). IVR results are the
attempt's ``result`` (completed / partial / opted_out / transferred)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from db.campaigns import Attempt, Campaign, Disposition, Target, TargetState
from db.ivr import CallResult, IvrCall
from db.tickets import Ticket
from reports.model import Cell, Period, Report, ReportError, average, rate

OUTCOMES = [d.value for d in Disposition if d is not Disposition.answered]
RESULTS = [r.value for r in CallResult]
CAMPAIGN_COLUMNS = ["id", "name", "mode", "state", "targets", "done", "due", "dialing", "blocked", "attempts",
                    "ended", "answered", "answer_rate", *OUTCOMES, "talk_seconds", "avg_talk_seconds",
                    *(f"ivr_{r}" for r in RESULTS)]
DAY_COLUMNS = ["day", "attempts", "answered", "answer_rate", "talk_minutes", "avg_talk_seconds", "ivr_completed",
               "tickets_opened", "tickets_resolved"]


def _count_if(condition: Any) -> Any:
    return func.count(case((condition, 1)))


def _attempt_figures() -> list[Any]:
    """Aggregates over attempts: total, ended, per disposition, talk (sum, count), per IVR result."""
    return [func.count(Attempt.id), _count_if(Attempt.disposition.is_not(None)),
            *(_count_if(Attempt.disposition == d) for d in Disposition),
            func.coalesce(func.sum(Attempt.talk_seconds), 0), func.count(Attempt.talk_seconds),
            *(_count_if(Attempt.result == r) for r in RESULTS)]


def campaign_report(session: Session, period: Period | None = None, campaign_id: int | None = None) -> Report:
    """One row per campaign (or just ``campaign_id``): its targets now, its attempts in the period."""
    period = period or Period()
    query = select(Campaign).order_by(Campaign.id)
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    campaigns = list(session.scalars(query))
    if campaign_id is not None and not campaigns:
        raise ReportError(f"no campaign with id {campaign_id}")
    ids = [c.id for c in campaigns]

    targets: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    blocked_expr = _count_if(and_(Target.state == TargetState.queued, Target.blocked_rule.is_not(None)))
    for cid, state, count, blocked in session.execute(
            select(Target.campaign_id, Target.state, func.count(), blocked_expr)
            .where(Target.campaign_id.in_(ids)).group_by(Target.campaign_id, Target.state)):
        targets[cid][TargetState(state).value] += count
        targets[cid]["blocked"] += blocked

    attempts = {row[0]: [int(v) for v in row[1:]] for row in session.execute(
        select(Attempt.campaign_id, *_attempt_figures())
        .where(Attempt.campaign_id.in_(ids), *period.conditions(Attempt.created_at))
        .group_by(Attempt.campaign_id))}

    rows: list[list[Cell]] = []
    zero = [0] * (2 + len(Disposition) + 2 + len(RESULTS))
    for c in campaigns:
        t = targets[c.id]
        total, ended, *rest = attempts.get(c.id, zero)
        per = dict(zip([d.value for d in Disposition], rest[:len(Disposition)], strict=True))
        talk, talked = rest[len(Disposition)], rest[len(Disposition) + 1]
        results = rest[len(Disposition) + 2:]
        rows.append([c.id, c.name, c.mode.value, c.state.value, sum(t[s.value] for s in TargetState),
                     t[TargetState.done.value] + t[TargetState.removed.value], t[TargetState.queued.value],
                     t[TargetState.dialing.value], t["blocked"], total, ended, per["answered"],
                     rate(per["answered"], ended), *(per[o] for o in OUTCOMES), talk, average(talk, talked),
                     *results])
    meta = period.as_meta() | {"campaign_id": campaign_id}
    return Report("Campaigns", list(CAMPAIGN_COLUMNS), rows, meta)


@dataclass
class _Day:
    attempts: int = 0
    ended: int = 0
    answered: int = 0
    talk: int = 0
    talked: int = 0
    completed: int = 0
    opened: int = 0
    resolved: int = 0

    def row(self, day: date) -> list[Cell]:
        return [day.isoformat(), self.attempts, self.answered, rate(self.answered, self.ended),
                round(self.talk / 60, 1), average(self.talk, self.talked), self.completed, self.opened,
                self.resolved]


def day_report(session: Session, period: Period | None = None, campaign_id: int | None = None) -> Report:
    """One row per local day from the first to the last (the period's bounds when given), empty days
    included. With a campaign, tickets count only when they came from one of its calls."""
    period = period or Period()
    days: dict[date, _Day] = defaultdict(_Day)
    query = select(Attempt.created_at, Attempt.disposition, Attempt.talk_seconds, Attempt.result) \
        .where(*period.conditions(Attempt.created_at))
    if campaign_id is not None:
        query = query.where(Attempt.campaign_id == campaign_id)
    for at, disposition, talk, result in session.execute(query).yield_per(5000):
        d = days[period.day_of(at)]
        d.attempts += 1
        d.ended += disposition is not None
        d.answered += disposition == Disposition.answered
        if talk is not None:
            d.talk, d.talked = d.talk + talk, d.talked + 1
        d.completed += result == CallResult.completed.value

    for column, field in ((Ticket.created_at, "opened"), (Ticket.resolved_at, "resolved")):
        tickets = select(column).where(column.is_not(None), *period.conditions(column))
        if campaign_id is not None:
            tickets = tickets.join(IvrCall, IvrCall.id == Ticket.call_id).where(IvrCall.campaign_id == campaign_id)
        for (when,) in session.execute(tickets).yield_per(5000):
            if when is None:
                continue
            d = days[period.day_of(when)]
            setattr(d, field, getattr(d, field) + 1)

    first = period.since or min(days, default=None)
    last = period.until or max(days, default=None)
    rows: list[list[Cell]] = []
    if first is not None and last is not None:
        day = first
        while day <= last:
            rows.append(days[day].row(day) if day in days else _Day().row(day))
            day += timedelta(days=1)
    meta = period.as_meta() | {"campaign_id": campaign_id}
    return Report("Calls per day", list(DAY_COLUMNS), rows, meta)
