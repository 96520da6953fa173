"""The dialer's database work, as plain synchronous functions (the controller runs them in a thread).

One transaction each: pick due targets with the facts the rules need; write an attempt as ``dialing``
before its Originate; settle an ended attempt (disposition, retry policy, directory write-back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from db.campaigns import (
    Attempt,
    AttemptState,
    Campaign,
    CampaignMode,
    CampaignState,
    Disposition,
    Target,
    TargetState,
)
from db.ivr import IvrCall, QueueCall
from db.models import Committee, Membership, Person
from dialer.campaigns import DEFAULT_RETRY
from dialer.rules import CallingRules, Facts, PollDayCall, Verdict, day_start
from directory.outcomes import Outcome, apply_outcome
from directory.units import UnitTree

PERMANENT_RULES = {"dnd", "status", "no_phone"}


@dataclass(frozen=True)
class Due:
    """A target ready to be judged by the rules and, if allowed, dialed."""

    target_id: int
    campaign_id: int
    person_id: int
    phone: str | None
    facts: Facts


@dataclass(frozen=True)
class Launch:
    attempt_id: int
    target_id: int
    campaign_id: int
    person_id: int
    phone: str
    channel_id: str
    action_id: str


class AcIndex:
    """unit id -> its assembly constituency's close of poll, from the directory's unit tree (loaded once)."""

    def __init__(self) -> None:
        self._tree = UnitTree()

    def load(self, session: Session) -> None:
        self._tree = UnitTree.load(session)

    def poll_end(self, unit_id: int | None) -> datetime | None:
        ac = self._tree.ac_of(unit_id)
        return ac.poll_end_at if ac is not None else None


def running_campaigns(session: Session) -> Sequence[Campaign]:
    return session.scalars(select(Campaign).where(Campaign.state == CampaignState.running)
                           .order_by(Campaign.priority.desc(), Campaign.id)).all()


def phone_for(target: Target, person: Person) -> str | None:
    """The target's phone: the alternate once the primary failed (and it is usable), else the person's."""
    if target.use_alternate and person.alt_phone and person.alt_phone_invalid_at is None:
        return person.alt_phone
    return person.dial_phone()


PERSON_LOCK = 7215  # the advisory-lock class of "this person is being claimed" (PostgreSQL)


def due_targets(session: Session, campaign: Campaign, now: datetime, limit: int, rules: CallingRules,
                acs: AcIndex, phones_in_call: set[str], *, claim: bool = False) -> list[Due]:
    """Up to ``limit`` queued targets due now, each with the facts for the rules.

    With ``claim`` (in the claiming transaction, see :mod:`dialer.claims`) on PostgreSQL, the targets are
    locked (``FOR UPDATE SKIP LOCKED``: another node takes others) and so is each person (an advisory lock:
    a person another node is claiming now is left for the next pass); the facts are read after the locks,
    and a phone another node is calling counts as busy."""
    query = (select(Target, Person, Committee.unit_id).join(Person, Person.id == Target.person_id)
             .outerjoin(Committee, Committee.id == Target.committee_id)
             .where(Target.campaign_id == campaign.id, Target.state == TargetState.queued,
                    or_(Target.next_at.is_(None), Target.next_at <= now))
             .order_by(Target.next_at.is_not(None), Target.next_at, Target.id).limit(limit))
    postgres = claim and session.get_bind().dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True, of=Target)
    rows = session.execute(query).all()
    if postgres and rows:  # one round trip: the people this transaction could lock
        ids = sorted({p.id for _, p, _ in rows})
        locked = set(session.scalars(text("SELECT id FROM unnest(CAST(:ids AS integer[])) AS id "
                                          "WHERE pg_try_advisory_xact_lock(:cls, id)"),
                                     {"ids": ids, "cls": PERSON_LOCK}))
        rows = [r for r in rows if r[1].id in locked]
    if not rows:
        return []
    person_ids = [p.id for _, p, _ in rows]
    if claim:
        phones = [phone_for(t, p) for t, p, _ in rows]
        phones_in_call = phones_in_call | set(session.scalars(select(Attempt.phone).where(
            Attempt.state != AttemptState.ended, Attempt.phone.in_([x for x in phones if x]))))
    poll_day = _poll_day_calls(session, campaign, [t for t, _, _ in rows]) if is_plan_round(campaign) else {}
    since = day_start(now, rules)
    history = {pid: (n, last) for pid, n, last in session.execute(
        select(Attempt.person_id, func.count().filter(Attempt.created_at >= since), func.max(Attempt.created_at))
        .where(Attempt.person_id.in_(person_ids), Attempt.created_at >= now - timedelta(days=1))
        .group_by(Attempt.person_id))}
    out = []
    for target, person, unit_id in rows:
        phone = phone_for(target, person)
        n_today, last = history.get(person.id, (0, None))
        facts = Facts(dnd=person.dnd, status=person.status.value, phone=phone,
                      poll_end_at=acs.poll_end(target.booth_id or unit_id), starts_at=campaign.starts_at,
                      ends_at=campaign.ends_at, phone_in_call=phone in phones_in_call,
                      last_call_at=last, attempts_today=int(n_today or 0), poll_day=poll_day.get(target.id))
        out.append(Due(target.id, campaign.id, person.id, phone, facts))
    return out


def post_key(post: str | None) -> str:
    return "".join(ch for ch in (post or "").lower() if ch.isalnum())


def is_plan_round(campaign: Campaign) -> bool:
    """A round of a poll-day plan (turnout) or of a counting plan, which the rules judge as the plan's call."""
    rules = campaign.rules or {}
    return bool(rules.get("poll_plan") or rules.get("count_plan"))


