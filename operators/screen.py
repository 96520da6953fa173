"""What an operator's screen shows for a call: who it is (the number masked to its last four digits), their
committee and booth, the note the queue gave, their past calls and answers, and open tickets of the booth."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.campaigns import Attempt
from db.ivr import IvrAnswer, IvrCall, QueueCall
from db.models import Committee, Membership, Person, Unit
from db.tickets import Ticket, TicketStatus
from hotline.lookup import ancestors


def mask(phone: str | None) -> str:
    """Operators never see a full number: ``+919826012345`` -> ``XXXXXX2345``."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return ("X" * 6 + digits[-4:]) if digits else "unknown"


def screen_pop(session: Session, queue_row_id: int) -> dict[str, Any]:
    row = session.get(QueueCall, queue_row_id)
    if row is None:
        return {}
    person = session.get(Person, row.person_id) if row.person_id else None
    chain = {u.kind.value: u for u in ancestors(session, row.booth_id)} if row.booth_id else {}
    booth, ac = chain.get("booth"), chain.get("ac")
    past = []
    attempts = None
    if person is not None:
        calls = session.scalars(select(IvrCall).where(IvrCall.person_id == person.id)
                                .order_by(IvrCall.started_at.desc()).limit(5)).all()
        for c in calls:
            answers = session.scalars(select(IvrAnswer).where(IvrAnswer.call_id == c.id, IvrAnswer.valid.is_(True))
                                      .order_by(IvrAnswer.id)).all()
            past.append({"at": c.started_at.isoformat(), "script": c.script, "direction": c.direction,
                         "result": c.result.value if c.result else None,
                         "answers": [{"question": a.question, "key": a.key, "value": a.value} for a in answers]})
        attempts = session.scalar(select(Attempt.id).where(Attempt.person_id == person.id).limit(1))
    tickets = []
    if booth is not None:
        tickets = [{"id": t.id, "category": t.category, "status": t.status.value, "at": t.created_at.isoformat()}
                   for t in session.scalars(select(Ticket).where(Ticket.booth_id == booth.id,
                                                                 Ticket.status != TicketStatus.resolved)
                                            .order_by(Ticket.created_at.desc()).limit(10))]
    post = committee = None
    if person is not None:
        found = session.execute(select(Membership.post, Unit.name)
                                .join(Committee, Committee.id == Membership.committee_id)
                                .join(Unit, Unit.id == Committee.unit_id)
                                .where(Membership.person_id == person.id)
                                .order_by(Unit.id == row.booth_id).limit(5)).all()
        if found:
            post, committee = found[-1]
    return {
        "queue_id": row.id, "attempt_id": row.attempt_id, "note": row.note, "post": post, "committee": committee,
        "phone": mask(row.caller_phone or (person.phone if person else None)),
        "known": person is not None, "name": person.name if person else None,
        "name_alt": person.name_alt if person else None, "language": person.language if person else None,
        "booth": {"number": booth.number, "name": booth.name, "status": booth.status.value,
                  "voters": booth.voter_count} if isinstance(booth, Unit) else None,
        "ac": {"number": ac.number, "name": ac.name} if ac else None,
        "district": chain["district"].name if "district" in chain else None,
        "past_calls": past, "open_tickets": tickets,
        "called_before": bool(person is not None and attempts),
    }
