"""Who is calling the hotline, and what headquarters last told their booth."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import Invalid
from db.models import Committee, Membership, Person, Unit, UnitKind, utcnow
from db.tickets import Instruction
from directory.phones import PhoneError, normalise_phone
from directory.units import ancestor_units as ancestors  # the operators' screen and the IVR read it here


@dataclass(frozen=True)
class Caller:
    """What the dialplan gets for a caller (empty fields for an unknown number)."""

    phone: str | None
    person_id: int | None = None
    booth_id: int | None = None
    status: str | None = None
    language: str = "hi"

    @property
    def known(self) -> bool:
        return self.person_id is not None


def identify(session: Session, raw: str, default_language: str = "hi") -> Caller:
    """Find the caller by their primary or alternate phone; their booth is the lowest committee they sit on
    (a booth committee before a sector's, and so on)."""
    try:
        phone = normalise_phone(raw)
    except PhoneError:
        return Caller(None, language=default_language)
    person = session.scalars(select(Person).where(or_(Person.phone == phone, Person.alt_phone == phone))
                             .order_by(Person.phone != phone)).first()
    if person is None:
        return Caller(phone, language=default_language)
    units = session.scalars(select(Unit).join(Committee, Committee.unit_id == Unit.id)
                            .join(Membership, Membership.committee_id == Committee.id)
                            .where(Membership.person_id == person.id)).all()
    deepest = max(units, key=lambda u: u.kind.depth, default=None)
    booth = deepest if deepest is not None and deepest.kind is UnitKind.booth else None
    return Caller(phone, person.id, booth.id if booth else None, booth.status.value if booth else None,
                  person.language or default_language)


def latest_instruction(session: Session, booth_id: int | None, language: str) -> str | None:
    """The newest instruction covering the booth (set on it, on any unit above it, or for everyone; not
    retired), in the caller's language when there is one in it."""
    ids = [u.id for u in ancestors(session, booth_id)]
    where = or_(Instruction.unit_id.is_(None), Instruction.unit_id.in_(ids)) if ids else Instruction.unit_id.is_(None)
    rows = session.scalars(select(Instruction).where(where, Instruction.retired_at.is_(None))
                           .order_by(Instruction.created_at.desc(), Instruction.id.desc()).limit(20)).all()
    for row in rows:
        if row.language == language:
            return row.text
    return rows[0].text if rows else None


def add_instruction(session: Session, text: str, *, unit_id: int | None, language: str = "hi",
                    by: str | None = None) -> Instruction:
    if not text.strip():
        raise Invalid("an instruction needs some text", field="text")
    if language not in ("hi", "en"):
        raise Invalid(f"language '{language}': hi or en", field="language")
    row = Instruction(unit_id=unit_id, text=text.strip(), language=language, created_by=by, created_at=utcnow())
    session.add(row)
    session.flush()
    return row
