"""The tickets board: problems reported from the booths with their place (booth, AC, district), age
against the target time, and filters by district, AC, category and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from db.models import Person, Unit, UnitKind, utcnow
from db.tickets import Ticket, TicketStatus

Booth, Ac, District = aliased(Unit), aliased(Unit), aliased(Unit)


@dataclass(frozen=True)
class BoardFilter:
    status: str | None = None        # open / assigned / resolved; None: open, assigned, resolved in 24 h
    district_id: int | None = None
    ac_id: int | None = None
    category: str | None = None


def _query() -> Any:  # a Select of (Ticket, booth, AC, district, reporter's name)
    return (select(Ticket, Booth, Ac, District, Person.name)
            .outerjoin(Booth, Booth.id == Ticket.booth_id)
            .outerjoin(Ac, Ac.id == Booth.ac_id)
            .outerjoin(District, District.id == Ac.parent_id)
            .outerjoin(Person, Person.id == Ticket.reporter_id))


def _row(found: Any, target_minutes: int, now: datetime) -> dict[str, Any]:
    """One ticket as the board shows it."""
    ticket, booth, ac, district, reporter = found
    end = ticket.resolved_at or now
    age = int((end - ticket.created_at).total_seconds())
    return {"id": ticket.id, "status": ticket.status.value, "category": ticket.category, "source": ticket.source,
            "description": ticket.description, "reporter": reporter, "reporter_verified": ticket.reporter_verified,
            "assigned_to": ticket.assigned_to,
            "resolution": ticket.resolution, "created_at": ticket.created_at.isoformat(),
            "booth": f"{booth.number} {booth.name}" if booth and booth.number is not None else
            (booth.name if booth else None),
            "ac": f"{ac.number} {ac.name}" if ac and ac.number is not None else (ac.name if ac else None),
            "ac_id": ac.id if ac else None, "district": district.name if district else None,
            "district_id": district.id if district else None, "recording_id": ticket.recording_id,
            "age_seconds": age, "overdue": ticket.status is not TicketStatus.resolved and age > target_minutes * 60}


def tickets_board(session: Session, f: BoardFilter, target_minutes: int, now: datetime | None = None,
          limit: int = 300) -> list[dict[str, Any]]:
    """Tickets matching ``f``, oldest open first (what needs doing comes first), then newest resolved."""
    now = now or utcnow()
    q = _query()
    if f.status:
        q = q.where(Ticket.status == TicketStatus(f.status))
    else:
        q = q.where(or_(Ticket.status != TicketStatus.resolved,
                        Ticket.resolved_at >= now - timedelta(hours=24)))
    if f.category:
        q = q.where(Ticket.category == f.category)
    if f.ac_id is not None:
        q = q.where(Booth.ac_id == f.ac_id)
    if f.district_id is not None:
        q = q.where(Ac.parent_id == f.district_id)
    q = q.order_by((Ticket.status == TicketStatus.resolved), Ticket.created_at, Ticket.id).limit(limit)
    return [_row(r, target_minutes, now) for r in session.execute(q).all()]


def ticket_row(session: Session, ticket_id: int, target_minutes: int,
               now: datetime | None = None) -> dict[str, Any] | None:
    """One ticket as the board shows it, or None when there is no such ticket."""
    found = session.execute(_query().where(Ticket.id == ticket_id)).first()
    return _row(found, target_minutes, now or utcnow()) if found else None


def ticket_areas(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The board's filter choices: districts and ACs."""
    def of(kind: UnitKind) -> list[dict[str, Any]]:
        return [{"id": u.id, "name": f"{u.number} {u.name}" if u.number is not None else u.name,
                 "parent_id": u.parent_id}
                for u in session.scalars(select(Unit).where(Unit.kind == kind).order_by(Unit.number, Unit.name))]

    return {"districts": of(UnitKind.district), "acs": of(UnitKind.ac)}
