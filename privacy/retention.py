"""Retention: personal data is kept only as long as the war room needs it.

- voice notes, survey recordings and operators' call recordings: ``recordings_days`` (90) after they were
  made;
- phone numbers in call records (attempts, IVR calls, the operators' queue, tickets' reporter phones) and
  Asterisk's CDR: until ``phones_days`` (180) after the election (``election_date``); after that the call
  records keep the last four digits only and the CDR records of before that day are removed.

The directory itself is not touched: a person leaves it by erasure (or a new import)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from db.campaigns import Attempt
from db.ivr import IvrCall, IvrRecording, QueueCall
from db.security import CallRecording
from db.tickets import Ticket
from privacy.phones import MASK_PREFIX, mask


@dataclass(frozen=True)
class RetentionPolicy:
    recordings_days: int = 90
    phones_days: int = 180
    election_date: date | None = None

    def recordings_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.recordings_days)

    def phones_cutoff(self, now: datetime) -> datetime | None:
        """From when phones in call records go (None: not yet, or no election date set)."""
        if self.election_date is None:
            return None
        due = datetime.combine(self.election_date + timedelta(days=self.phones_days), time(), UTC)
        return due if now >= due else None


@dataclass
class RetentionRun:
    """What a retention pass removed (or, dry, would remove), by place; no personal data."""

    counts: Counter[str] = field(default_factory=Counter)
    recordings: list[str] = field(default_factory=list)  # file names under the recordings directory
    phones_cutoff: datetime | None = None
    dry_run: bool = False

    def detail(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "phones_cutoff": self.phones_cutoff.isoformat() if self.phones_cutoff
                else None, **{k: v for k, v in sorted(self.counts.items()) if v}}


BATCH = 5000
# (model, its phone column, its time column): the call records whose phones are masked
PHONE_COLUMNS = ((Attempt, Attempt.phone, Attempt.created_at), (IvrCall, IvrCall.caller_phone, IvrCall.started_at),
                 (QueueCall, QueueCall.caller_phone, QueueCall.entered_at),
                 (Ticket, Ticket.reporter_phone, Ticket.created_at))


def apply_retention(session: Session, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False) -> RetentionRun:
    """The database's part of a retention pass (the files are the service's)."""
    run = RetentionRun(dry_run=dry_run, phones_cutoff=policy.phones_cutoff(now))
    old = session.execute(select(IvrRecording.id, IvrRecording.name, IvrRecording.format)
                          .where(IvrRecording.at < policy.recordings_cutoff(now))).all()
    run.recordings = [f"{name}.{fmt}" for _id, name, fmt in old]
    run.counts["recordings"] = len(old)
    if old and not dry_run:
        ids = [r[0] for r in old]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            session.execute(update(Ticket).where(Ticket.recording_id.in_(part)).values(recording_id=None))
            session.query(IvrRecording).filter(IvrRecording.id.in_(part)).delete(synchronize_session=False)
    calls = session.execute(select(CallRecording.id, CallRecording.name, CallRecording.format)
                            .where(CallRecording.started_at < policy.recordings_cutoff(now))).all()
    run.recordings += [f"{name}.{fmt}" for _id, name, fmt in calls]
    run.counts["call_recordings"] = len(calls)
    if calls and not dry_run:
        ids = [r[0] for r in calls]
        for chunk in range(0, len(ids), 500):
            session.execute(delete(CallRecording).where(CallRecording.id.in_(ids[chunk:chunk + 500])))
    if run.phones_cutoff is not None:
        for model, phone, at in PHONE_COLUMNS:
            due = (at < run.phones_cutoff, phone.is_not(None), ~phone.startswith(MASK_PREFIX))
            if dry_run:
                run.counts[f"phones:{model.__tablename__}"] = session.scalar(
                    select(func.count()).select_from(model).where(*due)) or 0
                continue
            while rows := session.execute(select(model.id, phone).where(*due).limit(BATCH)).all():
                session.execute(update(model), [{"id": key, phone.key: mask(value)} for key, value in rows])
                run.counts[f"phones:{model.__tablename__}"] += len(rows)
    return run
