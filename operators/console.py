"""What an operator records about a call (disposition, notes, a time to call back), written back to the
directory like the dialer's outcomes: a wrong number marks that phone, an opt-out sets do-not-call, a
conversation verifies the contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.models import utcnow
from db.operators import CallDisposition, Disposition
from directory.outcomes import Outcome, apply_outcome

WRITE_BACK = {Disposition.reached: Outcome.completed, Disposition.wrong_number: Outcome.wrong_number,
              Disposition.opted_out: Outcome.opted_out}


class DispositionError(ValueError):
    pass


def record_disposition(session: Session, *, user_id: int, channel_id: str, person_id: int | None,
                       disposition: str, notes: str | None = None, callback_at: datetime | None = None,
                       phone: str | None = None, at: datetime | None = None) -> CallDisposition:
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
    session.flush()
    return row
