"""Tickets: a problem reported from a booth, from open to resolved. Plain functions in the caller's
transaction, used by the hotline, the command line and (later) the consoles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound, ServiceError
from db.models import Unit, utcnow
from db.tickets import CATEGORIES, Ticket, TicketStatus


class TicketError(ServiceError):
    """A ticket request failed; the message says what and which ticket, the subclass what kind of failure."""


class TicketInvalid(TicketError, Invalid):
    """A bad value: an unknown category, no assignee, no resolution."""


class TicketNotFound(TicketError, NotFound):
    """No ticket with that number."""


class TicketConflict(TicketError, Conflict):
    """The ticket's state does not allow the change (already resolved)."""


class UnknownAssignee(TicketError, Conflict):
    """The ticket would go to a user name nobody has (the board answers 409, as it always has)."""


def open_ticket(session: Session, *, category: str, source: str, booth_id: int | None = None,
                reporter_id: int | None = None, reporter_phone: str | None = None, call_id: int | None = None,
                recording_id: int | None = None, description: str | None = None,
                at: datetime | None = None) -> Ticket:
    if category not in CATEGORIES:
        raise TicketInvalid(f"unknown category '{category}' (one of {', '.join(CATEGORIES)})")
    now = at or utcnow()
    ticket = Ticket(category=category, source=source, booth_id=booth_id, reporter_id=reporter_id,
                    reporter_phone=reporter_phone, call_id=call_id, recording_id=recording_id,
                    description=description, status=TicketStatus.open, created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    return ticket


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket #{ticket_id}")
    return ticket


def assign(session: Session, ticket_id: int, to: str, at: datetime | None = None) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    if ticket.status is TicketStatus.resolved:
        raise TicketConflict(f"ticket #{ticket_id} is already resolved")
    if not to.strip():
        raise TicketInvalid("assign to whom? give a user name")
    ticket.status, ticket.assigned_to, ticket.assigned_at = TicketStatus.assigned, to.strip(), at or utcnow()
    return ticket


def resolve(session: Session, ticket_id: int, resolution: str, at: datetime | None = None) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    if ticket.status is TicketStatus.resolved:
        raise TicketConflict(f"ticket #{ticket_id} is already resolved")
    if not resolution.strip():
        raise TicketInvalid("say how it was resolved")
    ticket.status, ticket.resolution, ticket.resolved_at = TicketStatus.resolved, resolution.strip(), at or utcnow()
    return ticket


def list_tickets(session: Session, *, status: str | None = None, ac_id: int | None = None,
                 category: str | None = None, limit: int = 200) -> Sequence[Ticket]:
    """Newest first, optionally by status, category and the AC the booth is in."""
    q = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    if status:
        q = q.where(Ticket.status == TicketStatus(status))
    if category:
        q = q.where(Ticket.category == category)
    if ac_id is not None:
        q = q.join(Unit, Unit.id == Ticket.booth_id).where(Unit.ac_id == ac_id)
    return session.scalars(q).all()


def summary(ticket: Ticket, booth: Unit | None = None) -> dict[str, Any]:
    return {"id": ticket.id, "status": ticket.status.value, "category": ticket.category, "source": ticket.source,
            "booth_id": ticket.booth_id, "booth": booth.name if booth else None,
            "booth_number": booth.number if booth else None, "reporter_id": ticket.reporter_id,
            "call_id": ticket.call_id, "recording_id": ticket.recording_id, "description": ticket.description,
            "assigned_to": ticket.assigned_to, "resolution": ticket.resolution,
            "created_at": ticket.created_at.isoformat(),
            "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None}
