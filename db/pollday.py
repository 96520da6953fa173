"""Poll day: each AC's plan, its rounds (each run as a dialer campaign), the booths' reports per round and
the alerts raised for an operator to call a booth back. Counting day the same way: each AC's counting plan,
its rounds, each table's votes per party per round, and the alerts on returns that do not add up."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime


class PollPlan(Base):
    __tablename__ = "poll_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    ac_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    poll_date: Mapped[date] = mapped_column(Date)
    opens: Mapped[str] = mapped_column(String(5))              # HH:MM, the plan's time zone
    closes: Mapped[str] = mapped_column(String(5))
    report_times: Mapped[list[str]] = mapped_column(JSON)      # ["09:00", "11:00", ...]
    close_round: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str] = mapped_column(String(60))
    posts: Mapped[list[str]] = mapped_column(JSON)             # committee posts called, in order
    use_alternate: Mapped[bool] = mapped_column(default=True)
    script: Mapped[str] = mapped_column(String(60))
    call_delay: Mapped[int] = mapped_column(Integer, default=120)  # seconds after a report time calls begin
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PollRound(Base):
    """A round that was started (its campaign) or let go (``superseded``)."""

    __tablename__ = "poll_rounds"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("poll_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(20))             # running / superseded / closed
    late: Mapped[bool] = mapped_column(default=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PollReport(Base):
    """A booth's figures for one round: the latest report wins (a call, or the agent on the hotline)."""

    __tablename__ = "poll_reports"
    __table_args__ = (UniqueConstraint("plan_id", "round", "booth_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("poll_plans.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    booth_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_calls.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))            # call / hotline
    votes: Mapped[int | None] = mapped_column(Integer)
    ours: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(String(30))
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PollAlert(Base):
    """A booth to call back: a report that does not add up, or a booth silent for two rounds."""

    __tablename__ = "poll_alerts"
    __table_args__ = (UniqueConstraint("plan_id", "round", "booth_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("poll_plans.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    booth_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))              # silent / falling / above_voters / ...
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open / done
    done_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CountPlan(Base):
    """Counting day for one AC: its rounds, the tables in the hall and the parties in the result sheet's
    order (``parties``: [{"key": "BJP", "name": "candidate"}, ...])."""

    __tablename__ = "count_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    ac_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    counting_date: Mapped[date] = mapped_column(Date)
    starts: Mapped[str] = mapped_column(String(5))             # HH:MM, the plan's time zone
    round_minutes: Mapped[int] = mapped_column(Integer)
    rounds: Mapped[int] = mapped_column(Integer)
    tables: Mapped[int] = mapped_column(Integer)
    parties: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(60))
    posts: Mapped[list[str]] = mapped_column(JSON)             # committee posts called, in order (+ table number)
    use_alternate: Mapped[bool] = mapped_column(default=True)
    script: Mapped[str] = mapped_column(String(60))
    call_delay: Mapped[int] = mapped_column(Integer, default=120)
    max_votes: Mapped[int] = mapped_column(Integer, default=2000)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CountRound(Base):
    """A counting round that was started (its campaign) or let go (``superseded``)."""

    __tablename__ = "count_rounds"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("count_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(20))             # running / superseded
    late: Mapped[bool] = mapped_column(default=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CountReport(Base):
    """One party's votes at one table in one round (the latest report wins: a call, or the hotline)."""

    __tablename__ = "count_reports"
    __table_args__ = (UniqueConstraint("plan_id", "round", "table_no", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("count_plans.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    table_no: Mapped[int] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(40))
    votes: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_calls.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))            # call / hotline
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CountAlert(Base):
    """A counting table to call back: its round's return does not add up."""

    __tablename__ = "count_alerts"
    __table_args__ = (UniqueConstraint("plan_id", "round", "table_no", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("count_plans.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    table_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))              # negative / absurd / above_electors / unknown_table
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open / done
    done_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
