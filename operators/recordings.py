"""Operators' call recordings: which calls are recorded (a campaign's switch, the hotline's setting), their
rows, and the use cases supervisors have: list them with their call and its disposition, play one (each play
in the audit log). Operators never reach them. Files live under Asterisk's recording directory; erasure and
retention remove them (:mod:`privacy`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import NotFound
from db.campaigns import Attempt, Campaign
from db.engine import Database
from db.ivr import IvrCall, QueueCall
from db.models import utcnow
from db.operators import CallDisposition
from db.security import CallRecording
from db.users import User
from operators.screen import mask

NOTICE = {"hi": "यह कॉल रिकॉर्ड की जा सकती है।", "en": "This call may be recorded."}


@dataclass(frozen=True)
class RecordingPlan:
    """A call to record, and what its recording is linked to."""

    queue_call_id: int
    source: str                  # hotline / campaign
    attempt_id: int | None = None
    campaign_id: int | None = None
    person_id: int | None = None
    phone: str | None = None


def recording_plan(session: Session, queue_call_id: int, *, hotline: bool) -> RecordingPlan | None:
    """Whether the call waiting as ``queue_call_id`` is recorded once an operator takes it: a campaign's call
    (progressive, or a survey's transfer) when its campaign says so, a hotline call when ``hotline``."""
    row = session.get(QueueCall, queue_call_id)
    if row is None:
        return None
    attempt_id = row.attempt_id
    if attempt_id is None and row.call_id is not None:
        call = session.get(IvrCall, row.call_id)
        attempt_id = call.attempt_id if call is not None else None
    if attempt_id is not None:
        attempt = session.get(Attempt, attempt_id)
        campaign = session.get(Campaign, attempt.campaign_id) if attempt and attempt.campaign_id else None
        if campaign is None or not campaign.record_calls:
            return None
        return RecordingPlan(row.id, "campaign", attempt_id, campaign.id, row.person_id, row.caller_phone)
    if not hotline:
        return None
    return RecordingPlan(row.id, "hotline", None, None, row.person_id, row.caller_phone)


def recording_started(session: Session, plan: RecordingPlan, *, name: str, channel_id: str, user_id: int | None,
                      at: datetime) -> int:
    row = CallRecording(name=name, format="wav", channel_id=channel_id, queue_call_id=plan.queue_call_id,
                        attempt_id=plan.attempt_id, campaign_id=plan.campaign_id, user_id=user_id,
                        person_id=plan.person_id, caller_phone=plan.phone, source=plan.source, state="recording",
                        started_at=at)
    session.add(row)
    session.flush()
    return row.id


def recording_ended(session: Session, name: str, *, state: str, duration: int | None, at: datetime) -> None:
    """Close a recording's row (once)."""
    row = session.scalars(select(CallRecording).where(CallRecording.name == name)).first()
    if row is not None and row.state == "recording":
        row.state, row.duration, row.ended_at = state, duration, at


def _summary(row: CallRecording, operator: str | None, disposition: CallDisposition | None) -> dict[str, Any]:
    return {"id": row.id, "source": row.source, "state": row.state, "duration": row.duration,
            "started_at": row.started_at.isoformat(), "ended_at": row.ended_at.isoformat() if row.ended_at else None,
            "operator": operator, "queue_call_id": row.queue_call_id, "attempt_id": row.attempt_id,
            "campaign_id": row.campaign_id, "person_id": row.person_id, "channel_id": row.channel_id,
            "phone": mask(row.caller_phone) if row.caller_phone else None,
            "disposition": disposition.disposition.value if disposition else None,
            "audio": f"/api/recordings/{row.id}/audio"}


def list_recordings(session: Session, *, attempt_id: int | None = None, campaign_id: int | None = None,
                    limit: int = 200) -> list[dict[str, Any]]:
    """Recordings, newest first, each with its operator and the disposition they gave the call."""
    query = (select(CallRecording, User.username).outerjoin(User, User.id == CallRecording.user_id)
             .order_by(CallRecording.started_at.desc(), CallRecording.id.desc()).limit(limit))
    if attempt_id is not None:
        query = query.where(CallRecording.attempt_id == attempt_id)
    if campaign_id is not None:
        query = query.where(CallRecording.campaign_id == campaign_id)
    rows = session.execute(query).all()
    channels = [r.channel_id for r, _name in rows]
    dispositions = {d.channel_id: d for d in session.scalars(
        select(CallDisposition).where(CallDisposition.channel_id.in_(channels))
        .order_by(CallDisposition.id))} if channels else {}
    return [_summary(r, name, dispositions.get(r.channel_id)) for r, name in rows]


class RecordingService:
    """Supervisors' access to operators' call recordings (``recordings_dir``: Asterisk's, as this host sees
    it)."""

    def __init__(self, db: Database, recordings_dir: Path | None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.recordings_dir, self.clock = db, recordings_dir, clock

    async def list(self, *, attempt_id: int | None = None, campaign_id: int | None = None,
                   limit: int = 200) -> list[dict[str, Any]]:
        return await self.db.run(list_recordings, attempt_id=attempt_id, campaign_id=campaign_id, limit=limit)

    async def play(self, recording_id: int, actor: Actor, *, audit: bool = True) -> Path:
        """The file of a recording, to be played; the play is written to the audit log first (``audit``
        False: the rest of a play already recorded)."""
        base = self.recordings_dir
        if base is None:
            raise NotFound("recordings are not kept on this node")

        def work(session: Session) -> Path:
            row = session.get(CallRecording, recording_id)
            if row is None or row.state == "recording":
                raise NotFound(f"no finished recording #{recording_id}")
            path = (base / row.filename).resolve()
            if not path.is_relative_to(base.resolve()) or not path.is_file():
                raise NotFound(f"the file of recording #{recording_id} is gone")
            if audit:
                record(session, actor, "recording.play", f"recording:{row.id}",
                       detail={"attempt_id": row.attempt_id, "queue_call_id": row.queue_call_id})
            return path

        return await self.db.run(work)
