"""IVR calls and what they gathered: one row per call in our Stasis app (outbound survey or hotline), every
key pressed as it was pressed, every voice recording, and the operators' queue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime


class CallResult(enum.StrEnum):
    completed = "completed"      # reached the script's end
    partial = "partial"          # hung up before the end: what was answered is kept
    opted_out = "opted_out"      # asked not to be called again
    transferred = "transferred"  # handed to the operators' queue


class IvrCall(Base):
    """One call through an IVR script. ``channel_id`` is Asterisk's channel id (ours for dialer calls)."""

    __tablename__ = "ivr_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(10))  # outbound (campaign) / inbound (hotline)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    caller_verified: Mapped[bool | None] = mapped_column()  # hotline: the member gave their PIN in this call
    script: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(5))
    booth_status: Mapped[str | None] = mapped_column(String(10))  # the status that chose the script
    state: Mapped[str] = mapped_column(String(60), default="new")  # the engine's phase@step, as it goes
    result: Mapped[CallResult | None] = mapped_column(enum_column(CallResult, "ivr_result"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IvrAnswer(Base):
    """One key pressed in answer to a question, stored as it was given (invalid keys too, flagged)."""

    __tablename__ = "ivr_answers"
    __table_args__ = (Index("ix_ivr_answers_call_step", "call_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ivr_calls.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(1))
    value: Mapped[str | None] = mapped_column(String(60))
    valid: Mapped[bool] = mapped_column(default=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a number step's answer
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class IvrRecording(Base):
    """Voice feedback (or a hotline voice note): the file Asterisk wrote and how long it is."""

    __tablename__ = "ivr_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ivr_calls.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    step: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), unique=True)  # ARI recording name (path under recordings)
    format: Mapped[str] = mapped_column(String(10))
    duration: Mapped[int | None] = mapped_column(Integer)          # seconds
    talking: Mapped[int | None] = mapped_column(Integer)           # seconds of speech detected
    state: Mapped[str] = mapped_column(String(10), default="recording")  # recording / done / failed
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.format}"


class QueueCall(Base):
    """A caller waiting for an operator (hotline choice, unknown number, a survey's transfer)."""

    __tablename__ = "queue_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_calls.id", ondelete="SET NULL"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default="waiting", index=True)  # waiting/answered/abandoned
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
