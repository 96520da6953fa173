"""Users of the consoles (admin, supervisor, operator) and their signed-in sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime


class Role(enum.StrEnum):
    admin = "admin"            # users, settings, everything a supervisor can do
    supervisor = "supervisor"  # campaigns, live figures, tickets, listen-in, reports
    operator = "operator"      # their own calls: the console, dispositions, tickets from calls


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(default=False)
    sip_secret: Mapped[str] = mapped_column(String(64))  # the softphone's password (shown to its owner)
    ui_language: Mapped[str] = mapped_column(String(5), default="en")
    home_node: Mapped[str | None] = mapped_column(String(40))  # the node an operator's softphone registers to
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def sip_username(self) -> str:
        """The PJSIP endpoint (and auth user) of this user's softphone."""
        return f"op-{self.username}"


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    # the user's last own request (automatic refreshes and live streams do not count): idle sessions end
    last_active_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
