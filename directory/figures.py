"""The figures of each unit of the hierarchy, shared by the dashboard's drill-down and the AC report:
booths, committees and how many are covered (at least two reachable contacts), calls and answered calls,
valid IVR answers (with their breakdown per question, on request) and tickets.

:func:`unit_figures` runs one aggregate per source in SQL, grouped by unit, and gives every unit its own
figures (a call counts on its committee's unit, else on its booth; answers and tickets on their booth).
:func:`roll_up` adds them up the :class:`~directory.units.UnitTree`; the AC report adds them per AC.
Calls, answers and tickets may be limited to a period and to one campaign; the directory is as it is now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.campaigns import Attempt, Disposition, Target
from db.ivr import IvrAnswer, IvrCall
from db.models import Committee, Membership, Person, UnitKind
from db.tickets import Ticket, TicketStatus
from directory.coverage import MIN_CONTACTS, reachable_expr
from directory.units import UnitTree


@dataclass
class UnitFigures:
    """One unit's figures (or a total over units)."""

    booths: int = 0
    committees: int = 0
    covered: int = 0            # committees with at least MIN_CONTACTS reachable people
    attempts: int = 0
    ended: int = 0              # attempts with a disposition
    answered: int = 0           # attempts that ended answered
    picked_up: int = 0          # attempts answered, ended or still on the line
    answers: int = 0            # valid IVR answers
    open_tickets: int = 0       # open or assigned
    resolved_tickets: int = 0
    survey: dict[str, dict[str, int]] = field(default_factory=dict)  # question -> answer -> count

    def add(self, other: UnitFigures) -> None:
        """Add ``other``'s figures to these."""
        self.booths += other.booths
        self.committees += other.committees
        self.covered += other.covered
        self.attempts += other.attempts
        self.ended += other.ended
        self.answered += other.answered
        self.picked_up += other.picked_up
        self.answers += other.answers
        self.open_tickets += other.open_tickets
        self.resolved_tickets += other.resolved_tickets
        for question, answers in other.survey.items():
            mine = self.survey.setdefault(question, {})
            for answer, n in answers.items():
                mine[answer] = mine.get(answer, 0) + n


def _count_if(condition: Any) -> Any:
    return func.count(case((condition, 1)))


def _within(column: Any, start: datetime | None, end: datetime | None) -> list[Any]:
    """SQL conditions keeping ``column`` from ``start`` (included) to ``end`` (excluded)."""
    out = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column < end)
    return out


def unit_figures(session: Session, tree: UnitTree, *, start: datetime | None = None, end: datetime | None = None,
                 campaign_id: int | None = None, survey: bool = False) -> dict[int, UnitFigures]:
    """Each unit's own figures (not those of the units under it), for units that have any. Calls, answers
    and tickets from ``start`` (included) to ``end`` (excluded), of one campaign when given (tickets then
    count only when they came from one of its calls). ``survey``: also each question's answers."""
    own: defaultdict[int, UnitFigures] = defaultdict(UnitFigures)
    for booth in tree.of_kind(UnitKind.booth):
        own[booth.id].booths += 1
    for unit_id, covered in _committees(session):
        own[unit_id].committees += 1
        own[unit_id].covered += covered
    for unit_id, attempts, ended, answered, picked_up in _calls(session, start, end, campaign_id):
        f = own[unit_id]
        f.attempts += attempts
        f.ended += ended
        f.answered += answered
        f.picked_up += picked_up
    for booth_id, question, answer, n in _answers(session, start, end, campaign_id, survey):
        f = own[booth_id]
        f.answers += n
        if survey:
            counts = f.survey.setdefault(question, {})
            counts[answer] = counts.get(answer, 0) + n
    for booth_id, still_open, resolved in _tickets(session, start, end, campaign_id):
        own[booth_id].open_tickets += still_open
        own[booth_id].resolved_tickets += resolved
    return dict(own)


def roll_up(tree: UnitTree, own: dict[int, UnitFigures]) -> dict[int | None, UnitFigures]:
    """Every unit's total over itself and the units under it; under None, the total of all."""
    totals: defaultdict[int | None, UnitFigures] = defaultdict(UnitFigures)
    for unit_id, figures in own.items():
        for node in tree.ancestors(unit_id):
            totals[node.id].add(figures)
        totals[None].add(figures)
    return dict(totals)


def _committees(session: Session) -> Iterator[tuple[int, bool]]:
    """(unit, covered) for every committee."""
    reachable = func.count(func.distinct(case((reachable_expr(), Membership.person_id))))
    for unit_id, count in session.execute(
            select(Committee.unit_id, reachable).select_from(Committee)
            .outerjoin(Membership, Membership.committee_id == Committee.id)
            .outerjoin(Person, Person.id == Membership.person_id).group_by(Committee.unit_id)):
        yield unit_id, count >= MIN_CONTACTS


def _calls(session: Session, start: datetime | None, end: datetime | None,
           campaign_id: int | None) -> Iterator[tuple[int, int, int, int, int]]:
    """(unit, attempts, ended, answered, picked up) by the unit of the target's committee, else its booth."""
    unit = func.coalesce(Committee.unit_id, Target.booth_id)
    query = (select(unit, func.count(Attempt.id), _count_if(Attempt.disposition.is_not(None)),
                    _count_if(Attempt.disposition == Disposition.answered), func.count(Attempt.answered_at))
             .select_from(Attempt).join(Target, Target.id == Attempt.target_id)
             .outerjoin(Committee, Committee.id == Target.committee_id)
             .where(*_within(Attempt.created_at, start, end)).group_by(unit))
    if campaign_id is not None:
        query = query.where(Attempt.campaign_id == campaign_id)
    for unit_id, attempts, ended, answered, picked_up in session.execute(query):
        if unit_id is not None:
            yield unit_id, attempts, ended, answered, picked_up


def _answers(session: Session, start: datetime | None, end: datetime | None, campaign_id: int | None,
             survey: bool) -> Iterator[tuple[int, str, str, int]]:
    """(booth, question, answer, count) of valid answers; question and answer are empty unless ``survey``."""
    answer = func.coalesce(IvrAnswer.value, IvrAnswer.key)
    keys = (IvrCall.booth_id, IvrAnswer.question, answer) if survey else (IvrCall.booth_id,)
    query = (select(*keys, func.count()).select_from(IvrAnswer).join(IvrCall, IvrCall.id == IvrAnswer.call_id)
             .where(IvrAnswer.valid.is_(True), IvrCall.booth_id.is_not(None), *_within(IvrAnswer.at, start, end))
             .group_by(*keys))
    if campaign_id is not None:
        query = query.where(IvrCall.campaign_id == campaign_id)
    for row in session.execute(query):
        yield (row[0], row[1], row[2], row[3]) if survey else (row[0], "", "", row[1])


def _tickets(session: Session, start: datetime | None, end: datetime | None,
             campaign_id: int | None) -> Iterator[tuple[int, int, int]]:
    """(booth, open, resolved) tickets."""
    query = (select(Ticket.booth_id, _count_if(Ticket.status != TicketStatus.resolved),
                    _count_if(Ticket.status == TicketStatus.resolved))
             .where(Ticket.booth_id.is_not(None), *_within(Ticket.created_at, start, end)).group_by(Ticket.booth_id))
    if campaign_id is not None:
        query = query.join(IvrCall, IvrCall.id == Ticket.call_id).where(IvrCall.campaign_id == campaign_id)
    yield from session.execute(query)
