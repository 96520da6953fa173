"""What predictive pacing measures, read from the database: one campaign's attempts (answer rate, ring and
talk times, abandons over the window and the day) and the operators' states (ready, in wrap-up with time
left, on a call for how long). Run inside ``Database.run``; the decision is :func:`dialer.pacing.decide`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from db.campaigns import Attempt, AttemptState
from db.operators import OperatorState, OperatorStatus
from db.users import User

SAMPLES = 200   # recent ring-to-answer and talk times kept for the model


@dataclass(frozen=True)
class CampaignFigures:
    dialed: int
    answered: int
    abandoned: int
    answered_day: int
    abandoned_day: int
    answer_delays: list[float]
    talk_times: list[float]


@dataclass(frozen=True)
class OperatorFigures:
    ready: int
    wrapping: list[float]        # seconds of wrap-up left
    talking: list[float]         # seconds on the call so far
    paused: int = 0


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def campaign_figures(session: Session, campaign_id: int, now: datetime, window: timedelta,
                     day_start: datetime) -> CampaignFigures:
    since = now - window
    mine = Attempt.campaign_id == campaign_id
    finished = or_(Attempt.answered_at.is_not(None), Attempt.state == AttemptState.ended)
    dialed = session.scalar(select(func.count()).where(mine, Attempt.created_at >= since, finished)) or 0

    def abandons(start: datetime) -> tuple[int, int]:
        row = session.execute(select(func.count(), func.count().filter(Attempt.result == "abandoned"))
                              .where(mine, Attempt.answered_at >= start)).one()
        return int(row[0]), int(row[1])

    answered, abandoned = abandons(since)
    answered_day, abandoned_day = abandons(day_start)
    recent = session.execute(select(Attempt.created_at, Attempt.answered_at, Attempt.talk_seconds, Attempt.result)
                             .where(mine, Attempt.answered_at.is_not(None))
                             .order_by(Attempt.answered_at.desc()).limit(SAMPLES)).all()
    delays = [d for c, a, _t, _r in recent if (d := _seconds(a, c)) is not None]
    talks = [float(t) for _c, _a, t, r in recent if t is not None and r == "connected"]
    # the answer rate: the window's answers over its finished calls (a call answered just inside the window
    # but dialed before it counts once above and not below: a slight lean to a higher rate, bounded at 1)
    return CampaignFigures(max(int(dialed), answered), answered, abandoned, answered_day, abandoned_day, delays,
                           talks)


def operator_figures(session: Session, now: datetime, node: str | None) -> OperatorFigures:
    """The operators whose phones this node's calls go to (``node``: home node or none)."""
    query = select(OperatorStatus.state, OperatorStatus.since, OperatorStatus.wrap_until)
    if node is not None:
        query = query.join(User, User.id == OperatorStatus.user_id).where(
            or_(User.home_node == node, User.home_node.is_(None)))
    ready, paused, wrapping, talking = 0, 0, [], []
    for state, since, wrap_until in session.execute(query.where(and_(
            OperatorStatus.state != OperatorState.signed_out))):
        if state is OperatorState.ready:
            ready += 1
        elif state is OperatorState.wrap_up:
            wrapping.append(_seconds(wrap_until, now) or 0.0)
        elif state is OperatorState.on_call:
            talking.append(_seconds(now, since) or 0.0)
        else:
            paused += 1
    return OperatorFigures(ready, wrapping, talking, paused)
