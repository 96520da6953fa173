"""Who a campaign would reach, counted without creating it: the people its selection chooses (one target
each, as :func:`dialer.campaigns.create_campaign` makes them), their committees, how many of them the calling
rules (:func:`dialer.rules.check`, as the dialer applies them) would hold back and why, when calls could
begin, and a sample member per booth status for previews of the scripts. A poll-day or counting plan's round
is previewed with the plan's exemption for its own agents (:class:`PlanRound`), as the dialer calls them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.campaigns import Attempt
from db.models import Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, booth_status_expr, target_query
from dialer.rules import CallingRules, Facts, check, day_start, next_window_start, outside_hard_ban
from dialer.store import AcIndex, plan_call, post_key

BATCH = 5000
STATUSES = ("strong", "weak", "swing", "unknown")


@dataclass(frozen=True)
class PlanRound:
    """A round of a poll-day or counting plan, previewed: the plan's own agents (a post it calls, on a booth
    committee unless ``booths_only`` is off) are judged as the dialer judges the round's calls, with the
    plan's exemption (:class:`dialer.rules.PollDayCall`: inside the silence period, before the calling
    window, past the daily cap; never 22:00-06:00)."""

    posts: tuple[str, ...]
    plan_script: bool = True
    booths_only: bool = True


def calls_from(now: datetime, rules: CallingRules, starts_at: datetime | None, *, plan: bool = False) -> datetime:
    """The first moment the campaign may call: its start (or now), moved to the next opening of the window
    (for a plan's round, only out of the 22:00-06:00 ban)."""
    begin = max(now, starts_at) if starts_at is not None else now
    return outside_hard_ban(begin, rules) if plan else next_window_start(begin, rules)


def reach(session: Session, selection: Selection, rules: CallingRules, now: datetime, *,
          starts_at: datetime | None = None, ends_at: datetime | None = None,
          plan: PlanRound | None = None) -> dict[str, Any]:
    """The counts a new campaign would start with. Rules that hold everyone alike (the schedule, the window)
    are given as ``calls_from``; each person is then judged at that moment by the others (opted out, marked
    wrong number, no phone, silence period, called too recently, daily cap). A plan's round (``plan``) is
    judged with the plan's exemption for its own agents, as the dialer does: they are not held by the
    silence period, the calling window or the daily cap."""
    begin = calls_from(now, rules, starts_at, plan=plan is not None)
    posts = {post_key(p) for p in plan.posts} if plan is not None else set()
    acs = AcIndex()
    acs.load(session)
    since = day_start(begin, rules)
    history = {pid: (int(n or 0), last) for pid, n, last in session.execute(
        select(Attempt.person_id, func.count().filter(Attempt.created_at >= since), func.max(Attempt.created_at))
        .where(Attempt.person_id.is_not(None), Attempt.created_at >= begin - timedelta(days=1))
        .group_by(Attempt.person_id))}
    # the facts ride along with the targets' own query: one pass, no list of ids sent back
    query = target_query(selection).add_columns(
        Unit.id, booth_status_expr(), Person.dnd, Person.status, Person.phone, Person.phone_invalid_at.is_(None),
        Person.alt_phone, Person.alt_phone_invalid_at.is_(None), Membership.post)
    held: Counter[str] = Counter()
    example: dict[str, str] = {}
    by_status: Counter[str] = Counter()
    samples: dict[str, int] = {}
    people, committees = 0, set()
    for row in deepest_per_person(session.execute(query).yield_per(BATCH)):
        person_id, committee_id, booth_id, _kind, unit_id, booth_status, dnd, member_status, phone, phone_ok, \
            alt, alt_ok, post = row
        people += 1
        committees.add(committee_id)
        status = str(booth_status) if booth_id is not None else "unknown"
        by_status[status] += 1
        samples.setdefault(status, person_id)
        n_today, last = history.get(person_id, (0, None))
        dialable = phone if phone_ok else alt if alt and alt_ok else None  # as Person.dial_phone
        own = plan_call(post, booth_id, posts, plan.plan_script, plan.booths_only) if plan is not None else None
        verdict = check(Facts(dnd=dnd, status=str(member_status), phone=dialable, poll_end_at=acs.poll_end(unit_id),
                              last_call_at=last, attempts_today=n_today, poll_day=own), begin, rules)
        if not verdict.allowed and verdict.rule is not None:
            held[verdict.rule] += 1
            example.setdefault(verdict.rule, verdict.reason)
    ended = ends_at is not None and begin >= ends_at
    return {"people": people, "committees": len(committees), "held_back": sum(held.values()),
            "reasons": [{"rule": rule, "count": n, "reason": example[rule]} for rule, n in held.most_common()],
            "calls_from": None if begin <= now else begin.isoformat(), "ends_before_calling": ended,
            "by_status": {s: by_status.get(s, 0) for s in STATUSES}, "samples": samples}


def deepest_per_person(rows: Iterable[Any]) -> Iterator[Any]:
    """Of each person's rows (in person order; the unit's kind fourth), the one
    :func:`dialer.campaigns.one_per_person` keeps: the first of the deepest committee."""
    current, depth = None, -1
    for row in rows:
        row_depth = UnitKind(row[3]).depth
        if current is not None and current[0] != row[0]:
            yield current
            current, depth = None, -1
        if current is None or row_depth > depth:
            current, depth = row, row_depth
    if current is not None:
        yield current
