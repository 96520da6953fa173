"""Phones in the browser (issue 19): the SIP secret handed to one signed-in page, and the call quality the
pages measure (WebRTC statistics), kept with the call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime

# a user's browser phone is the endpoint op-<user>-web (their SIP softphone: op-<user>)
WEB_PREFIX, WEB_SUFFIX = "op-", "-web"


class BrowserPhone(Base):
    """The secret of a user's browser phone (endpoint ``op-<user>-web``): one per user, made for the web
    session it was handed to and gone with it (sign-out, expiry, a new password, the user disabled), so a
    new sign-in always gets a new one. Kept in clear only because Asterisk's digest needs it (``md5_cred``
    is what Asterisk's configuration gets) and the page gets it again on a reload."""

    __tablename__ = "browser_phones"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("web_sessions.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CallQuality(Base):
    """How a call sounded on a browser phone, from the page's ``RTCPeerConnection.getStats()``: updated while
    the call lasts and once more at its end. ``channel_id`` is the caller's channel (the queue call's)."""

    __tablename__ = "call_quality"
    __table_args__ = (UniqueConstraint("user_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    queue_call_id: Mapped[int | None] = mapped_column(ForeignKey("queue_calls.id", ondelete="SET NULL"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    codec: Mapped[str | None] = mapped_column(String(40))
    packets_received: Mapped[int] = mapped_column(Integer, default=0)
    packets_lost: Mapped[int] = mapped_column(Integer, default=0)
    packets_sent: Mapped[int] = mapped_column(Integer, default=0)
    jitter_ms: Mapped[float | None] = mapped_column(Float)       # the last sample
    max_jitter_ms: Mapped[float | None] = mapped_column(Float)
    rtt_ms: Mapped[float | None] = mapped_column(Float)          # the last sample (from RTCP)
    max_rtt_ms: Mapped[float | None] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    ended: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
