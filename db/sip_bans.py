"""Addresses banned from the war room's SIP after failing to authenticate again and again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime


class SipBan(Base):
    """One ban of one address: active from ``banned_at`` until ``until`` unless lifted before."""

    __tablename__ = "sip_bans"
    __table_args__ = (Index("ix_sip_bans_address", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    banned_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lifted_by: Mapped[str | None] = mapped_column(String(80))
