"""Poll day's database work, as plain synchronous functions (the service runs each in one transaction):
plans, starting a round as a dialer campaign, turning a call's answers into the booth's report (with its
checks), the hotline report that cancels the round's call, and the alerts for booths gone silent.

A round's script names its steps by convention: ``votes`` (votes polled so far), ``ours`` (our
supporters' votes) and ``problem`` (an ask step whose value is the problem); the hotline's turnout report
uses the same ids.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.campaigns import Attempt, Target, TargetState
from db.ivr import IvrCall
from db.models import Committee, Membership, Unit, UnitKind
from db.pollday import PollAlert, PollPlan, PollReport, PollRound
from dialer.campaigns import Selection, change_state, create_campaign
from dialer.reach import PlanRound, reach
from dialer.rules import CallingRules
from ivr_scripts.library import STATUSES
from pollday.agents import is_agent
from pollday.checks import Reported, check_report, turnout
from pollday.errors import PlanInvalid
from pollday.plan import PollDayPlan, Round
from pollday.rounds import Plan, silent_booths

log = logging.getLogger(__name__)
STEP_VOTES, STEP_OURS, STEP_PROBLEM = "votes", "ours", "problem"
REPORT_STEPS = (STEP_VOTES, STEP_OURS, STEP_PROBLEM)
FALLBACK = timedelta(minutes=15)   # the next post's agent is called this long after the one before
PRIORITY = 9                       # rounds go before other campaigns


def plan_of(row: PollPlan) -> PollDayPlan:
    return PollDayPlan(ac_id=row.ac_id, poll_date=row.poll_date, opens=time.fromisoformat(row.opens),
                       closes=time.fromisoformat(row.closes),
                       report_times=tuple(time.fromisoformat(t) for t in row.report_times),
                       close_round=row.close_round, timezone=row.timezone, posts=tuple(row.posts),
                       use_alternate=row.use_alternate, script=row.script,
                       call_delay=timedelta(seconds=row.call_delay))


def save_plan(session: Session, plan: PollDayPlan) -> PollPlan:
    """Create or replace the AC's plan (rounds already run keep their reports)."""
    ac = session.get(Unit, plan.ac_id)
    if ac is None or ac.kind is not UnitKind.ac:
        raise PlanInvalid(f"unit {plan.ac_id} is not an assembly constituency", field="ac")
    row = session.scalar(select(PollPlan).where(PollPlan.ac_id == plan.ac_id)) or PollPlan(ac_id=plan.ac_id)
    row.poll_date, row.opens, row.closes = plan.poll_date, f"{plan.opens:%H:%M}", f"{plan.closes:%H:%M}"
    row.report_times = [f"{t:%H:%M}" for t in plan.report_times]
    row.close_round, row.timezone, row.posts = plan.close_round, plan.timezone, list(plan.posts)
    row.use_alternate, row.script = plan.use_alternate, plan.script
    row.call_delay = int(plan.call_delay.total_seconds())
    session.add(row)
    session.flush()
    return row


def plans(session: Session) -> list[PollPlan]:
    return list(session.scalars(select(PollPlan).order_by(PollPlan.id)))


def plan_for_ac(session: Session, ac_id: int) -> PollPlan:
    row = session.scalar(select(PollPlan).where(PollPlan.ac_id == ac_id))
    if row is None:
        raise PlanInvalid(f"AC {ac_id} has no poll-day plan", field="ac")
    return row


def started_rounds(session: Session, plan_id: int) -> dict[int, PollRound]:
    return {r.number: r for r in session.scalars(select(PollRound).where(PollRound.plan_id == plan_id))}


