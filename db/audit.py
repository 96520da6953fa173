"""The audit log: who did what and when. Append-only (the database refuses updates and deletes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime


class AuditEntry(Base):
    """One thing done. ``detail`` never holds the personal data it is about (no phone numbers or names of
    people erased): ids, counts, states and reasons."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))            # a user name, "system", or "cli:<os user>"
    actor_id: Mapped[int | None] = mapped_column(Integer)    # the user's id when a user did it
    action: Mapped[str] = mapped_column(String(60))          # e.g. campaign.start, user.disable, sign_in.failed
    target: Mapped[str | None] = mapped_column(String(120))  # e.g. campaign:12, user:asha, person:340
    outcome: Mapped[str] = mapped_column(String(20), default="ok")  # ok / refused / failed
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))  # the client's address (web)
