"""Campaigns, their targets, and every call attempt. Asterisk owns live call state; these rows own the
history. An attempt is written as ``dialing`` before its Originate is sent, keyed by the ChannelId we
choose, and reaches exactly one terminal disposition."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models import Base, enum_column, utcnow
from db.types import UtcDateTime

LIVE = "state <> 'ended'"  # an attempt still in flight


class CampaignMode(enum.StrEnum):
    ivr = "ivr"            # automated: the answered call enters our Stasis app and hears a script
    operator = "operator"  # progressive: the answered call is bridged to a ready operator


class CampaignPacing(enum.StrEnum):
    """Operator campaigns: how many calls to have going (see ``dialer/pacing.py``)."""

    progressive = "progressive"  # one per ready operator (times the ratio)
    predictive = "predictive"    # dial ahead from measured answer rates and call lengths, under the abandon cap


class CampaignState(enum.StrEnum):
    draft = "draft"
    running = "running"
    paused = "paused"
    stopped = "stopped"
    completed = "completed"


class TargetState(enum.StrEnum):
    queued = "queued"          # due at next_at
    dialing = "dialing"        # an attempt is in flight
    done = "done"              # reached, or out of tries
    removed = "removed"        # left the campaign (opt-out, wrong number, left the directory)


class AttemptState(enum.StrEnum):
    dialing = "dialing"
    ringing = "ringing"
    answered = "answered"
    ended = "ended"            # terminal: see disposition


class Disposition(enum.StrEnum):
    answered = "answered"
    no_answer = "no_answer"
    busy = "busy"
    congestion = "congestion"
    failed = "failed"
    invalid_number = "invalid_number"
    cancelled = "cancelled"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    mode: Mapped[CampaignMode] = mapped_column(enum_column(CampaignMode, "campaign_mode"))
    state: Mapped[CampaignState] = mapped_column(enum_column(CampaignState, "campaign_state"),
                                                 default=CampaignState.draft, index=True)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    trunk: Mapped[str] = mapped_column(String(200), default="lines")  # a trunk, or several: "lines,gsm"
    waiting: Mapped[str | None] = mapped_column(Text)  # why it cannot dial now (its trunks are down), or None
    # who to call: {"units": [ids], "levels": [...], "posts": [...], "statuses": [...]}
    selection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the calling rules that may differ per campaign (window, time zone...), merged over the defaults
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # per outcome: {"no_answer": {"tries": 3, "after": 1800}, "busy": {...}, "congestion": {...}}
    retry: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    use_alternate: Mapped[bool] = mapped_column(default=True)
    record_calls: Mapped[bool] = mapped_column(default=False)  # operators' calls recorded (after a notice)
    pacing: Mapped[CampaignPacing] = mapped_column(enum_column(CampaignPacing, "campaign_pacing"),
                                                   default=CampaignPacing.progressive)
    abandon_cap: Mapped[float] = mapped_column(Float, default=0.03)  # abandoned / answered, per day and window
    # IVR: script name per booth status; template fields (a programme's date and place...)
    scripts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class Target(Base):
    """One person to reach in one campaign."""

    __tablename__ = "campaign_targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id", name="uq_campaign_targets_campaign_person"),
        Index("ix_campaign_targets_due", "campaign_id", "state", "next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id", ondelete="SET NULL"))
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    state: Mapped[TargetState] = mapped_column(enum_column(TargetState, "target_state"), default=TargetState.queued)
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    tries: Mapped[int] = mapped_column(Integer, default=0)
    # tries per disposition, for the retry policy: {"no_answer": 2, "busy": 1}
    tries_by: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    use_alternate: Mapped[bool] = mapped_column(default=False)  # primary failed: try the alternate next
    last_disposition: Mapped[str | None] = mapped_column(String(20))
    blocked_rule: Mapped[str | None] = mapped_column(String(20))  # the rule holding it back (see dialer.rules)
    blocked_by: Mapped[str | None] = mapped_column(Text)  # ...and why, in words
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()


class Attempt(Base):
    """One dial. ``channel_id`` is the Asterisk ChannelId we chose; ``action_id`` the Originate's ActionID."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_person_created", "person_id", "created_at"),
        Index("ix_attempts_state", "state"),
        Index("ix_attempts_node_state", "node", "state"),
        # never two live calls to one phone, whichever node dials it
        Index("uq_attempts_live_phone", "phone", unique=True, postgresql_where=text(LIVE),
              sqlite_where=text(LIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    action_id: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_targets.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    trunk: Mapped[str] = mapped_column(String(60))
    node: Mapped[str | None] = mapped_column(String(40))        # the node that dials it (its Asterisk has the call)
    state: Mapped[AttemptState] = mapped_column(enum_column(AttemptState, "attempt_state"),
                                                default=AttemptState.dialing)
    disposition: Mapped[Disposition | None] = mapped_column(enum_column(Disposition, "disposition"))
    cause: Mapped[int | None] = mapped_column(Integer)          # Q.850 hangup cause
    sip_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(20))      # IVR: completed / partial / opted_out / transferred
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
