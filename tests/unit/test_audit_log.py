"""The audit log keeps what is written in it: entries can be added, never changed or removed."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from audit.log import Actor, record
from db.audit import AuditEntry


def test_entries_are_added_and_never_changed_or_removed(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        record(s, Actor("sup", 2, "192.0.2.7"), "campaign.start", "campaign:12", detail={"targets": 40})
        record(s, Actor.system(), "retention.applied", detail={"recordings": 3})
    with session_factory() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(r.actor, r.action, r.target, r.detail, r.address) for r in rows] == [
            ("sup", "campaign.start", "campaign:12", {"targets": 40}, "192.0.2.7"),
            ("system", "retention.applied", None, {"recordings": 3}, None)]
    for statement in (update(AuditEntry).values(actor="someone else"), delete(AuditEntry)):
        with pytest.raises(DatabaseError, match="append-only"), session_factory.begin() as s:
            s.execute(statement)
    with session_factory() as s:
        assert len(s.scalars(select(AuditEntry)).all()) == 2


def test_the_command_line_actor_names_the_os_user() -> None:
    assert Actor.cli().name.startswith("cli:")
