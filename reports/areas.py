"""Figures per assembly constituency (AC): the directory's reach (booths, committees, committees with at
least two reachable contacts) and, in the period, calls, IVR answers and tickets from its booths.

Counts run in SQL grouped by unit; each unit is then given its AC by walking the hierarchy once in memory
(a unit's AC is itself, its ``ac_id``, or its parent's), so committees of mandals and sectors count too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.campaigns import Attempt, Disposition, Target
from db.ivr import IvrAnswer, IvrCall
from db.models import Committee, Membership, Person, Unit, UnitKind
from db.tickets import Ticket, TicketStatus
from directory.coverage import MIN_CONTACTS, reachable_expr
from reports.model import Cell, Period, Report, rate

COLUMNS = ["ac", "name", "district", "booths", "committees", "covered", "coverage", "attempts", "answered",
           "answer_rate", "ivr_answers", "open_tickets", "resolved_tickets"]


@dataclass
class _Ac:
    number: int | None
    name: str
    district: str
    booths: int = 0
    committees: int = 0
    covered: int = 0
    attempts: int = 0
    ended: int = 0
    answered: int = 0
    ivr_answers: int = 0
    open_tickets: int = 0
    resolved_tickets: int = 0

    def row(self) -> list[Cell]:
        return [self.number, self.name, self.district, self.booths, self.committees, self.covered,
                rate(self.covered, self.committees), self.attempts, self.answered, rate(self.answered, self.ended),
                self.ivr_answers, self.open_tickets, self.resolved_tickets]


class _Tree:
    """unit id -> its AC's id (or None above the ACs), memoised."""

    def __init__(self, session: Session) -> None:
        self.units = {uid: (UnitKind(kind), parent, ac, name) for uid, kind, parent, ac, name in session.execute(
            select(Unit.id, Unit.kind, Unit.parent_id, Unit.ac_id, Unit.name))}
        self.memo: dict[int, int | None] = {}

    def ac_of(self, uid: int | None) -> int | None:
        path: list[int] = []
        found: int | None = None
        while uid is not None and uid in self.units:
            if uid in self.memo:
                found = self.memo[uid]
                break
            path.append(uid)
            kind, parent, ac, _name = self.units[uid]
            if kind is UnitKind.ac or ac is not None:
                found = uid if kind is UnitKind.ac else ac
                break
            if kind.depth < UnitKind.ac.depth:
                break
            uid = parent
        for p in path:
            self.memo[p] = found
        return found

    def district_of(self, uid: int) -> str:
        parent = self.units[uid][1]
        while parent is not None and parent in self.units:
            kind, up, _ac, name = self.units[parent]
            if kind is UnitKind.district:
                return name
            parent = up
        return ""


def _count_if(condition: Any) -> Any:
    return func.count(case((condition, 1)))


def ac_report(session: Session, period: Period | None = None, campaign_id: int | None = None) -> Report:
    """One row per AC, by number. Calls, answers and tickets in the period (and of one campaign when
    given: tickets then count only when they came from one of its calls); the directory as it is now."""
    period = period or Period()
    tree = _Tree(session)
    acs: dict[int, _Ac] = {}
    for uid, number, name in session.execute(select(Unit.id, Unit.number, Unit.name).where(Unit.kind == UnitKind.ac)):
        acs[uid] = _Ac(number, name, tree.district_of(uid))

    def ac(uid: int | None) -> _Ac | None:
        found = tree.ac_of(uid)
        return acs.get(found) if found is not None else None

    for uid, (kind, _parent, _ac, _name) in tree.units.items():
        if kind is UnitKind.booth and (a := ac(uid)) is not None:
            a.booths += 1

    reachable = func.count(func.distinct(case((reachable_expr(), Membership.person_id))))
    for unit_id, count in session.execute(
            select(Committee.unit_id, reachable).select_from(Committee)
            .outerjoin(Membership, Membership.committee_id == Committee.id)
            .outerjoin(Person, Person.id == Membership.person_id).group_by(Committee.unit_id)):
        if (a := ac(unit_id)) is not None:
            a.committees += 1
            a.covered += count >= MIN_CONTACTS

    unit = func.coalesce(Committee.unit_id, Target.booth_id)
    calls = (select(unit, func.count(Attempt.id), _count_if(Attempt.disposition.is_not(None)),
                    _count_if(Attempt.disposition == Disposition.answered))
             .select_from(Attempt).join(Target, Target.id == Attempt.target_id)
             .outerjoin(Committee, Committee.id == Target.committee_id)
             .where(*period.conditions(Attempt.created_at)).group_by(unit))
    if campaign_id is not None:
        calls = calls.where(Attempt.campaign_id == campaign_id)
    for unit_id, attempts, ended, answered in session.execute(calls):
        if (a := ac(unit_id)) is not None:
            a.attempts, a.ended, a.answered = a.attempts + attempts, a.ended + ended, a.answered + answered

    answers = (select(IvrCall.booth_id, func.count(IvrAnswer.id)).join(IvrCall, IvrCall.id == IvrAnswer.call_id)
               .where(IvrAnswer.valid.is_(True), *period.conditions(IvrAnswer.at)).group_by(IvrCall.booth_id))
    if campaign_id is not None:
        answers = answers.where(IvrCall.campaign_id == campaign_id)
    for booth_id, count in session.execute(answers):
        if (a := ac(booth_id)) is not None:
            a.ivr_answers += count

    tickets = (select(Ticket.booth_id, _count_if(Ticket.status != TicketStatus.resolved),
                      _count_if(Ticket.status == TicketStatus.resolved))
               .where(*period.conditions(Ticket.created_at)).group_by(Ticket.booth_id))
    if campaign_id is not None:
        tickets = tickets.join(IvrCall, IvrCall.id == Ticket.call_id).where(IvrCall.campaign_id == campaign_id)
    for booth_id, still_open, resolved in session.execute(tickets):
        if (a := ac(booth_id)) is not None:
            a.open_tickets += still_open
            a.resolved_tickets += resolved

    ordered = sorted(acs.values(), key=lambda a: (a.number is None, a.number or 0, a.name))
    meta = period.as_meta() | {"campaign_id": campaign_id}
    return Report("Assembly constituencies", list(COLUMNS), [a.row() for a in ordered], meta)
