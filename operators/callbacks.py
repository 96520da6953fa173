"""Call-back tasks for operators: an answered campaign call abandoned (no operator in time) becomes a task
to call the person back by hand; it is never redialed blind. Run inside ``Database.run``.

On the console an operator sees the open tasks and the ones they took (:func:`for_operator`), takes one
(:func:`take`: one operator only, at once in the database), then closes it with the call's outcome
(:func:`close`): written back like a console disposition (a wrong number marks that phone, an opt-out sets
do-not-call, a call back at a time requeues the campaign's target for then). The number is masked in the
list, as on every operator screen; the operator who took the task sees it whole, since they dial it by hand
(their softphone dials nothing on its own: calls reach operators from the queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from db.callbacks import CallbackState, CallbackTask
from db.campaigns import Attempt, Campaign
from db.models import Person, utcnow
from db.operators import Disposition
from operators.dispositions import record_disposition
from operators.screen import mask

NO_ANSWER = "no_answer"  # an outcome of a call back only: nobody picked up (no disposition recorded)
# the outcomes a call back may end with: reached or settled -> done; the person not reached -> failed
OUTCOMES: dict[str, CallbackState] = {
    Disposition.reached.value: CallbackState.done, Disposition.wrong_number.value: CallbackState.done,
    Disposition.opted_out.value: CallbackState.done, Disposition.call_back.value: CallbackState.done,
    Disposition.not_available.value: CallbackState.failed, NO_ANSWER: CallbackState.failed}
CLOSED = (CallbackState.done, CallbackState.failed)


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


def for_operator(session: Session, username: str, limit: int = 100) -> list[dict[str, Any]]:
    """What the operator's console lists: the tasks they took first, then the open ones, oldest first; each
    with the person's name, the campaign's, when the call was abandoned and why. The number is masked
    unless this operator took the task."""
    query = (select(CallbackTask, Person.name, Campaign.name)
             .outerjoin(Person, Person.id == CallbackTask.person_id)
             .outerjoin(Campaign, Campaign.id == CallbackTask.campaign_id)
             .where(or_(CallbackTask.state == CallbackState.open,
                        (CallbackTask.state == CallbackState.taken) & (CallbackTask.done_by == username)))
             .order_by((CallbackTask.state == CallbackState.open), CallbackTask.created_at, CallbackTask.id)
             .limit(limit))
    out = []
    for task, person, campaign in session.execute(query):
        mine = task.state is CallbackState.taken
        out.append({"id": task.id, "state": task.state.value, "mine": mine, "person": person,
                    "phone": task.phone if mine else mask(task.phone), "campaign": campaign,
                    "campaign_id": task.campaign_id, "abandoned_at": task.created_at.isoformat(),
                    "reason": task.reason})
    return out


def _task(session: Session, task_id: int) -> CallbackTask:
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise NotFound(f"no call-back task {task_id}")
    return task


def take(session: Session, task_id: int, username: str) -> dict[str, Any]:
    """``username`` takes an open task: nobody else may take or close it now. One conditional update, so of
    two operators taking the same task at once exactly one gets it; taking one's own task again is a no-op."""
    got = session.execute(update(CallbackTask)
                          .where(CallbackTask.id == task_id, CallbackTask.state == CallbackState.open)
                          .values(state=CallbackState.taken, done_by=username)
                          .execution_options(synchronize_session=False))
    task = _task(session, task_id)
    session.refresh(task)
    mine = task.state is CallbackState.taken and task.done_by == username
    if int(getattr(got, "rowcount", 0) or 0) != 1 and not mine:
        raise Conflict(f"call-back task {task_id} is {task.state.value} already"
                       + (f" by {task.done_by}" if task.done_by else ""))
    return as_row(task)


def release(session: Session, task_id: int, username: str) -> dict[str, Any]:
    """Give a taken task back (the operator cannot call now); only its taker may."""
    task = _task(session, task_id)
    if task.state is not CallbackState.taken or task.done_by != username:
        raise Conflict(f"call-back task {task_id} is not yours to give back")
    task.state, task.done_by = CallbackState.open, None
    session.flush()
    return as_row(task)


def close(session: Session, task_id: int, *, user_id: int, username: str, outcome: str, notes: str | None = None,
          callback_at: datetime | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The operator called the person back: ``outcome`` is a console disposition (reached, wrong number, call
    back at ``callback_at``, opted out, not available) or ``no_answer``. The task must be open (taken now) or
    taken by this operator. The disposition is recorded on the abandoned call's channel and written back."""
    state = OUTCOMES.get(outcome)
    if state is None:
        raise Invalid(f"unknown outcome '{outcome}' (one of {', '.join(OUTCOMES)})")
    now = now or utcnow()
    task = _task(session, task_id)
    if task.state in CLOSED:
        raise Conflict(f"call-back task {task_id} was closed already by {task.done_by}")
    if task.state is CallbackState.taken and task.done_by != username:
        raise Conflict(f"call-back task {task_id} is taken by {task.done_by}")
    if outcome != NO_ANSWER:
        channel = session.scalar(select(Attempt.channel_id).where(Attempt.id == task.attempt_id)) \
            if task.attempt_id else None
        record_disposition(session, user_id=user_id, channel_id=channel or f"callback-{task.id}",
                           person_id=task.person_id, disposition=outcome, notes=notes, callback_at=callback_at,
                           phone=task.phone, attempt_id=task.attempt_id, at=now)
    task.state, task.done_by, task.done_at = state, username, now
    task.notes = (notes or "").strip()[:2000] or None
    session.flush()
    return {**as_row(task), "outcome": outcome}


def complete(session: Session, task_id: int, by: str, notes: str | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """Someone called the person back (the API's plain "done", no outcome written back)."""
    task = _task(session, task_id)
    if task.state in CLOSED:
        raise Conflict(f"call-back task {task_id} was done already by {task.done_by}")
    if task.state is CallbackState.taken and task.done_by != by:
        raise Conflict(f"call-back task {task_id} is taken by {task.done_by}")
    task.state, task.done_by, task.notes, task.done_at = CallbackState.done, by, notes, now or utcnow()
    return as_row(task)