def claim_round(session: Session, model: type[Any], plan_id: int, rnd: Round, *, state: str, late: bool,
                now: datetime) -> int | None:
    """Take round ``rnd`` of a plan for this node, in the caller's transaction: the row is inserted unless
    the round is already there (the unique plan/number constraint decides, as a dialer claim's unique index
    does); its id, or None when another node (or an earlier tick) has it. On PostgreSQL a claim racing an
    uncommitted one waits for it, then yields quietly; SQLite has one writer."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return session.scalar(insert(model).values(plan_id=plan_id, number=rnd.number, label=rnd.label, at=rnd.at,
                                               until=rnd.until, state=state, late=late, started_at=now)
                          .on_conflict_do_nothing().returning(model.id))


def start_round(session: Session, row: PollPlan, rnd: Round, *, late: bool, superseded: tuple[int, ...],
                now: datetime) -> PollRound | None:
    """Run ``rnd`` as a dialer campaign of the plan's booth agents (the first post at once, the next ones
    ``FALLBACK`` apart); booths that already reported this round are left out. Rounds let go are noted.
    The round is claimed first (:func:`claim_round`): when another node started it meanwhile, nothing is
    done and None is returned (two nodes ticking at once start it once, and neither fails)."""
    plan = plan_of(row)
    ac = session.get(Unit, row.ac_id)
    assert ac is not None
    claimed = claim_round(session, PollRound, row.id, rnd, state="running", late=late, now=now)
    if claimed is None:
        return None
    for number in superseded:
        claim_round(session, PollRound, row.id, plan.rounds()[number - 1], state="superseded", late=False, now=now)
    name = f"poll day {row.poll_date} AC {ac.number or ac.id} round {rnd.number} ({rnd.label})"
    campaign = create_campaign(session, name=name, mode="ivr", priority=PRIORITY, selection=round_selection(row),
                               starts_at=max(rnd.calls_from, now), ends_at=rnd.until,
                               rules={"poll_plan": row.id, "poll_scripts": list(plan.all_scripts)},
                               use_alternate=plan.use_alternate, scripts={s: plan.script for s in STATUSES})
    stagger(session, campaign.id, post_rank(plan.posts), max(rnd.calls_from, now))
    reported = set(session.scalars(select(PollReport.booth_id).where(
        PollReport.plan_id == row.id, PollReport.round == rnd.number, PollReport.votes.is_not(None))))
    if reported:
        session.execute(update(Target).where(Target.campaign_id == campaign.id, Target.booth_id.in_(reported))
                        .values(state=TargetState.done, blocked_by="reported the round already"))
    change_state(session, str(campaign.id), "start")
    out = session.get(PollRound, claimed)
    assert out is not None
    out.campaign_id = campaign.id
    session.flush()
    return out


def round_selection(row: PollPlan) -> Selection:
    """Who a round calls: the AC's booth committees' members in the plan's posts."""
    return Selection(units=(row.ac_id,), levels=("booth",), posts=tuple(row.posts))


def next_round(plan: Plan, now: datetime) -> Round | None:
    """The round whose calls run at ``now``, else the next one (None once the day's rounds are over)."""
    return next((r for r in plan.rounds() if now < r.until), None)


def round_reach(session: Session, row: PollPlan, now: datetime, rules: CallingRules) -> dict[str, Any]:
    """Who the plan's current (or next) round would reach and who the calling rules would hold back, as the
    dialer will judge its calls: the plan's own booth agents with the plan's exemption."""
    plan = plan_of(row)
    rnd = next_round(plan, now)
    if rnd is None:
        return {"round": None}
    found = reach(session, round_selection(row), rules, now, starts_at=rnd.calls_from, ends_at=rnd.until,
                  plan=PlanRound(plan.posts))
    return {"round": rnd.number, "label": rnd.label, **found}


def post_rank(posts: tuple[str, ...]) -> Callable[[str], int]:
    """A post's place in the plan's order (compared without case, spaces or dashes); after them all if none."""
    norm = ["".join(c for c in p.lower() if c.isalnum()) for p in posts]

    def rank(post: str) -> int:
        key = "".join(c for c in post.lower() if c.isalnum())
        return norm.index(key) if key in norm else len(norm)
    return rank


def stagger(session: Session, campaign_id: int, rank: Callable[[str], int], begin: datetime) -> None:
    """The first chosen post's agent is due at once; each later post's agent (``rank`` of their post)
    ``FALLBACK`` later."""
    rows = session.execute(select(Target.id, Membership.post).join(
        Membership, (Membership.person_id == Target.person_id) & (Membership.committee_id == Target.committee_id))
        .where(Target.campaign_id == campaign_id)).all()
    for target_id, post in rows:
        if later := rank(post):
            session.execute(update(Target).where(Target.id == target_id).values(next_at=begin + later * FALLBACK))


