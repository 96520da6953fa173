"""Call outcomes written back to the directory (the dialer -> directory direction).

- a wrong number marks that phone invalid; the alternate is used from then on; with no usable phone
  left the person becomes ``wrong_number``;
- an opt-out (IVR key or operator note) sets DND with when and how, and status ``opted_out``;
- a completed call (the person answered and took part) sets ``verified_at``;
- repeated failure to reach someone can mark them ``unreachable`` (the dialer decides when).
Every change is recorded in the change feed in the same transaction, so the dialer's queue follows.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.orm import Session

from db.models import MemberStatus, Person, utcnow
from directory.changes import record_change


class Outcome(enum.StrEnum):
    completed = "completed"
    wrong_number = "wrong_number"
    opted_out = "opted_out"
    unreachable = "unreachable"


class UnknownPerson(LookupError):
    pass


def apply_outcome(session: Session, person_id: int, outcome: Outcome, *, phone: str | None = None,
                  source: str = "call", at: datetime | None = None) -> list[str]:
    """Apply one call outcome to the person (in the caller's transaction); return the fields changed.

    ``phone`` is the number that was dialed (E.164): a wrong number invalidates that one only.
    """
    person = session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise UnknownPerson(f"no person with id {person_id}")
    when = at or utcnow()
    changed: list[str] = []
    if outcome is Outcome.completed:
        person.verified_at = when
        changed.append("verified_at")
        if person.status in (MemberStatus.unreachable,):
            person.status = MemberStatus.active
            changed.append("status")
    elif outcome is Outcome.wrong_number:
        dialed = phone or person.dial_phone()
        if dialed == person.phone and person.phone_invalid_at is None:
            person.phone_invalid_at = when
            changed.append("phone_invalid_at")
        elif dialed is not None and dialed == person.alt_phone and person.alt_phone_invalid_at is None:
            person.alt_phone_invalid_at = when
            changed.append("alt_phone_invalid_at")
        if person.dial_phone() is None and person.status != MemberStatus.wrong_number:
            person.status = MemberStatus.wrong_number
            changed.append("status")
    elif outcome is Outcome.opted_out:
        if not person.dnd:
            person.dnd, person.dnd_at, person.dnd_source = True, when, source
            changed += ["dnd", "dnd_at", "dnd_source"]
        if person.status != MemberStatus.opted_out:
            person.status = MemberStatus.opted_out
            changed.append("status")
    elif outcome is Outcome.unreachable and person.status == MemberStatus.active:
        person.status = MemberStatus.unreachable
        changed.append("status")
    if changed:
        kind = {"opted_out": "dnd", "wrong_number": "phone"}.get(outcome.value, "updated")
        record_change(session, person.id, kind, outcome=outcome.value, fields=changed, source=source,
                      dial_phone=person.dial_phone(), status=person.status.value, dnd=person.dnd)
    return changed
