"""Members' hotline PINs: caller ID can be spoofed, so the hotline reads a booth's internal instructions only to
a caller who also gives the member's PIN. The war room sets a PIN (``warroom people set-pin``, the person's
page) and tells the member; only its argon2 hash is kept. Wrong PINs in a row lock the PIN for a while, so a
spoofed caller cannot try all 10,000 four-digit PINs by calling again and again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from db.models import Person
from db.security import MemberPin

MIN_DIGITS, MAX_DIGITS = 4, 8
MAX_FAILURES = 5                   # wrong PINs in a row before the PIN is locked
LOCK = timedelta(minutes=30)
# hashing a 4-8 digit PIN slowly is no protection against an offline guess (10^4..10^8 tries); the lock is
# what protects it on the phone. A light argon2 keeps a hotline call's check well under a second.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a PIN (None when it can): 4 to 8 keypad digits, not all one digit nor a run."""
    if not (pin.isascii() and pin.isdigit()):
        return "a PIN is digits only (0-9)"
    if not MIN_DIGITS <= len(pin) <= MAX_DIGITS:
        return f"a PIN has {MIN_DIGITS} to {MAX_DIGITS} digits"
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return "a PIN must not be one digit repeated nor a run (1234): too easy to guess"
    return None


def generate_pin(digits: int = 4) -> str:
    """A random PIN that passes :func:`pin_problem`."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(digits))
        if pin_problem(pin) is None:
            return pin


@dataclass(frozen=True)
class PinCheck:
    """The outcome of a PIN given on the phone: ``ok``, or why not (wrong, locked, none set)."""

    ok: bool
    why: str = ""  # "", "wrong", "locked", "no_pin"


def set_pin(session: Session, person_id: int, pin: str, *, by: str | None, at: datetime) -> MemberPin:
    """Give the member ``pin`` (replacing any; a lock is lifted), in the caller's transaction."""
    problem = pin_problem(pin)
    if problem:
        raise Invalid(problem, field="pin")
    if session.get(Person, person_id) is None:
        raise NotFound(f"no person with id {person_id}")
    row = session.get(MemberPin, person_id) or MemberPin(person_id=person_id)
    row.pin_hash, row.set_by, row.set_at = _HASHER.hash(pin), (by or "")[:100] or None, at
    row.failures, row.locked_until = 0, None
    session.add(row)
    session.flush()
    return row


def clear_pin(session: Session, person_id: int) -> bool:
    """Remove the member's PIN; False when they had none."""
    row = session.get(MemberPin, person_id)
    if row is None:
        return False
    session.delete(row)
    return True


def has_pin(session: Session, person_id: int | None) -> bool:
    return person_id is not None and session.get(MemberPin, person_id) is not None


def check_pin(session: Session, person_id: int, digits: str, at: datetime) -> PinCheck:
    """Check a PIN typed on the hotline, counting a wrong one (in the caller's transaction: commit even when
    it is wrong). A locked PIN is not even compared."""
    row = session.get(MemberPin, person_id)
    if row is None:
        return PinCheck(False, "no_pin")
    if row.locked_until is not None and at < row.locked_until:
        return PinCheck(False, "locked")
    try:
        good = bool(digits) and _HASHER.verify(row.pin_hash, digits)
    except (VerificationError, InvalidHashError):
        good = False
    if good:
        row.failures, row.locked_until, row.verified_at = 0, None, at
        return PinCheck(True)
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.failures, row.locked_until = 0, at + LOCK
        return PinCheck(False, "locked")
    return PinCheck(False, "wrong")
