"""Call-back tasks for operators: an answered campaign call abandoned (no operator in time) becomes a task
to call the person back by hand; it is never redialed blind. Run inside ``Database.run``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound
from db.callbacks import CallbackState, CallbackTask
from db.campaigns import Attempt
from db.models import utcnow


def open_task(session: Session, attempt_id: int, reason: str) -> int | None:
    """A task for the person of ``attempt_id`` (one per attempt: a second call returns the first task)."""
    existing = session.scalar(select(CallbackTask.id).where(CallbackTask.attempt_id == attempt_id))
    if existing is not None:
        return existing
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    task = CallbackTask(campaign_id=attempt.campaign_id, attempt_id=attempt.id, person_id=attempt.person_id,
                        phone=attempt.phone, reason=reason, state=CallbackState.open)
    session.add(task)
    session.flush()
    return task.id


def as_row(task: CallbackTask) -> dict[str, Any]:
    return {"id": task.id, "campaign_id": task.campaign_id, "attempt_id": task.attempt_id,
            "person_id": task.person_id, "phone": task.phone, "reason": task.reason, "state": task.state.value,
            "created_at": task.created_at.isoformat(), "done_by": task.done_by, "notes": task.notes,
            "done_at": task.done_at.isoformat() if task.done_at else None}


def list_tasks(session: Session, state: CallbackState | None = CallbackState.open, campaign_id: int | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    query = select(CallbackTask).order_by(CallbackTask.created_at, CallbackTask.id).limit(limit)
    if state is not None:
        query = query.where(CallbackTask.state == state)
    if campaign_id is not None:
        query = query.where(CallbackTask.campaign_id == campaign_id)
    return [as_row(t) for t in session.scalars(query)]


def complete(session: Session, task_id: int, by: str, notes: str | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """An operator called the person back."""
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise NotFound(f"no call-back task {task_id}")
    if task.state is CallbackState.done:
        raise Conflict(f"call-back task {task_id} was done already by {task.done_by}")
    task.state, task.done_by, task.notes, task.done_at = CallbackState.done, by, notes, now or utcnow()
    return as_row(task)
