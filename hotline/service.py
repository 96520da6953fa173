"""Instructions from headquarters, which the hotline reads to booth workers: add and list them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import Unit
from db.tickets import Instruction
from dialer.campaigns import resolve_units
from hotline.lookup import add_instruction


class InstructionService:
    """The hotline's instructions (each booth hears the newest that covers it)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, text: str, *, unit: str | None = None, language: str = "hi",
                  by: str | None = None) -> dict[str, Any]:
        """An instruction for the booths under ``unit`` (a key like ``ac:152`` or an id; all booths if None)."""
        def work(session: Session) -> dict[str, Any]:
            unit_id = resolve_units(session, [unit])[0] if unit else None
            return _row(add_instruction(session, text, unit_id=unit_id, language=language, by=by), unit)

        return await self.db.run(work)

    async def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """Instructions, newest first."""
        def work(session: Session) -> list[dict[str, Any]]:
            keys: dict[int | None, str] = {uid: key for uid, key in session.execute(
                select(Unit.id, Unit.key).join(Instruction, Instruction.unit_id == Unit.id))}
            return [_row(i, keys.get(i.unit_id)) for i in session.scalars(
                select(Instruction).order_by(Instruction.created_at.desc()).limit(limit))]

        return await self.db.run(work)


def _row(instruction: Instruction, unit: str | None) -> dict[str, Any]:
    return {"id": instruction.id, "unit": unit, "language": instruction.language, "text": instruction.text,
            "by": instruction.created_by, "at": instruction.created_at.isoformat()}
