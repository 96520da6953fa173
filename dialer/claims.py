"""Claims: a node takes due targets in one transaction that no other node can also take.

One claim per scheduling pass and campaign, sized to the node's free lines: the due targets are locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer and one node), each person too (an advisory
lock), the calling rules are judged on facts read after the locks, and each attempt is written with the
node that dials it. A unique index on live attempts per phone makes "never two calls to one phone at once"
hold in the database itself, whichever node dials.

A node that dies leaves attempts open: once its lease has run out, any live node takes them over. An
answered one counts as answered (never dialed again); the others fail and are retried by the policy, but
not before the dead node's Asterisk has surely dropped the call (every call carries an absolute timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cluster.nodes import expired
from db.campaigns import Attempt, AttemptState, Campaign, Disposition, Target, TargetState
from dialer.rules import CallingRules, Facts, check
from dialer.store import STOPPED, AcIndex, Due, Launch, due_targets, finish_attempt, hold_back

log = logging.getLogger(__name__)
Ids = Callable[[], tuple[str, str]]  # a fresh (channel id, action id)


@dataclass
class Claim:
    launches: list[Launch] = field(default_factory=list)
    held_back: int = 0
    looked_at: int = 0
    facts: dict[int, Facts] = field(default_factory=dict)  # attempt id -> what the rules were judged on


def claim(session: Session, campaign_id: int, now: datetime, limit: int, rules: CallingRules, acs: AcIndex,
          node: str, trunk: str, busy: set[str], ids: Ids) -> Claim:
    """Take up to ``limit`` due targets of the campaign for ``node``: attempts written as ``dialing``
    (committed before any Originate), targets held back by a rule marked with why. A few statements
    whatever the batch's size: one insert for the attempts (a phone live elsewhere is skipped by the
    database), one update for their targets."""
    out = Claim()
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: take its one write lock first, so claims (from any thread) run one after
        # another and each reads what the one before it wrote
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(id=Campaign.id))
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.state in STOPPED or limit <= 0:
        return out  # paused or stopped since the pass read it: no new attempt
    due = due_targets(session, campaign, now, limit * 2, rules, acs, busy, claim=True)
    out.looked_at = len(due)
    chosen: dict[str, Due] = {}
    for item in due:
        if len(chosen) >= limit:
            break
        verdict = check(item.facts, now, rules)
        if not verdict.allowed:
            hold_back(session, item.target_id, verdict)
            out.held_back += 1
        elif item.phone is not None and item.phone not in chosen:  # two targets of one phone: one waits
            chosen[item.phone] = item
    if not chosen:
        return out
    wanted = {ids(): item for item in chosen.values()}  # (channel id, action id) -> the target's facts
    rows = [{"channel_id": channel_id, "action_id": action_id, "campaign_id": campaign_id, "target_id": item.target_id,
             "person_id": item.person_id, "phone": item.phone, "trunk": trunk, "node": node,
             "state": AttemptState.dialing, "created_at": now} for (channel_id, action_id), item in wanted.items()]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    written = dict(session.execute(insert(Attempt).values(rows).on_conflict_do_nothing()
                                   .returning(Attempt.channel_id, Attempt.id)).all())
    launched = [(written[channel_id], channel_id, action_id, item) for (channel_id, action_id), item in wanted.items()
                if channel_id in written]
    if launched:
        session.execute(update(Target).where(Target.id.in_([item.target_id for *_, item in launched])).values(
            state=TargetState.dialing, tries=Target.tries + 1, blocked_rule=None, blocked_by=None))
    for attempt_id, channel_id, action_id, item in sorted(launched, key=lambda x: x[0]):
        assert item.phone is not None
        out.launches.append(Launch(attempt_id, item.target_id, campaign_id, item.person_id, item.phone, channel_id,
                                   action_id))
        out.facts[attempt_id] = item.facts
    return out


def give_back(session: Session, attempt_ids: list[int]) -> int:
    """Undo the claim of attempts that were never dialed (the hopper's, :mod:`dialer.hopper`): each attempt
    row deleted and its target queued again with the try it had taken back, as if never claimed. An attempt
    no longer ``dialing`` is left alone. Returns how many were given back."""
    if not attempt_ids:
        return 0
    rows = session.execute(select(Attempt.id, Attempt.target_id).where(
        Attempt.id.in_(attempt_ids), Attempt.state == AttemptState.dialing).with_for_update()).all()
    if not rows:
        return 0
    session.execute(delete(Attempt).where(Attempt.id.in_([aid for aid, _ in rows])))
    targets = [tid for _, tid in rows if tid is not None]
    if targets:
        session.execute(update(Target).where(Target.id.in_(targets), Target.state == TargetState.dialing).values(
            state=TargetState.queued, tries=Target.tries - 1))
    return len(rows)


def take_over(session: Session, now: datetime, lease: float, max_call_seconds: float,
              nodes: list[str] | None = None, alive: str | None = None) -> int:
    """Settle the open attempts of nodes whose lease ran out (or of ``nodes``): answered ones as answered,
    the others failed and retried no sooner than the dead node's Asterisk has dropped the call. Returns how
    many were settled. ``alive``: the node asking, never taken for dead (its own heartbeat late behind a
    slow database does not make its live calls lost; it settles them from its Asterisk)."""
    gone = nodes if nodes is not None else [n for n in expired(session, now, lease) if n != alive]
    if not gone:
        return 0
    query = (select(Attempt).where(Attempt.state != AttemptState.ended, Attempt.node.in_(gone))
             .with_for_update(skip_locked=True))
    settled = 0
    for attempt in session.scalars(query).all():
        answered = attempt.answered_at is not None
        why = f"node {attempt.node} lost the call (its lease ran out)"
        finish_attempt(session, attempt.id, disposition=Disposition.answered if answered else Disposition.failed,
                       cause=None, answered_at=attempt.answered_at, ended_at=now, talk_seconds=None,
                       detail=why, now=now)
        target = session.get(Target, attempt.target_id) if attempt.target_id else None
        if target is not None and target.state is TargetState.queued:
            safe = attempt.created_at + timedelta(seconds=max_call_seconds)
            target.next_at = max(target.next_at or now, safe)
        settled += 1
    if settled:
        log.warning("took over %d open attempts of nodes %s (lease ran out)", settled, ", ".join(gone))
    return settled

