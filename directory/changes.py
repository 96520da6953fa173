"""The change feed (outbox): written in the caller's transaction, read by the dialer in id order.

On PostgreSQL, ids from a sequence can commit out of order (a reader could pass over a row that commits
later with a smaller id). Writers therefore take a transaction-scoped advisory lock first, so commit
order equals id order. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from db.models import Change, utcnow

_LOCK_KEY = 0x57A7_F33D  # arbitrary, fixed: "the change feed"


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def record_change(session: Session, person_id: int | None, kind: str, **data: Any) -> None:
    """Append one change (person created/updated/removed, dnd, status, phone...) in this transaction."""
    _lock(session)
    session.add(Change(at=utcnow(), person_id=person_id, kind=kind, data=data))


def record_changes(session: Session, rows: Iterable[tuple[int | None, str, dict[str, Any]]]) -> int:
    """Append many changes at once (bulk import); returns how many."""
    values = [{"at": utcnow(), "person_id": pid, "kind": kind, "data": data} for pid, kind, data in rows]
    if values:
        _lock(session)
        session.execute(insert(Change), values)
    return len(values)


def read_changes(session: Session, after_id: int, limit: int = 1000) -> Sequence[Change]:
    """Changes with id greater than ``after_id``, oldest first."""
    return session.scalars(select(Change).where(Change.id > after_id).order_by(Change.id).limit(limit)).all()


def last_change_id(session: Session) -> int:
    return int(session.scalar(select(Change.id).order_by(Change.id.desc()).limit(1)) or 0)
