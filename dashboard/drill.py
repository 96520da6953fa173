"""Drill-down: district -> AC -> mandal -> sector -> booth, each level with its coverage, calls, survey
answers and open tickets. Aggregates run in SQL per unit; the hierarchy is rolled up once in memory."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from db.campaigns import Attempt, Target
from db.ivr import IvrAnswer, IvrCall
from db.models import Committee, Membership, Person, Unit, UnitKind
from db.tickets import Ticket, TicketStatus
from directory.coverage import MIN_CONTACTS, reachable_expr


class DrillError(NotFound):
    """No such unit."""


@dataclass
class Figures:
    booths: int = 0
    committees: int = 0
    covered: int = 0
    attempts: int = 0
    answered: int = 0
    answers: int = 0
    open_tickets: int = 0
    survey: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def as_dict(self) -> dict[str, Any]:
        return {"booths": self.booths, "committees": self.committees, "covered": self.covered,
                "coverage": round(self.covered / self.committees, 3) if self.committees else None,
                "attempts": self.attempts, "answered": self.answered,
                "answer_rate": round(self.answered / self.attempts, 3) if self.attempts else None,
                "answers": self.answers, "open_tickets": self.open_tickets}


def drill(session: Session, unit_id: int | None = None) -> dict[str, Any]:
    """The unit (None: the top of the hierarchy), its path from the top, its figures and survey answers,
    and each child's figures."""
    units = {uid: (kind, name, number, parent) for uid, kind, name, number, parent in
             session.execute(select(Unit.id, Unit.kind, Unit.name, Unit.number, Unit.parent_id))}
    if unit_id is not None and unit_id not in units:
        raise DrillError(f"no unit {unit_id}")
    figures: dict[int | None, Figures] = defaultdict(Figures)

    def chain(uid: int | None) -> list[Figures]:
        """The unit's figures, its ancestors' and the top's (None)."""
        out: list[Figures] = []
        while uid is not None and len(out) < 20:
            out.append(figures[uid])
            uid = units[uid][3] if uid in units else None
        return [*out, figures[None]]

    for uid, (kind, *_rest) in units.items():
        if kind == UnitKind.booth:
            for f in chain(uid):
                f.booths += 1
    for uid, reachable in session.execute(
            select(Committee.unit_id, func.count(func.distinct(case((reachable_expr(), Membership.person_id)))))
            .select_from(Committee).outerjoin(Membership, Membership.committee_id == Committee.id)
            .outerjoin(Person, Person.id == Membership.person_id).group_by(Committee.unit_id)):
        for f in chain(uid):
            f.committees += 1
            f.covered += reachable >= MIN_CONTACTS
    for uid, n, answered in session.execute(
            select(Committee.unit_id, func.count(Attempt.id), func.count(Attempt.answered_at))
            .select_from(Attempt).join(Target, Target.id == Attempt.target_id)
            .join(Committee, Committee.id == Target.committee_id).group_by(Committee.unit_id)):
        for f in chain(uid):
            f.attempts += n
            f.answered += answered
    for booth, n in session.execute(select(Ticket.booth_id, func.count()).where(
            Ticket.status != TicketStatus.resolved, Ticket.booth_id.is_not(None)).group_by(Ticket.booth_id)):
        for f in chain(booth):
            f.open_tickets += n
    answer = func.coalesce(IvrAnswer.value, IvrAnswer.key)
    for booth, question, value, n in session.execute(
            select(IvrCall.booth_id, IvrAnswer.question, answer, func.count())
            .join(IvrCall, IvrCall.id == IvrAnswer.call_id)
            .where(IvrAnswer.valid.is_(True), IvrCall.booth_id.is_not(None))
            .group_by(IvrCall.booth_id, IvrAnswer.question, answer)):
        for f in chain(booth):
            f.answers += n
            f.survey[question][value] = f.survey[question].get(value, 0) + n

    def describe(uid: int) -> dict[str, Any]:
        kind, name, number, _parent = units[uid]
        label = f"{number} {name}" if number is not None and kind in (UnitKind.ac, UnitKind.booth) else name
        return {"id": uid, "kind": kind.value, "name": label}

    path: list[dict[str, Any]] = []
    at = unit_id
    while at is not None and len(path) < 20:
        path.append(describe(at))
        at = units[at][3]
    children = sorted((uid for uid, u in units.items() if u[3] == unit_id),
                      key=lambda uid: (units[uid][2] if units[uid][2] is not None else 0, units[uid][1]))
    here = figures[unit_id]
    return {"unit": describe(unit_id) if unit_id is not None else {"id": None, "kind": "all", "name": "All"},
            "path": list(reversed(path)), "figures": here.as_dict(),
            "survey": [{"question": q, "answers": answers} for q, answers in sorted(here.survey.items())],
            "children": [{**describe(uid), **figures[uid].as_dict()} for uid in children]}