def _poll_day_calls(session: Session, campaign: Campaign, targets: Sequence[Target]) -> dict[int, PollDayCall]:
    """A plan round's targets as the rules see them: the plan's own agent holds a post the plan calls, on a
    booth committee for a poll-day plan (booth agents), on any committee of the AC for a counting plan
    (counting agents, by table); the scripts are the plan's when every script the round plays is one of them."""
    posts = {post_key(p) for p in campaign.selection.get("posts", [])}
    allowed = set(campaign.rules.get("poll_scripts", []))
    plan_script = bool(campaign.scripts) and set(campaign.scripts.values()) <= allowed
    booths_only = not campaign.rules.get("count_plan")
    committees = {t.committee_id for t in targets if t.committee_id is not None}
    held: dict[tuple[int, int | None], str] = {(pid, cid): post for pid, cid, post in session.execute(
        select(Membership.person_id, Membership.committee_id, Membership.post)
        .where(Membership.committee_id.in_(committees)))} if committees else {}
    return {t.id: plan_call(held.get((t.person_id, t.committee_id)), t.booth_id, posts, plan_script, booths_only)
            for t in targets}


def plan_call(post: str | None, booth_id: int | None, posts: set[str], plan_script: bool,
              booths_only: bool) -> PollDayCall:
    """One target of a plan's round as the rules see it (``posts`` compared without case, spaces or dashes)."""
    return PollDayCall((booth_id is not None or not booths_only) and post_key(post) in posts, plan_script)


def hold_back(session: Session, target_id: int, verdict: Verdict) -> None:
    """Record why a target is not dialed now; permanent rules take it out of the campaign."""
    values: dict[str, Any] = {"blocked_rule": verdict.rule, "blocked_by": f"{verdict.rule}: {verdict.reason}"}
    if verdict.rule in PERMANENT_RULES:
        values["state"] = TargetState.removed
    else:
        values["next_at"] = verdict.retry_at
    session.execute(update(Target).where(Target.id == target_id).values(**values))


STOPPED = (CampaignState.paused, CampaignState.stopped, CampaignState.completed)


def begin_attempt(session: Session, due: Due, trunk: str, channel_id: str, action_id: str,
                  now: datetime) -> Launch | None:
    """Write the attempt as ``dialing`` (committed before the Originate is sent); None when the campaign was
    paused or stopped since this pass read it (a pause stops new attempts at once)."""
    assert due.phone is not None
    if session.scalar(select(Campaign.state).where(Campaign.id == due.campaign_id)) in STOPPED:
        return None
    attempt = Attempt(channel_id=channel_id, action_id=action_id, campaign_id=due.campaign_id,
                      target_id=due.target_id, person_id=due.person_id, phone=due.phone, trunk=trunk,
                      state=AttemptState.dialing, created_at=now)
    session.add(attempt)
    session.execute(update(Target).where(Target.id == due.target_id).values(
        state=TargetState.dialing, tries=Target.tries + 1, blocked_rule=None, blocked_by=None))
    session.flush()
    return Launch(attempt.id, due.target_id, due.campaign_id, due.person_id, due.phone, channel_id, action_id)


def mark_state(session: Session, attempt_id: int, state: AttemptState, answered_at: datetime | None) -> None:
    mark_states(session, {attempt_id: (state, answered_at)})


def mark_states(session: Session, states: dict[int, tuple[AttemptState, datetime | None]]) -> None:
    """Ringing / answered for many attempts in one statement (an attempt already ended is left alone)."""
    if not states:
        return
    session.execute(update(Attempt).where(Attempt.state != AttemptState.ended)
                    .execution_options(synchronize_session=None),
                    [{"id": aid, "state": st, "answered_at": ans} for aid, (st, ans) in states.items()])


def finish_attempts(session: Session, endings: list[dict[str, Any]]) -> list[bool]:
    """:func:`finish_attempt` for many attempts in one transaction (each a dict of its arguments)."""
    return [finish_attempt(session, **ending) for ending in endings]


