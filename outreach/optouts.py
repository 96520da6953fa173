"""Opt-outs: a number that asked not to be called again is kept in ``opt_outs`` and, when it is a
committee member's, marked DND in the directory too (so directory campaigns honour it as well)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import Invalid
from db.models import Person, utcnow
from db.outreach import OptOut
from directory.outcomes import Outcome, apply_outcome
from directory.phones import PhoneError, normalise_phone
from outreach.sql import among

SOURCES = {"keypad", "operator", "request", "missed_call"}


def opt_out(session: Session, phone: str, source: str, at: datetime | None = None) -> bool:
    """Record that ``phone`` must not be called again (``source``: keypad, operator, request); True if new."""
    if source not in SOURCES:
        raise Invalid(f"opt-out source '{source}': one of {', '.join(sorted(SOURCES))}", field="source")
    try:
        e164 = normalise_phone(phone)
    except PhoneError as exc:
        raise Invalid(f"opt-out: {exc}", field="phone") from None
    new = session.get(OptOut, e164) is None
    if new:
        session.add(OptOut(phone=e164, source=source, at=at or utcnow()))
    for pid in session.scalars(select(Person.id).where(or_(Person.phone == e164, Person.alt_phone == e164))):
        apply_outcome(session, pid, Outcome.opted_out, phone=e164, source=f"opt-out: {source}", at=at)
    return new


def opted_out(session: Session, phones: list[str]) -> set[str]:
    """Which of ``phones`` (E.164) opted out: here, or as a committee member marked DND in the directory
    (keypad 9 in a directory campaign's call, an operator's disposition)."""
    if not phones:
        return set()
    wanted = set(phones)
    found = set(session.scalars(select(OptOut.phone).where(among(session, OptOut.phone, phones))))
    for phone, alt in session.execute(select(Person.phone, Person.alt_phone).where(
            Person.dnd.is_(True), or_(among(session, Person.phone, phones), among(session, Person.alt_phone, phones)))):
        found |= {p for p in (phone, alt) if p is not None and p in wanted}
    return found
