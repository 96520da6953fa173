"""Instructions from headquarters, which the hotline reads to booth workers: add, list and retire them; and
the members' PINs that must be given before the hotline reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Conflict, Invalid, NotFound
from db.engine import Database
from db.models import Person, Unit, utcnow
from db.tickets import Instruction
from dialer.campaigns import resolve_units
from directory.phones import PhoneError, normalise_phone
from hotline.lookup import add_instruction
from hotline.pins import clear_pin, generate_pin, set_pin


class InstructionService:
    """The hotline's instructions (each booth hears the newest that covers it)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, text: str, *, unit: str | None = None, language: str = "hi",
                  by: str | None = None, actor: Actor | None = None) -> dict[str, Any]:
        """An instruction for the booths under ``unit`` (a key like ``ac:152`` or an id; all booths if None),
        in the audit log as added by ``actor`` (default: the system)."""
        def work(session: Session) -> dict[str, Any]:
            unit_id = resolve_units(session, [unit])[0] if unit else None
            row = add_instruction(session, text, unit_id=unit_id, language=language, by=by)
            record(session, actor or Actor.system(), "instruction.add", f"instruction:{row.id}",
                   detail={"unit_id": unit_id, "language": language})
            return _row(row, unit)

        return await self.db.run(work)

    async def list(self, limit: int = 100, *, retired: bool = True) -> list[dict[str, Any]]:
        """Instructions, newest first (without the retired ones unless ``retired``)."""
        def work(session: Session) -> list[dict[str, Any]]:
            keys: dict[int | None, str] = {uid: key for uid, key in session.execute(
                select(Unit.id, Unit.key).join(Instruction, Instruction.unit_id == Unit.id))}
            query = select(Instruction).order_by(Instruction.created_at.desc(), Instruction.id.desc()).limit(limit)
            if not retired:
                query = query.where(Instruction.retired_at.is_(None))
            return [_row(i, keys.get(i.unit_id)) for i in session.scalars(query)]

        return await self.db.run(work)

    async def retire(self, instruction_id: int, actor: Actor) -> dict[str, Any]:
        """Stop reading an instruction to anyone (it is kept, with who retired it and when); the hotline then
        reads the next newest that covers the booth."""
        def work(session: Session) -> dict[str, Any]:
            row = session.get(Instruction, instruction_id)
            if row is None:
                raise NotFound(f"no instruction #{instruction_id}")
            if row.retired_at is not None:
                raise Conflict(f"instruction #{instruction_id} is already retired")
            row.retired_at, row.retired_by = utcnow(), actor.name[:100]
            record(session, actor, "instruction.retire", f"instruction:{row.id}",
                   detail={"unit_id": row.unit_id, "language": row.language})
            unit = session.get(Unit, row.unit_id) if row.unit_id else None
            return _row(row, unit.key if unit else None)

        return await self.db.run(work)


def _row(instruction: Instruction, unit: str | None) -> dict[str, Any]:
    return {"id": instruction.id, "unit": unit, "language": instruction.language, "text": instruction.text,
            "by": instruction.created_by, "at": instruction.created_at.isoformat(),
            "retired_at": instruction.retired_at.isoformat() if instruction.retired_at else None,
            "retired_by": instruction.retired_by}


class PinService:
    """Members' hotline PINs (see :mod:`hotline.pins`): set by the war room, told to the member."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.clock = db, clock

    async def set(self, ref: str, actor: Actor, *, pin: str | None = None) -> dict[str, Any]:
        """Give the person ``ref`` names (directory id or phone) a PIN: ``pin``, or a new random one. The PIN
        is returned once, to be told to the member; only its hash is kept. Audited (without the PIN)."""
        chosen = pin if pin is not None else generate_pin()

        def work(session: Session) -> dict[str, Any]:
            person = find_person(session, ref)
            set_pin(session, person.id, chosen, by=actor.name, at=self.clock())
            record(session, actor, "person.pin_set", f"person:{person.id}",
                   detail={"generated": pin is None})
            return {"person_id": person.id, "name": person.name, "pin": chosen}

        return await self.db.run(work)

    async def clear(self, ref: str, actor: Actor) -> dict[str, Any]:
        """Take the person's PIN away (the hotline then reads them no instructions). Audited."""
        def work(session: Session) -> dict[str, Any]:
            person = find_person(session, ref)
            if not clear_pin(session, person.id):
                raise NotFound(f"person {person.id} has no PIN")
            record(session, actor, "person.pin_clear", f"person:{person.id}")
            return {"person_id": person.id, "name": person.name}

        return await self.db.run(work)


def find_person(session: Session, ref: str) -> Person:
    """A person by directory id or phone (in any writing)."""
    text = ref.strip()
    if text.isascii() and text.isdigit() and len(text) <= 9:
        person = session.get(Person, int(text))
    else:
        try:
            phone = normalise_phone(text)
        except PhoneError as exc:
            raise Invalid(f"'{ref}': neither a directory id nor a phone number ({exc})", field="person") from None
        person = session.scalars(select(Person).where(Person.phone == phone)).first()
    if person is None:
        raise NotFound(f"nobody in the directory is '{ref}'")
    return person
