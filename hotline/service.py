"""Instructions from headquarters, which the hotline reads to booth workers: add, list and retire them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Conflict, NotFound
from db.engine import Database
from db.models import Unit, utcnow
from db.tickets import Instruction
from dialer.campaigns import resolve_units
from hotline.lookup import add_instruction


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
