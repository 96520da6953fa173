"""Operators' working states (signed out / ready / on call / wrap-up / paused) with when each began, and
every change kept for reports (time in each state, shifts)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime


class OperatorState(enum.StrEnum):
    signed_out = "signed_out"
    ready = "ready"          # waiting for a call
    on_call = "on_call"
    wrap_up = "wrap_up"      # a timed after-call state: notes, disposition
    paused = "paused"        # with a reason (break, meeting, training...)


class OperatorStatus(Base):
    """Each operator's state now."""

    __tablename__ = "operator_status"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[OperatorState] = mapped_column(enum_column(OperatorState, "operator_state"),
                                                 default=OperatorState.signed_out)
    reason: Mapped[str | None] = mapped_column(String(100))
    since: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    channel_id: Mapped[str | None] = mapped_column(String(64))   # the call they are on
    wrap_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OperatorStateChange(Base):
    __tablename__ = "operator_state_changes"
    __table_args__ = (Index("ix_operator_state_changes_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_state: Mapped[OperatorState] = mapped_column(enum_column(OperatorState, "operator_state_from"))
    to_state: Mapped[OperatorState] = mapped_column(enum_column(OperatorState, "operator_state_to"))
    reason: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Disposition(enum.StrEnum):
    reached = "reached"              # spoke to the person
    wrong_number = "wrong_number"
    call_back = "call_back"          # asked to be called at a time
    opted_out = "opted_out"          # asked not to be called again
    not_available = "not_available"  # someone else answered; the person was not there


class CallDisposition(Base):
    """What the operator recorded about a call, with notes and, for a call back, when."""

    __tablename__ = "call_dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64), index=True)  # the caller's channel
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    disposition: Mapped[Disposition] = mapped_column(enum_column(Disposition, "call_disposition"))
    notes: Mapped[str | None] = mapped_column(String(2000))
    callback_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