@dataclass(frozen=True)
class Recorded:
    """What an answer changed: the plan's AC and the booth (None: the answer was not a poll-day report)."""

    ac_id: int
    booth_id: int
    round: int


def _round_of_call(session: Session, call: IvrCall) -> tuple[PollPlan, int] | None:
    if call.direction == "outbound":
        campaign_id = call.campaign_id or (session.scalar(select(Attempt.campaign_id)
                                                          .where(Attempt.id == call.attempt_id)))
        found = session.execute(select(PollPlan, PollRound.number).join(PollRound, PollRound.plan_id == PollPlan.id)
                                .where(PollRound.campaign_id == campaign_id)).first()
        return (found[0], found[1]) if found else None
    if not hotline_agent(session, call):
        return None
    booth = session.get(Unit, call.booth_id) if call.booth_id else None
    if booth is None or booth.ac_id is None:
        return None
    row = session.scalar(select(PollPlan).where(PollPlan.ac_id == booth.ac_id))
    if row is None or not _holds_post(session, call.person_id, booth.id, tuple(row.posts)):
        return None
    at = call.started_at
    for r in plan_of(row).rounds():  # a hotline report counts for the round whose report time has passed
        if r.at <= at < r.until:
            return row, r.number
    return None


def hotline_agent(session: Session, call: IvrCall) -> bool:
    """Whether a hotline call may report a round: the caller gave their member PIN in the call (caller ID
    alone can be spoofed; the hotline script asks for the PIN before key 3's figures, as before the booth's
    instructions). A call without it is logged and its figures are not taken."""
    if call.caller_verified:
        return True
    log.warning("hotline call %s: round figures from a caller who did not give their PIN: not taken", call.id)
    return False


def _holds_post(session: Session, person_id: int | None, booth_id: int, posts: tuple[str, ...]) -> bool:
    """Whether the person is one of the booth's agents in the plan: a post the plan calls, on its committee."""
    held = session.scalars(select(Membership.post).join(Committee, Committee.id == Membership.committee_id)
                           .where(Membership.person_id == person_id, Committee.unit_id == booth_id)).all()
    return any(is_agent(post, posts) for post in held)


def record_answer(session: Session, call_id: int, step: str, value: str | None, number: int | None,
                  at: datetime) -> Recorded | None:
    """Put a poll-day answer into the booth's report for its round; on the votes, run the checks (flags
    and alerts) and cancel the round's calls still to make to that booth."""
    if step not in REPORT_STEPS:
        return None
    call = session.get(IvrCall, call_id)
    if call is None or call.booth_id is None:
        return None
    found = _round_of_call(session, call)
    if found is None:
        return None
    row, rnd = found
    report = session.scalar(select(PollReport).where(PollReport.plan_id == row.id, PollReport.round == rnd,
                                                     PollReport.booth_id == call.booth_id))
    if report is None:
        report = PollReport(plan_id=row.id, round=rnd, booth_id=call.booth_id, flags=[],
                            source="call" if call.direction == "outbound" else "hotline")
        session.add(report)
    report.person_id, report.call_id, report.at = call.person_id, call.id, at
    report.source = "call" if call.direction == "outbound" else "hotline"
    if step == STEP_VOTES:
        report.votes = number
    elif step == STEP_OURS:
        report.ours = number
    else:
        report.problem = value if value and value != "none" else None
    session.flush()
    if step in (STEP_VOTES, STEP_OURS) and report.votes is not None:
        _check(session, row, report)
    if step == STEP_VOTES:
        _cancel_calls(session, row.id, rnd, call.booth_id, report.source)
    return Recorded(row.ac_id, call.booth_id, rnd)


