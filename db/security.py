"""Proof of who calls the hotline (members' PINs) and operators' call recordings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime


class MemberPin(Base):
    """A member's hotline PIN, as an argon2 hash only; wrong PINs in a row lock it for a while."""

    __tablename__ = "member_pins"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    set_by: Mapped[str | None] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    failures: Mapped[int] = mapped_column(Integer, default=0)   # wrong PINs since the last right one
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the last right PIN


class CallRecording(Base):
    """An operator's call recorded with MixMonitor (after the caller heard the notice): the file under
    Asterisk's recording directory and the call it belongs to (queue entry, campaign attempt, the caller's
    channel, which the operator's disposition names too)."""

    __tablename__ = "call_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # path under the recordings dir, no extension
    format: Mapped[str] = mapped_column(String(10), default="wav")
    channel_id: Mapped[str] = mapped_column(String(64), index=True)  # the caller's channel
    queue_call_id: Mapped[int | None] = mapped_column(ForeignKey("queue_calls.id", ondelete="SET NULL"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))  # hotline / campaign
    state: Mapped[str] = mapped_column(String(10), default="recording")  # recording / done / failed
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.format}"
