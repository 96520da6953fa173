"""Who a campaign would reach, counted without creating it: the people its selection chooses (one target
each, as :func:`dialer.campaigns.create_campaign` makes them), their committees, how many of them the calling
rules (:func:`dialer.rules.check`, as the dialer applies them) would hold back and why, when calls could
begin, and a sample member per booth status for previews of the scripts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.campaigns import Attempt
from db.models import Committee, Person, Unit, UnitKind
from dialer.campaigns import Selection, booth_status_expr, one_per_person, target_query
from dialer.rules import CallingRules, Facts, check, day_start, next_window_start
from dialer.store import AcIndex

BATCH = 5000
STATUSES = ("strong", "weak", "swing", "unknown")


def calls_from(now: datetime, rules: CallingRules, starts_at: datetime | None) -> datetime:
    """The first moment the campaign may call: its start (or now), moved to the next opening of the window."""
    begin = max(now, starts_at) if starts_at is not None else now
    return next_window_start(begin, rules)


def reach(session: Session, selection: Selection, rules: CallingRules, now: datetime, *,
          starts_at: datetime | None = None, ends_at: datetime | None = None) -> dict[str, Any]:
    """The counts a new campaign would start with. Rules that hold everyone alike (the schedule, the window)
    are given as ``calls_from``; each person is then judged at that moment by the others (opted out, marked
    wrong number, no phone, silence period, called too recently, daily cap)."""
    begin = calls_from(now, rules, starts_at)
    chosen = list(one_per_person(session.execute(target_query(selection))))
    booths = {b for _p, _c, b in chosen if b is not None}
    statuses: dict[int, str] = dict(session.execute(select(Unit.id, booth_status_expr()).where(
        Unit.kind == UnitKind.booth, Unit.id.in_(booths))).all()) if booths else {}
    acs = AcIndex()
    acs.load(session)
    since = day_start(begin, rules)
    history = {pid: (int(n or 0), last) for pid, n, last in session.execute(
        select(Attempt.person_id, func.count().filter(Attempt.created_at >= since), func.max(Attempt.created_at))
        .where(Attempt.person_id.is_not(None), Attempt.created_at >= begin - timedelta(days=1))
        .group_by(Attempt.person_id))}
    held: Counter[str] = Counter()
    example: dict[str, str] = {}
    by_status: Counter[str] = Counter()
    samples: dict[str, int] = {}
    for batch in _batches(iter(chosen)):
        people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([r[0] for r in batch])))}
        others = {c for _p, c, b in batch if b is None}
        units = dict(session.execute(select(Committee.id, Committee.unit_id).where(
            Committee.id.in_(others))).all()) if others else {}
        for person_id, committee_id, booth_id in batch:
            person = people[person_id]
            status = str(statuses.get(booth_id, "unknown")) if booth_id is not None else "unknown"
            by_status[status] += 1
            samples.setdefault(status, person_id)
            n_today, last = history.get(person_id, (0, None))
            verdict = check(Facts(dnd=person.dnd, status=person.status.value, phone=person.dial_phone(),
                                  poll_end_at=acs.poll_end(booth_id or units.get(committee_id)),
                                  last_call_at=last, attempts_today=n_today), begin, rules)
            if not verdict.allowed and verdict.rule is not None:
                held[verdict.rule] += 1
                example.setdefault(verdict.rule, verdict.reason)
    ended = ends_at is not None and begin >= ends_at
    return {"people": len(chosen), "committees": len({c for _p, c, _b in chosen}),
            "held_back": sum(held.values()),
            "reasons": [{"rule": rule, "count": n, "reason": example[rule]} for rule, n in held.most_common()],
            "calls_from": None if begin <= now else begin.isoformat(), "ends_before_calling": ended,
            "by_status": {s: by_status.get(s, 0) for s in STATUSES}, "samples": samples}


def _batches(rows: Iterator[tuple[int, int, int | None]]) -> Iterator[list[tuple[int, int, int | None]]]:
    while batch := list(islice(rows, BATCH)):
        yield batch