def finish_attempt(session: Session, attempt_id: int, *, disposition: Disposition, cause: int | None,
                   sip_status: int | None = None,
                   answered_at: datetime | None, ended_at: datetime, talk_seconds: int | None,
                   detail: str, now: datetime, handled: bool = True, trunk_fault: bool = False) -> bool:
    """Settle one attempt exactly once; returns False if it was already ended (nothing changed).
    ``handled``: the answered call reached its handler (else the database is asked whether it did).
    ``trunk_fault``: it failed because its trunk was down; the target is dialed again (once a trunk is up)
    without using up a try."""
    attempt = session.get(Attempt, attempt_id, with_for_update=True)
    if attempt is None or attempt.state == AttemptState.ended:
        return False
    attempt.state, attempt.disposition, attempt.cause = AttemptState.ended, disposition, cause
    attempt.sip_status = sip_status
    attempt.answered_at, attempt.ended_at, attempt.talk_seconds = answered_at, ended_at, talk_seconds
    attempt.detail = detail[:500]
    target = session.get(Target, attempt.target_id) if attempt.target_id else None
    if target is None:
        return True
    campaign = session.get(Campaign, target.campaign_id)
    policy = (campaign.retry if campaign and campaign.retry else DEFAULT_RETRY)
    if (disposition is Disposition.answered and campaign is not None and not handled
            and not _handled(session, campaign, attempt.id)):
        # answered while our Stasis app could not see it, and gone before it was adopted: the person heard
        # nothing, so it counts as failed and the retry policy calls them again
        disposition = attempt.disposition = Disposition.failed
        attempt.detail = (attempt.detail + "; answered, but its script never started (ARI link down)")[:500]
    target.last_disposition = disposition.value
    tries_by = dict(target.tries_by or {})
    if disposition is Disposition.answered:
        target.state = TargetState.done
        if attempt.person_id:
            apply_outcome(session, attempt.person_id, Outcome.completed, source="dialer", at=ended_at)
        return True
    if disposition is Disposition.cancelled or trunk_fault:
        target.state, target.next_at = TargetState.queued, None
        return True
    if disposition is Disposition.invalid_number:
        if attempt.person_id:
            apply_outcome(session, attempt.person_id, Outcome.wrong_number, phone=attempt.phone, source="dialer",
                          at=ended_at)
        person = session.get(Person, attempt.person_id) if attempt.person_id else None
        usable = person is not None and campaign is not None and campaign.use_alternate and person.dial_phone()
        target.state = TargetState.queued if usable else TargetState.done
        target.next_at = now
        return True
    tries_by[disposition.value] = tries_by.get(disposition.value, 0) + 1
    target.tries_by = tries_by
    rule = policy.get(disposition.value, {"tries": 1, "after": 0})
    if tries_by[disposition.value] < int(rule.get("tries", 1)):
        target.state, target.next_at = TargetState.queued, now + timedelta(seconds=int(rule.get("after", 0)))
        return True
    person = session.get(Person, attempt.person_id) if attempt.person_id else None
    if (campaign is not None and campaign.use_alternate and not target.use_alternate and person is not None
            and person.alt_phone and person.alt_phone_invalid_at is None and person.alt_phone != attempt.phone):
        target.use_alternate, target.tries_by, target.state, target.next_at = True, {}, TargetState.queued, now
        return True
    target.state = TargetState.done
    return True


def _handled(session: Session, campaign: Campaign, attempt_id: int) -> bool:
    """Whether an answered call reached its handler: an IVR call opened, or a progressive call queued."""
    model = IvrCall if campaign.mode is CampaignMode.ivr else QueueCall
    return session.scalar(select(model.id).where(model.attempt_id == attempt_id).limit(1)) is not None


def open_attempts(session: Session, node: str | None = None) -> Sequence[Attempt]:
    """Attempts not yet ended (after a restart: to reconcile against Asterisk's live channels); with
    ``node``, only that node's (and those from before nodes were recorded)."""
    query = select(Attempt).where(Attempt.state != AttemptState.ended)
    if node is not None:
        query = query.where(or_(Attempt.node == node, Attempt.node.is_(None)))
    return session.scalars(query).all()


def finish_campaigns(session: Session, now: datetime) -> list[str]:
    """Running campaigns with nothing left to dial or in flight, or past their end, become completed."""
    done = []
    for campaign in running_campaigns(session):
        left = session.scalar(select(func.count()).select_from(Target).where(
            Target.campaign_id == campaign.id, Target.state.in_([TargetState.queued, TargetState.dialing])))
        ended = campaign.ends_at is not None and now >= campaign.ends_at
        if not left or (ended and not session.scalar(select(func.count()).select_from(Target).where(
                Target.campaign_id == campaign.id, Target.state == TargetState.dialing))):
            campaign.state = CampaignState.completed
            done.append(campaign.name)
    return done


