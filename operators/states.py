"""Operator states: which changes are allowed (a pure rule, property-tested) and the database work that
records them. An operator whose softphone is not registered cannot be ready; the longest-ready operator
gets the next call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict
from db.models import utcnow
from db.operators import OperatorState as S
from db.operators import OperatorStateChange, OperatorStatus
from db.users import Role, User

# who may ask for a change: the operator from the console, or the system (calls, timers)
BY_OPERATOR: dict[S, set[S]] = {
    S.signed_out: {S.ready, S.paused},
    S.ready: {S.paused, S.signed_out},
    S.on_call: set(),                     # a call ends by hanging up, not from the console
    S.wrap_up: {S.ready, S.paused, S.signed_out},
    S.paused: {S.ready, S.signed_out},
}
BY_SYSTEM: dict[S, set[S]] = {
    S.ready: {S.on_call},
    # after the call; back to ready when the caller left before the operator answered; paused when the
    # operator let it ring out (so the queue does not keep offering calls to an empty desk)
    S.on_call: {S.wrap_up, S.ready, S.paused},
    S.wrap_up: {S.ready},                 # the wrap-up time is over
    S.signed_out: set(), S.paused: set(),
}


class OperatorError(Conflict):
    """A state change that is not allowed now; the message says why."""


def check_change(current: S, to: S, *, by_system: bool, registered: bool, reason: str | None) -> None:
    """Raise :class:`OperatorError` unless ``current -> to`` is allowed."""
    allowed = (BY_SYSTEM if by_system else BY_OPERATOR)[current]
    if to not in allowed:
        who = "the system" if by_system else "an operator"
        raise OperatorError(f"{who} cannot go from {current.value} to {to.value}")
    if to is S.ready and not registered:
        raise OperatorError("the softphone is not registered: start it (the settings are on your page), "
                            "then go ready")
    if to is S.paused and not (reason or "").strip():
        raise OperatorError("say why you pause (break, meeting, training...)")


def status_of(session: Session, user_id: int) -> OperatorStatus:
    """The operator's state row, locked for this transaction (two nodes offering a call to one operator at
    once: the second sees the first's change and is refused)."""
    row = session.get(OperatorStatus, user_id, with_for_update=True)
    if row is None:
        row = OperatorStatus(user_id=user_id, state=S.signed_out, since=utcnow())
        session.add(row)
        session.flush()
    return row


def change(session: Session, user_id: int, to: S, *, by_system: bool = False, registered: bool = True,
           reason: str | None = None, channel_id: str | None = None, wrap_seconds: float = 0,
           at: datetime | None = None) -> OperatorStatus:
    """Move an operator to ``to`` (checked), recording the change."""
    user = session.get(User, user_id)
    if user is None or user.disabled:
        raise OperatorError(f"no enabled user {user_id}")
    if user.role is not Role.operator and to is not S.signed_out:
        raise OperatorError(f"{user.username} is not an operator")
    row = status_of(session, user_id)
    check_change(row.state, to, by_system=by_system, registered=registered, reason=reason)
    now = at or utcnow()
    session.add(OperatorStateChange(user_id=user_id, from_state=row.state, to_state=to,
                                    reason=reason if to is S.paused else None, at=now))
    row.state, row.since = to, now
    row.reason = reason.strip() if to is S.paused and reason else None
    row.channel_id = channel_id if to is S.on_call else (row.channel_id if to is S.wrap_up else None)
    row.wrap_until = now + timedelta(seconds=wrap_seconds) if to is S.wrap_up else None
    return row


def longest_ready(session: Session, exclude: Sequence[int] = ()) -> int | None:
    """The operator who has been ready the longest (the next call is theirs), whichever node their softphone
    is registered to."""
    q = (select(OperatorStatus.user_id).join(User, User.id == OperatorStatus.user_id)
         .where(OperatorStatus.state == S.ready, User.disabled.is_(False))
         .order_by(OperatorStatus.since, OperatorStatus.user_id))
    if exclude:
        q = q.where(OperatorStatus.user_id.not_in(list(exclude)))
    return session.scalars(q.limit(1)).first()


def wrap_ups_over(session: Session, now: datetime) -> list[int]:
    """Operators whose wrap-up time is over (the service makes them ready again)."""
    return list(session.scalars(select(OperatorStatus.user_id).where(
        OperatorStatus.state == S.wrap_up, OperatorStatus.wrap_until <= now)))


def operators_board(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every operator with their state and how long they have been in it (for supervisors)."""
    now = now or utcnow()
    rows = session.execute(select(User, OperatorStatus).outerjoin(OperatorStatus, OperatorStatus.user_id == User.id)
                           .where(User.role == Role.operator, User.disabled.is_(False))
                           .order_by(User.username)).all()
    return [{"id": u.id, "username": u.username, "name": u.display_name,
             "state": (st.state if st else S.signed_out).value, "reason": st.reason if st else None,
             "seconds": int((now - st.since).total_seconds()) if st else None} for u, st in rows]
