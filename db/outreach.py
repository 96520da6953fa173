"""Voter outreach: lists of people who agreed to be called (apart from the committee directory), the
do-not-call opt-outs, outreach campaigns with their MCMC certificate, every attempt (caller ID and the
trunk's registration category, for an inquiry) and the missed calls received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime


class OutreachList(Base):
    """A named list (an import, a drive, the missed-call line)."""

    __tablename__ = "outreach_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Contact(Base):
    """One number, once across every list. A committee member's number is linked (``person_id``), its name
    and language stay in the directory."""

    __tablename__ = "outreach_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    alt_phone: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(5))
    ac_no: Mapped[int | None] = mapped_column(Integer)
    booth: Mapped[str | None] = mapped_column(String(200))       # booth number or village
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # extra columns, for templates
    consent_source: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ListEntry(Base):
    """A contact on a list."""

    __tablename__ = "outreach_list_entries"

    list_id: Mapped[int] = mapped_column(ForeignKey("outreach_lists.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("outreach_contacts.id", ondelete="CASCADE"),
                                            primary_key=True)


class OptOut(Base):
    """A number that asked not to be called again (keypad 9, an operator's disposition, a request):
    honoured by every list and campaign."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutreachCampaign(Base):
    """A campaign to a list. It cannot start without the MCMC certificate reference of its message."""

    __tablename__ = "outreach_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("outreach_lists.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(20), default="draft")  # draft, running, paused, stopped
    mcmc_ref: Mapped[str | None] = mapped_column(String(120))
    caller_id: Mapped[str | None] = mapped_column(String(40))
    trunk: Mapped[str] = mapped_column(String(200), default="lines")
    trunk_category: Mapped[str | None] = mapped_column(String(40))  # the trunk's registration (e.g. 140-series)
    cursor: Mapped[int] = mapped_column(Integer, default=0)          # contacts up to this id are planned
    scrubbed: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # why -> how many
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recording: Mapped[str | None] = mapped_column(String(60))  # the leader's message its calls play


class OutreachAttempt(Base):
    """One call to one contact by one campaign, with what an inquiry asks: when, from which caller ID,
    over which trunk of which registration category."""

    __tablename__ = "outreach_attempts"
    __table_args__ = (Index("ix_outreach_attempts_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("outreach_campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_contacts.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    caller_id: Mapped[str] = mapped_column(String(40))
    trunk: Mapped[str] = mapped_column(String(100))
    trunk_category: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(30))
    listened_s: Mapped[float | None] = mapped_column(Float)


class MissedCall(Base):
    """A call to a missed-call number, never answered: who (None: withheld), when, the DID's purpose and
    what was done (queued, capped, flood, withheld, unusable)."""

    __tablename__ = "missed_calls"
    __table_args__ = (Index("ix_missed_calls_phone_at", "phone", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    did: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(30))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_contacts.id", ondelete="SET NULL"))
    callback_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the call back, within the rules


class OutreachReply(Base):
    """A voice message a person left for the leader (key 2 in a broadcast call): the recording's name in
    Asterisk's recording directory, with the person's AC and booth; played by supervisors only."""

    __tablename__ = "outreach_replies"
    __table_args__ = (Index("ix_outreach_replies_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("outreach_campaigns.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_attempts.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_contacts.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(80), unique=True)
    ac_no: Mapped[int | None] = mapped_column(Integer)
    booth: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    seconds: Mapped[float | None] = mapped_column(Float)