def _check(session: Session, row: PollPlan, report: PollReport) -> None:
    booth = session.get(Unit, report.booth_id)
    voters = booth.voter_count if booth else None
    earlier = [Reported(r.booth_id, r.round, r.votes) for r in session.scalars(select(PollReport).where(
        PollReport.plan_id == row.id, PollReport.booth_id == report.booth_id, PollReport.round < report.round,
        PollReport.votes.is_not(None))) if r.votes is not None]
    others = [t for t in (turnout(v or 0, n) for v, n in session.execute(
        select(PollReport.votes, Unit.voter_count).join(Unit, Unit.id == PollReport.booth_id)
        .where(PollReport.plan_id == row.id, PollReport.round == report.round,
               PollReport.booth_id != report.booth_id, PollReport.votes.is_not(None)))) if t is not None]
    assert report.votes is not None
    flags = check_report(Reported(report.booth_id, report.round, report.votes, report.ours), voters=voters,
                         earlier=earlier, others_turnout=others)
    report.flags = [{"kind": f.kind, "message": f.message} for f in flags]
    for f in flags:
        raise_alert(session, row.id, report.round, report.booth_id, f.kind, f.message)


def raise_alert(session: Session, plan_id: int, rnd: int, booth_id: int, kind: str, message: str) -> bool:
    """An open alert (a call-back task for an operator), once per booth, round and kind."""
    if session.scalar(select(PollAlert.id).where(PollAlert.plan_id == plan_id, PollAlert.round == rnd,
                                                 PollAlert.booth_id == booth_id, PollAlert.kind == kind)):
        return False
    try:
        with session.begin_nested():
            session.add(PollAlert(plan_id=plan_id, round=rnd, booth_id=booth_id, kind=kind, message=message))
    except IntegrityError:  # raised at the same moment elsewhere
        return False
    return True


def _cancel_calls(session: Session, plan_id: int, rnd: int, booth_id: int, source: str) -> None:
    campaign_id = session.scalar(select(PollRound.campaign_id).where(PollRound.plan_id == plan_id,
                                                                     PollRound.number == rnd))
    if campaign_id is None:
        return
    session.execute(update(Target).where(Target.campaign_id == campaign_id, Target.booth_id == booth_id,
                                         Target.state == TargetState.queued)
                    .values(state=TargetState.done, blocked_by=f"the booth reported the round ({source})"))


def silence_alerts(session: Session, row: PollPlan, now: datetime) -> list[int]:
    """Alerts for the AC's booths with no report in the last two closed rounds; the booths newly alerted."""
    rounds = plan_of(row).rounds()
    closed = [r.number for r in rounds if r.until <= now]
    if len(closed) < 2:
        return []
    booths = list(session.scalars(select(Unit.id).where(Unit.ac_id == row.ac_id, Unit.kind == UnitKind.booth)))
    reported: dict[int, list[int]] = defaultdict(list)
    for booth_id, rnd in session.execute(select(PollReport.booth_id, PollReport.round).where(
            PollReport.plan_id == row.id, PollReport.votes.is_not(None))):
        reported[booth_id].append(rnd)
    out = []
    for s in silent_booths(booths, reported, closed):
        since = f"round {s.last_round}" if s.last_round else "the start of the poll"
        message = f"no report in rounds {closed[-2]} and {closed[-1]} (last report: {since}): call the booth"
        if raise_alert(session, row.id, closed[-1], s.booth_id, "silent", message):
            out.append(s.booth_id)
    return out


def close_alert(session: Session, alert_id: int, by: str) -> PollAlert:
    alert = session.get(PollAlert, alert_id)
    if alert is None:
        raise PlanInvalid(f"no poll-day alert {alert_id}", field="alert")
    alert.state, alert.done_by = "done", by
    return alert


def ac_of_plan(session: Session, plan_id: int) -> int:
    row = session.get(PollPlan, plan_id)
    assert row is not None
    return row.ac_id


def summary(row: PollPlan) -> dict[str, Any]:
    plan = plan_of(row)
    return {"ac_id": row.ac_id, "poll_date": row.poll_date.isoformat(), "timezone": row.timezone,
            "posts": row.posts, "script": row.script,
            "rounds": [{"number": r.number, "label": r.label, "at": r.at.isoformat()} for r in plan.rounds()]}
