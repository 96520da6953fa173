"""What an operator records about a call (disposition, notes, a time to call back), written back to the
directory like the dialer's outcomes: a wrong number marks that phone, an opt-out sets do-not-call, a
conversation verifies the contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import Invalid
from db.campaigns import Attempt, Target, TargetState
from db.models import utcnow
from db.operators import CallDisposition, Disposition
from directory.outcomes import Outcome, apply_outcome

WRITE_BACK = {Disposition.reached: Outcome.completed, Disposition.wrong_number: Outcome.wrong_number,
              Disposition.opted_out: Outcome.opted_out}


class DispositionError(Invalid):
    """A disposition that cannot be recorded (unknown kind, a call back without a future time)."""


def record_disposition(session: Session, *, user_id: int, channel_id: str, person_id: int | None,
                       disposition: str, notes: str | None = None, callback_at: datetime | None = None,
                       phone: str | None = None, attempt_id: int | None = None,
                       at: datetime | None = None) -> CallDisposition:
    """Record the outcome; a call back on a campaign call puts its target back in the queue for that time
    (the dialer calls then, within the calling rules)."""
    try:
        kind = Disposition(disposition)
    except ValueError:
        raise DispositionError(f"unknown disposition '{disposition}' (one of "
                               f"{', '.join(d.value for d in Disposition)})") from None
    now = at or utcnow()
    if kind is Disposition.call_back and (callback_at is None or callback_at <= now):
        raise DispositionError("a call back needs a time in the future")
    row = CallDisposition(user_id=user_id, channel_id=channel_id, person_id=person_id, disposition=kind,
                          notes=(notes or "").strip()[:2000] or None,
                          callback_at=callback_at if kind is Disposition.call_back else None, created_at=now)
    session.add(row)
    if person_id is not None and kind in WRITE_BACK:
        apply_outcome(session, person_id, WRITE_BACK[kind], phone=phone, source="operator", at=now)
    if kind is Disposition.call_back and attempt_id is not None:
        target_id = session.scalar(select(Attempt.target_id).where(Attempt.id == attempt_id))
        if target_id is not None:
            session.execute(update(Target).where(Target.id == target_id).values(
                state=TargetState.queued, next_at=callback_at, blocked_rule=None,
                blocked_by=f"call back asked for {callback_at:%Y-%m-%d %H:%M} UTC"))
    session.flush()
    return row
