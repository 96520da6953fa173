"""Problems reported from the booths (hotline voice notes, operators' notes) and headquarters'
instructions to the booths."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime

# poll day's problems (the turnout round's "any problem?"): each is urgent
URGENT_CATEGORIES = ("evm_vvpat", "agent_not_allowed", "violence_capture", "slow_queue", "poll_other")
CATEGORIES = ("material_shortage", "worker_shortage", "opposing_activity", "polling_day", "other",
              *URGENT_CATEGORIES)


class TicketStatus(enum.StrEnum):
    open = "open"
    assigned = "assigned"
    resolved = "resolved"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, "ticket_status"),
                                                 default=TicketStatus.open)
    source: Mapped[str] = mapped_column(String(20))  # hotline / operator
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    # hotline: whether the caller proved who they are (their PIN); False = only their caller ID, which can be
    # spoofed; None for tickets not from the hotline
    reporter_verified: Mapped[bool | None] = mapped_column()
    call_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_calls.id", ondelete="SET NULL"))
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_recordings.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Instruction(Base):
    """A message from headquarters for the booths under ``unit_id`` (all booths when it is null); the hotline
    reads a booth the newest one that covers it, in the caller's language if there is one; a retired one is
    kept (what was said, and when) but read to no one."""

    __tablename__ = "instructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="hi")
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # no longer read to anyone
    retired_by: Mapped[str | None] = mapped_column(String(100))
