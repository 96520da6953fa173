"""Operators' call recordings (issue 13, finding 9), on SQLite and PostgreSQL: which calls are recorded (a
campaign's switch, the hotline's setting), their rows linked to the call and its disposition, plays audited,
and erasure and retention removing rows and files."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.service import add_user
from audit.log import Actor
from core.errors import NotFound
from db.audit import AuditEntry
from db.campaigns import Attempt, AttemptState
from db.engine import Database
from db.ivr import IvrCall, QueueCall
from db.models import utcnow
from db.operators import CallDisposition, Disposition
from db.security import CallRecording
from dialer.campaigns import Selection, create_campaign
from operators.recordings import RecordingService, recording_ended, recording_plan, recording_started
from privacy.retention import RetentionPolicy
from privacy.service import PrivacyService
from tests.unit.test_tickets_hotline import tree

PHONE = "+919826012345"


def _attempt(s: Session, person_id: int, *, record: bool, name: str) -> int:
    campaign = create_campaign(s, name=name, mode="operator", selection=Selection(), record_calls=record)
    attempt = Attempt(channel_id=f"c-{uuid.uuid4().hex}", action_id=f"a-{uuid.uuid4().hex}",
                      campaign_id=campaign.id, person_id=person_id, phone=PHONE, trunk="lines",
                      state=AttemptState.ended)
    s.add(attempt)
    s.flush()
    return attempt.id


def _queued(s: Session, person_id: int, *, attempt_id: int | None = None, call_id: int | None = None) -> int:
    row = QueueCall(channel_id=f"ch-{uuid.uuid4().hex[:8]}", person_id=person_id, caller_phone=PHONE,
                    attempt_id=attempt_id, call_id=call_id, note="n")
    s.add(row)
    s.flush()
    return row.id


def test_which_calls_are_recorded(database: Database) -> None:
    with database.sessions.begin() as s:
        asha = tree(s)["asha"]
        hotline_call = IvrCall(channel_id="h-1", direction="inbound", person_id=asha, caller_phone=PHONE,
                               script="hotline", language="hi")
        s.add(hotline_call)
        s.flush()
        hotline = _queued(s, asha, call_id=hotline_call.id)
        on = _queued(s, asha, attempt_id=_attempt(s, asha, record=True, name="recorded"))
        off = _queued(s, asha, attempt_id=_attempt(s, asha, record=False, name="not recorded"))
        survey_call = IvrCall(channel_id="s-1", direction="outbound", person_id=asha, caller_phone=PHONE,
                              script="strong", language="hi", attempt_id=_attempt(s, asha, record=True, name="ivr"))
        s.add(survey_call)
        s.flush()
        survey = _queued(s, asha, call_id=survey_call.id)
    with database.sessions() as s:
        assert recording_plan(s, hotline, hotline=False) is None
        plan = recording_plan(s, hotline, hotline=True)
        assert plan is not None and plan.source == "hotline" and plan.person_id == asha
        assert recording_plan(s, off, hotline=True) is None, "a campaign's own switch decides for its calls"
        recorded = recording_plan(s, on, hotline=False)
        assert recorded is not None and recorded.source == "campaign" and recorded.attempt_id is not None
        transferred = recording_plan(s, survey, hotline=False)
        assert transferred is not None and transferred.attempt_id == survey_call.attempt_id


def _recorded(database: Database, folder: Path, *, days_old: int = 0) -> tuple[int, Path]:
    with database.sessions.begin() as s:
        ids = tree(s) if s.scalar(select(QueueCall.id).limit(1)) is None else {"asha": s.scalar(
            select(QueueCall.person_id).limit(1))}
        queued = _queued(s, ids["asha"], attempt_id=_attempt(s, ids["asha"], record=True,
                                                              name=f"c{uuid.uuid4().hex[:6]}"))
        plan = recording_plan(s, queued, hotline=False)
        assert plan is not None
        name = f"warroom/calls/{uuid.uuid4().hex[:16]}"
        started = utcnow() - timedelta(days=days_old)
        rid = recording_started(s, plan, name=name, channel_id=f"caller-{uuid.uuid4().hex[:8]}", user_id=None,
                                at=started)
    with database.sessions.begin() as s:
        recording_ended(s, name, state="done", duration=4, at=started)
    path = folder / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    return rid, path


def test_a_play_is_audited_and_a_missing_recording_is_not_found(database: Database, tmp_path: Path) -> None:
    rid, path = _recorded(database, tmp_path)
    with database.sessions.begin() as s:
        row = s.get(CallRecording, rid)
        assert row is not None
        user = add_user(s, "opx", "operator", "Operator-pass-1")
        s.add(CallDisposition(user_id=user.id, channel_id=row.channel_id, disposition=Disposition.reached))
    service = RecordingService(database, tmp_path)
    [listed] = asyncio.run(service.list())
    assert listed["id"] == rid and listed["attempt_id"] and listed["phone"] == "XXXXXX2345"
    assert listed["disposition"] == "reached", "linked to the operator's disposition of the call"
    assert asyncio.run(service.play(rid, Actor("sup", user_id=2))) == path.resolve()
    with database.sessions() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "recording.play")).all()
        assert entry.target == f"recording:{rid}" and PHONE not in str(entry.detail)
    path.unlink()
    with pytest.raises(NotFound):
        asyncio.run(service.play(rid, Actor("sup", user_id=2)))
    with pytest.raises(NotFound):
        asyncio.run(service.play(rid + 100, Actor("sup", user_id=2)))


def test_erasure_and_retention_remove_call_recordings(database: Database, tmp_path: Path) -> None:
    privacy = PrivacyService(database, recordings_dir=tmp_path, policy=RetentionPolicy(recordings_days=30))
    old, old_file = _recorded(database, tmp_path, days_old=40)
    new, new_file = _recorded(database, tmp_path)
    dry = asyncio.run(privacy.apply_retention(dry_run=True))
    assert dry["call_recordings"] == 1 and old_file.exists()
    done = asyncio.run(privacy.apply_retention())
    assert done["call_recordings"] == 1 and not old_file.exists() and new_file.exists()
    with database.sessions() as s:
        assert [r.id for r in s.scalars(select(CallRecording))] == [new]
    erased = asyncio.run(privacy.erase(PHONE, actor=Actor.cli()))
    assert erased["call_recordings"] == 1 and not new_file.exists()
    with database.sessions() as s:
        assert s.scalars(select(CallRecording)).all() == []
    assert old != new
