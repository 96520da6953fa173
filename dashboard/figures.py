"""The dashboard's stored figures, read from the database (the other half, :func:`dashboard.live.live_figures`,
comes from memory): campaigns with their progress (and why targets are held back), operators with their
state and time in it, and today's call figures."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cluster.nodes import nodes
from db.campaigns import Attempt, Campaign, CampaignState, Disposition, Target, TargetState
from db.ivr import QueueCall
from db.models import utcnow
from db.tickets import Ticket, TicketStatus
from dialer.campaigns import progress
from operators.quality import last_calls
from operators.states import operators_board

SHOWN = (CampaignState.running, CampaignState.paused, CampaignState.draft)


def day_start(now: datetime, tz: str) -> datetime:
    """Midnight of ``now``'s local day in ``tz`` (an aware datetime)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), zone)


def campaign_progress(session: Session) -> list[dict[str, Any]]:
    """Running, paused and draft campaigns: progress bar figures and the reasons targets wait."""
    out = []
    for c in session.scalars(select(Campaign).where(Campaign.state.in_(SHOWN))
                             .order_by(Campaign.priority.desc(), Campaign.id)):
        figures = progress(session, c.id)
        why = dict(session.execute(
            select(Target.blocked_rule, func.min(Target.blocked_by))
            .where(Target.campaign_id == c.id, Target.state == TargetState.queued,
                   Target.blocked_rule.is_not(None))
            .group_by(Target.blocked_rule)).all())
        blocked = sum(figures["blocked"].values())
        out.append({"id": c.id, "name": c.name, "mode": c.mode.value, "state": c.state.value,
                    "targets": figures["targets"], "done": figures["done"], "in_flight": figures["in_flight"],
                    "due": figures["due"] - blocked, "blocked": blocked,
                    "blocked_why": [{"rule": rule, "count": n, "example": why.get(rule)}
                                    for rule, n in sorted(figures["blocked"].items())],
                    "answered": figures["dispositions"].get("answered", 0), "waiting": c.waiting})
    return out


def today(session: Session, tz: str, now: datetime | None = None) -> dict[str, Any]:
    """Since local midnight: attempts, answered, answer rate, average talk time, queue abandon rate."""
    now = now or utcnow()
    since = day_start(now, tz)
    hour_ago = now - timedelta(hours=1)
    today_ = Attempt.created_at >= since
    attempts, ended, answered, talk, last_hour = session.execute(  # one pass (the last hour may reach yesterday)
        select(func.count(case((today_, 1))), func.count(case((today_, Attempt.disposition))),
               func.count(case((today_ & (Attempt.disposition == Disposition.answered), 1))),
               func.avg(case((today_, Attempt.talk_seconds))),
               func.count(case((Attempt.created_at >= hour_ago, 1))))
        .where(Attempt.created_at >= min(since, hour_ago))).one()
    queue = dict(session.execute(select(QueueCall.state, func.count()).where(QueueCall.entered_at >= since)
                                 .group_by(QueueCall.state)).all())
    left = queue.get("answered", 0) + queue.get("abandoned", 0)
    return {"since": since.isoformat(), "attempts": attempts, "ended": ended, "answered": answered,
            "answer_rate": round(answered / ended, 3) if ended else 0.0,
            "avg_talk_seconds": round(float(talk), 1) if talk is not None else 0.0,
            "queue_answered": queue.get("answered", 0), "queue_abandoned": queue.get("abandoned", 0),
            "queue_abandon_rate": round(queue.get("abandoned", 0) / left, 3) if left else 0.0,
            "attempts_last_hour": last_hour}


def stored_figures(session: Session, tz: str, now: datetime | None = None, lease: float = 30.0) -> dict[str, Any]:
    """Everything the dashboard reads from the database, in one transaction (the nodes with their health:
    alive while their heartbeat is younger than ``lease``)."""
    now = now or utcnow()
    open_tickets = session.scalar(select(func.count()).select_from(Ticket)
                                  .where(Ticket.status != TicketStatus.resolved)) or 0
    calls = last_calls(session, now)  # browser phones' call quality
    operators = [{**o, "quality": calls.get(o["id"])} for o in operators_board(session, now)]
    return {"campaigns": campaign_progress(session), "operators": operators,
            "today": today(session, tz, now), "open_tickets": open_tickets, "nodes": nodes(session, now, lease),
            "at": now.isoformat()}
