"""Call-back tasks: a person whose answered campaign call no operator took in time (an abandoned call) is
called back by an operator, by hand, not redialed blind by the dialer."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime


class CallbackState(enum.StrEnum):
    open = "open"      # nobody has it yet
    taken = "taken"    # an operator took it (``done_by`` says who): nobody else calls the person
    done = "done"      # called back: the person was reached, or the outcome settles it (wrong number, opt-out...)
    failed = "failed"  # called back without reaching the person (no answer, not available)


class CallbackTask(Base):
    __tablename__ = "callback_tasks"
    __table_args__ = (Index("ix_callback_tasks_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[CallbackState] = mapped_column(enum_column(CallbackState, "callback_state"),
                                                 default=CallbackState.open)
    done_by: Mapped[str | None] = mapped_column(String(100))  # who took it, then did it (a user name)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
