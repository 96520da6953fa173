"""Tickets: a problem reported from a booth, from open to resolved.

:class:`TicketService` holds the use cases (open, assign, resolve, list, get) for the consoles and the
command line, and publishes :class:`~events.types.TicketChanged` itself. Below it, plain functions work in
the caller's transaction (the IVR's hotline calls :func:`open_ticket` inside its own)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Conflict, Invalid, NotFound, ServiceError
from db.engine import Database
from db.ivr import IvrRecording
from db.models import Unit, utcnow
from db.tickets import CATEGORIES, Ticket, TicketStatus
from db.users import User
from dialer.campaigns import resolve_units
from events.types import TicketChanged

STATUSES = tuple(s.value for s in TicketStatus)
SYSTEM = Actor.system()


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
                at: datetime | None = None, reporter_verified: bool | None = None) -> Ticket:
    if category not in CATEGORIES:
        raise TicketInvalid(f"unknown category '{category}' (one of {', '.join(CATEGORIES)})")
    now = at or utcnow()
    ticket = Ticket(category=category, source=source, booth_id=booth_id, reporter_id=reporter_id,
                    reporter_phone=reporter_phone, call_id=call_id, recording_id=recording_id,
                    description=description, status=TicketStatus.open, created_at=now, updated_at=now,
                    reporter_verified=reporter_verified)
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
            "reporter_verified": ticket.reporter_verified,
            "call_id": ticket.call_id, "recording_id": ticket.recording_id, "description": ticket.description,
            "assigned_to": ticket.assigned_to, "resolution": ticket.resolution,
            "created_at": ticket.created_at.isoformat(),
            "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None}


def _no_one(_event: object) -> None:
    """Nobody hears the events (the command line: the running service reads the database)."""


class TicketService:
    """The tickets' use cases, each in one transaction; every change is published as ``TicketChanged``.

    ``recordings_dir`` is where the voice notes' files are (as this host sees Asterisk's recordings)."""

    def __init__(self, db: Database, publish: Callable[[object], None] = _no_one, *,
                 recordings_dir: Path | None = None) -> None:
        self.db, self.publish, self.recordings_dir = db, publish, recordings_dir

    async def open(self, *, category: str, source: str, booth_id: int | None = None, reporter_id: int | None = None,
                   reporter_phone: str | None = None, description: str | None = None) -> dict[str, Any]:
        """A new ticket; its summary."""
        def work(session: Session) -> dict[str, Any]:
            ticket = open_ticket(session, category=category, source=source, booth_id=booth_id,
                                 reporter_id=reporter_id, reporter_phone=reporter_phone, description=description)
            return summary(ticket, session.get(Unit, booth_id) if booth_id else None)

        out = await self.db.run(work)
        self.publish(TicketChanged(out["id"], "opened"))
        return out

    async def open_with(self, opener: Callable[..., int | None], *args: Any) -> int | None:
        """Open a ticket with ``opener(session, *args)``, which gathers what it needs in the same transaction,
        calls :func:`open_ticket` and returns the ticket's id (None: no ticket after all). A call's handler
        uses it with its own records of the call; so does the operators' console."""
        ticket_id = await self.db.run(opener, *args)
        if ticket_id is not None:
            self.publish(TicketChanged(ticket_id, "opened"))
        return ticket_id

    async def assign(self, ticket_id: int, to: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Give a ticket to a user (by user name): there must be such a user."""
        def work(session: Session) -> dict[str, Any]:
            get_ticket(session, ticket_id)
            username = to.strip().lower()
            if username and session.scalar(select(User.id).where(User.username == username)) is None:
                raise UnknownAssignee(f"cannot assign ticket #{ticket_id}: there is no user '{to.strip()}'")
            ticket = assign(session, ticket_id, username)
            record(session, actor, "ticket.assign", f"ticket:{ticket_id}", detail={"to": username})
            return _summary(session, ticket)

        out = await self.db.run(work)
        self.publish(TicketChanged(ticket_id, "assigned"))
        return out

    async def resolve(self, ticket_id: int, resolution: str, by: str | None = None,
                      actor: Actor = SYSTEM) -> dict[str, Any]:
        """Close a ticket, saying how (and, from a console, who: "sent forms (sup)")."""
        note = f"{resolution.strip()} ({by})" if by and resolution.strip() else resolution

        def work(session: Session) -> dict[str, Any]:
            ticket = resolve(session, ticket_id, note)
            record(session, actor, "ticket.resolve", f"ticket:{ticket_id}")
            return _summary(session, ticket)

        out = await self.db.run(work)
        self.publish(TicketChanged(ticket_id, "resolved"))
        return out

    async def list(self, *, status: str | None = None, ac: int | None = None,
                   category: str | None = None) -> list[dict[str, Any]]:
        """Tickets, newest first, by status, category and the AC (its number) the booth is in."""
        if status and status not in STATUSES:
            raise TicketInvalid(f"status '{status}': one of {', '.join(STATUSES)}")
        if category and category not in CATEGORIES:
            raise TicketInvalid(f"category '{category}': one of {', '.join(CATEGORIES)}")

        def work(session: Session) -> list[dict[str, Any]]:
            ac_id = resolve_units(session, [f"ac:{ac}"])[0] if ac is not None else None
            return [_summary(session, t) for t in list_tickets(session, status=status, ac_id=ac_id,
                                                                category=category)]

        return await self.db.run(work)

    async def get(self, ticket_id: int) -> dict[str, Any]:
        """One ticket, with its voice note's file and length (None when it has none)."""
        def work(session: Session) -> dict[str, Any]:
            ticket = get_ticket(session, ticket_id)
            out = _summary(session, ticket)
            rec = session.get(IvrRecording, ticket.recording_id) if ticket.recording_id else None
            where = self.recordings_dir / rec.filename if rec and self.recordings_dir else rec and rec.filename
            out["voice_note"] = {"file": str(where), "seconds": rec.duration} if rec else None
            return out

        return await self.db.run(work)


def _summary(session: Session, ticket: Ticket) -> dict[str, Any]:
    return summary(ticket, session.get(Unit, ticket.booth_id) if ticket.booth_id else None)
