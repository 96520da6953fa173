"""Operators' occupancy and wait between calls over a period, from their recorded state changes.

Occupancy: time on a call or in wrap-up over the time signed in (ready, on a call, wrap-up, paused).
Wait between calls: time ready per call taken (ready -> on a call). Run inside ``Database.run``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.operators import OperatorState as S
from db.operators import OperatorStateChange

WORKING = (S.on_call, S.wrap_up)


def time_in_states(changes: list[tuple[int, S, S, datetime]], start: datetime, end: datetime,
                   state_at_start: dict[int, S]) -> tuple[dict[S, float], int]:
    """Seconds spent in each state by all operators within [start, end], and the calls taken then.
    ``changes``: (user, from, to, at) in time order, all within the period."""
    seconds: dict[S, float] = defaultdict(float)
    current = dict(state_at_start)
    since = {user: start for user in current}
    calls = 0
    for user, _from, to, at in changes:
        state = current.get(user, S.signed_out)
        seconds[state] += (at - since.get(user, start)).total_seconds()
        if state is S.ready and to is S.on_call:
            calls += 1
        current[user], since[user] = to, at
    for user, state in current.items():
        seconds[state] += (end - since.get(user, start)).total_seconds()
    return dict(seconds), calls


def occupancy(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Occupancy and wait between calls of all operators over [start, end]."""
    c = OperatorStateChange
    last = select(c.user_id, func.max(c.id).label("id")).where(c.at < start).group_by(c.user_id).subquery()
    before = {user: to for user, to in session.execute(select(c.user_id, c.to_state).join(last, c.id == last.c.id))}
    changes = [(u, f, t, a) for u, f, t, a in session.execute(
        select(OperatorStateChange.user_id, OperatorStateChange.from_state, OperatorStateChange.to_state,
               OperatorStateChange.at).where(OperatorStateChange.at >= start, OperatorStateChange.at <= end)
        .order_by(OperatorStateChange.at, OperatorStateChange.id))]
    seconds, calls = time_in_states(changes, start, end, before)
    signed_in = sum(v for k, v in seconds.items() if k is not S.signed_out)
    busy = sum(seconds.get(k, 0.0) for k in WORKING)
    ready = seconds.get(S.ready, 0.0)
    return {"occupancy": round(busy / signed_in, 3) if signed_in else None,
            "wait_between_calls": round(ready / calls, 1) if calls else None, "calls": calls,
            "signed_in_seconds": round(signed_in)}
