"""Chart data for the dashboard: calls and answers over the day, outcomes by booth status, survey answers
per question, and coverage (committees with two reachable contacts) by district and AC."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.figures import day_start
from db.campaigns import Attempt, Target
from db.ivr import IvrAnswer, IvrCall
from db.models import Unit, utcnow
from directory.coverage import coverage
from directory.units import booth_status_expr

STATUSES = ("strong", "weak", "swing", "unknown")


def calls_by_hour(session: Session, tz: str, now: datetime | None = None) -> dict[str, Any]:
    """Attempts and answered calls in each local hour of today."""
    now = now or utcnow()
    since = day_start(now, tz)
    attempts, answered = [0] * 24, [0] * 24
    zone = ZoneInfo(tz)
    for created, answered_at in session.execute(select(Attempt.created_at, Attempt.answered_at)
                                                .where(Attempt.created_at >= since, Attempt.created_at < since
                                                       + timedelta(days=1))):
        hour = created.astimezone(zone).hour
        attempts[hour] += 1
        if answered_at is not None:
            answered[hour] += 1
    return {"day": since.date().isoformat(), "hours": list(range(24)), "attempts": attempts, "answered": answered}


def outcomes_by_status(session: Session, campaign_id: int | None = None) -> dict[str, Any]:
    """Ended attempts by the booth's status and the call's outcome."""
    status = booth_status_expr()
    q = (select(status, Attempt.disposition, func.count()).select_from(Attempt)
         .join(Target, Target.id == Attempt.target_id).outerjoin(Unit, Unit.id == Target.booth_id)
         .where(Attempt.disposition.is_not(None)).group_by(status, Attempt.disposition))
    if campaign_id is not None:
        q = q.where(Attempt.campaign_id == campaign_id)
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for st, disposition, n in session.execute(q):
        table[str(disposition)][str(st or "unknown")] = n
    return {"statuses": list(STATUSES), "outcomes": {d: [row.get(s, 0) for s in STATUSES]
                                                     for d, row in sorted(table.items())}}


def survey_answers(session: Session, campaign_id: int | None = None) -> list[dict[str, Any]]:
    """For each question of each script: how many gave each answer (valid keys only)."""
    q = (select(IvrCall.script, IvrAnswer.step, IvrAnswer.question, IvrAnswer.value, IvrAnswer.key, func.count())
         .join(IvrCall, IvrCall.id == IvrAnswer.call_id).where(IvrAnswer.valid.is_(True))
         .group_by(IvrCall.script, IvrAnswer.step, IvrAnswer.question, IvrAnswer.value, IvrAnswer.key)
         .order_by(IvrCall.script, IvrAnswer.step))
    if campaign_id is not None:
        q = q.where(IvrCall.campaign_id == campaign_id)
    questions: dict[tuple[str, str], dict[str, Any]] = {}
    for script, step, question, value, key, n in session.execute(q):
        entry = questions.setdefault((script, step), {"script": script, "step": step, "question": question,
                                                      "answers": {}})
        label = value or key
        entry["answers"][label] = entry["answers"].get(label, 0) + n
    return list(questions.values())


def coverage_by_area(session: Session) -> dict[str, Any]:
    """Committees with at least two reachable contacts, by district and by AC."""
    report = coverage(session)
    districts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    acs = []
    for a in report.areas:
        covered = a.committees - a.under_covered
        districts[a.district or "-"][0] += covered
        districts[a.district or "-"][1] += a.committees
        if a.ac:
            acs.append({"name": a.ac, "district": a.district, "covered": covered, "committees": a.committees})
    return {"districts": [{"name": d, "covered": c, "committees": t} for d, (c, t) in sorted(districts.items())],
            "acs": acs}


def charts(session: Session, tz: str, campaign_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    return {"calls_by_hour": calls_by_hour(session, tz, now),
            "outcomes_by_status": outcomes_by_status(session, campaign_id),
            "survey": survey_answers(session, campaign_id), "coverage": coverage_by_area(session)}
