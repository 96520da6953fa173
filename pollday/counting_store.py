"""Counting day's database work, as plain synchronous functions (the service runs each in one
transaction), on poll day's machinery: a counting round is claimed and run as a dialer campaign like a
turnout round (:func:`pollday.store.claim_round`, :func:`pollday.store.stagger`), calling each table's
counting agent (their committee post names the table: "Counting agent 3"); the counting script's answers
(``p1``, ``p2``... one per party in the sheet's order, typed and confirmed with the ``number`` step) are
stored per AC, round, table and party, checked (:func:`pollday.checks.check_count`) and, once a table has
every party in, the round's other calls to that table are cancelled. A counting agent may also report the
round on the hotline (key 3, after their PIN).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.campaigns import Attempt, Target, TargetState
from db.ivr import IvrCall
from db.models import Membership, Unit, UnitKind, utcnow
from db.pollday import CountAlert, CountPlan, CountReport, CountRound
from dialer.campaigns import Selection, change_state, create_campaign, target_query
from dialer.reach import PlanRound, reach
from dialer.rules import CallingRules
from ivr_scripts.library import STATUSES
from pollday.checks import check_count
from pollday.counting import MAX_PARTIES, CountingPlan, Party, TableReturn, booth_of, table_of
from pollday.errors import PlanInvalid
from pollday.plan import Round
from pollday.store import PRIORITY, claim_round, hotline_agent, next_round, stagger

MIN_GAP = 60  # seconds: a counting agent may be called again a minute later (rounds come every half hour)


def plan_of(row: CountPlan) -> CountingPlan:
    return CountingPlan(ac_id=row.ac_id, counting_date=row.counting_date, round_count=row.rounds, tables=row.tables,
                        parties=tuple(Party(p["key"], p.get("name", "")) for p in row.parties),
                        starts=time.fromisoformat(row.starts), round_minutes=row.round_minutes,
                        timezone=row.timezone, posts=tuple(row.posts), use_alternate=row.use_alternate,
                        script=row.script, call_delay=timedelta(seconds=row.call_delay), max_votes=row.max_votes)


def save_plan(session: Session, plan: CountingPlan) -> CountPlan:
    """Create or replace the AC's counting plan (rounds already run keep their reports)."""
    ac = session.get(Unit, plan.ac_id)
    if ac is None or ac.kind is not UnitKind.ac:
        raise PlanInvalid(f"unit {plan.ac_id} is not an assembly constituency", field="ac")
    row = session.scalar(select(CountPlan).where(CountPlan.ac_id == plan.ac_id)) or CountPlan(ac_id=plan.ac_id)
    row.counting_date, row.starts, row.round_minutes = plan.counting_date, f"{plan.starts:%H:%M}", plan.round_minutes
    row.rounds, row.tables = plan.round_count, plan.tables
    row.parties = [{"key": p.key, "name": p.name} for p in plan.parties]
    row.timezone, row.posts, row.use_alternate, row.script = plan.timezone, list(plan.posts), plan.use_alternate, \
        plan.script
    row.call_delay, row.max_votes = int(plan.call_delay.total_seconds()), plan.max_votes
    session.add(row)
    session.flush()
    return row


def plans(session: Session) -> list[CountPlan]:
    return list(session.scalars(select(CountPlan).order_by(CountPlan.id)))


def plan_for_ac(session: Session, ac_id: int) -> CountPlan:
    row = session.scalar(select(CountPlan).where(CountPlan.ac_id == ac_id))
    if row is None:
        raise PlanInvalid(f"AC {ac_id} has no counting plan", field="ac")
    return row


def started_rounds(session: Session, plan_id: int) -> dict[int, CountRound]:
    return {r.number: r for r in session.scalars(select(CountRound).where(CountRound.plan_id == plan_id))}


@dataclass(frozen=True)
class Agent:
    person_id: int
    committee_id: int
    post: str
    rank: int    # the post's place in the plan's order (0: called first)
    table: int


def agents(session: Session, plan: CountingPlan, person_id: int | None = None) -> list[Agent]:
    """The AC's counting agents (anyone on a committee of the AC whose post is one of the plan's followed by
    a table number), or ``person_id``'s agent posts."""
    query = target_query(Selection(units=(plan.ac_id,))).add_columns(Membership.post)
    if person_id is not None:
        query = query.where(Membership.person_id == person_id)
    out = []
    for pid, committee_id, _booth, _kind, post in session.execute(query):
        found = table_of(post, plan.posts)
        if found is not None:
            out.append(Agent(pid, committee_id, post, found[0], found[1]))
    return out


def start_round(session: Session, row: CountPlan, rnd: Round, *, late: bool, superseded: tuple[int, ...],
                now: datetime) -> CountRound | None:
    """Run counting round ``rnd`` as a dialer campaign of the AC's counting agents (each table's first post
    at once, the next ones later); tables that already reported every party this round are left out. The
    round is claimed first, as a turnout round is: None when another node started it meanwhile."""
    plan = plan_of(row)
    claimed = claim_round(session, CountRound, row.id, rnd, state="running", late=late, now=now)
    if claimed is None:
        return None
    for number in superseded:
        claim_round(session, CountRound, row.id, plan.rounds()[number - 1], state="superseded", late=False, now=now)
    out = session.get(CountRound, claimed)
    assert out is not None
    found = agents(session, plan)
    if not found:  # nobody holds a counting post: a round without calls (the hotline and the sheet still work)
        session.flush()
        return out
    ac = session.get(Unit, row.ac_id)
    assert ac is not None
    posts = tuple(sorted({a.post for a in found}))
    begin = max(rnd.calls_from, now)
    campaign = create_campaign(
        session, name=f"counting {row.counting_date} AC {ac.number or ac.id} round {rnd.number} ({rnd.label})",
        mode="ivr", priority=PRIORITY, selection=Selection(units=(row.ac_id,), posts=posts), starts_at=begin,
        ends_at=rnd.until, rules={"count_plan": row.id, "poll_scripts": list(plan.all_scripts), "min_gap": MIN_GAP},
        use_alternate=plan.use_alternate, scripts={s: plan.script for s in STATUSES}, fields=plan.fields(rnd.number))
    ranks = {a.post: a.rank for a in found}
    stagger(session, campaign.id, lambda post: ranks.get(post, len(plan.posts)), begin)
    done = complete_tables(session, row.id, rnd.number, [p.key for p in plan.parties])
    if done:
        _cancel(session, campaign.id, [a.person_id for a in found if a.table in done], "reported the round already")
    change_state(session, str(campaign.id), "start")
    out.campaign_id = campaign.id
    session.flush()
    return out


def round_reach(session: Session, row: CountPlan, now: datetime, rules: CallingRules) -> dict[str, Any]:
    """Who the counting plan's current (or next) round would reach and who the calling rules would hold
    back, as the dialer will judge its calls (the plan's own counting agents, with the plan's exemption)."""
    plan = plan_of(row)
    rnd = next_round(plan, now)
    if rnd is None:
        return {"round": None}
    posts = tuple(sorted({a.post for a in agents(session, plan)}))
    if not posts:
        return {"round": rnd.number, "label": rnd.label, "people": 0, "committees": 0, "held_back": 0,
                "reasons": [], "calls_from": None, "ends_before_calling": False}
    found = reach(session, Selection(units=(row.ac_id,), posts=posts),
                  replace(rules, min_gap=min(rules.min_gap, timedelta(seconds=MIN_GAP))), now,
                  starts_at=rnd.calls_from, ends_at=rnd.until, plan=PlanRound(posts, booths_only=False))
    return {"round": rnd.number, "label": rnd.label, **found}


def complete_tables(session: Session, plan_id: int, rnd: int, parties: list[str]) -> set[int]:
    """The tables with every one of ``parties``' votes in for round ``rnd``."""
    got: dict[int, set[str]] = defaultdict(set)
    for table, party in session.execute(select(CountReport.table_no, CountReport.party).where(
            CountReport.plan_id == plan_id, CountReport.round == rnd)):
        got[table].add(party)
    return {t for t, seen in got.items() if seen >= set(parties)}


def _cancel(session: Session, campaign_id: int, people: list[int], why: str) -> None:
    if people:
        session.execute(update(Target).where(Target.campaign_id == campaign_id, Target.person_id.in_(people),
                                             Target.state == TargetState.queued)
                        .values(state=TargetState.done, blocked_by=why))


@dataclass(frozen=True)
class Counted:
    """What a counting answer changed: the AC, the table and round, and whether the table is complete."""

    ac_id: int
    table: int
    round: int
    complete: bool


def _round_of_call(session: Session, call: IvrCall) -> tuple[CountPlan, int, int] | None:
    """(plan, round, table) a counting answer belongs to: the round's campaign for a call we made; for the
    hotline, the caller's counting plan and the round whose report time has passed. The table is the
    caller's counting post's."""
    if call.person_id is None:
        return None
    if call.direction == "outbound":
        campaign_id = call.campaign_id or session.scalar(select(Attempt.campaign_id)
                                                         .where(Attempt.id == call.attempt_id))
        found = session.execute(select(CountPlan, CountRound.number)
                                .join(CountRound, CountRound.plan_id == CountPlan.id)
                                .where(CountRound.campaign_id == campaign_id)).first()
        candidates = [(found[0], found[1])] if found else []
    else:
        if not hotline_agent(session, call):
            return None
        candidates = []
        for row in plans(session):
            for r in plan_of(row).rounds():
                if r.at <= call.started_at < r.until:
                    candidates.append((row, r.number))
    for row, number in candidates:
        mine = agents(session, plan_of(row), call.person_id)
        if mine:
            return row, number, min(mine, key=lambda a: a.rank).table
    return None


def hotline_fields(session: Session, person_id: int | None, at: datetime) -> dict[str, str]:
    """What a hotline call's templates see of counting day (``campaign.round``, ``parties``, ``party1``...):
    the caller's counting round when they are a counting agent of an AC whose round is on at ``at``, else
    every field empty (the hotline then takes poll day's turnout on key 3)."""
    out = {"round": "", "parties": "0", **{f"party{i}": "" for i in range(1, MAX_PARTIES + 1)}}
    if person_id is None:
        return out
    for row in plans(session):
        plan = plan_of(row)
        for r in plan.rounds():
            if r.at <= at < r.until and agents(session, plan, person_id):
                return {**out, **plan.fields(r.number)}
    return out


def is_count_step(step: str) -> bool:
    return step.startswith("p") and step[1:].isdigit()


def record_answer(session: Session, call_id: int, step: str, number: int | None, at: datetime) -> Counted | None:
    """Put a counting answer (step ``pN``: the sheet's N-th party) into its table's return for the round;
    check the return and raise alerts; once every party is in, cancel the round's calls still to make to
    that table's agents. None when the answer is not a counting report."""
    if not is_count_step(step) or number is None:
        return None
    call = session.get(IvrCall, call_id)
    if call is None:
        return None
    found = _round_of_call(session, call)
    if found is None:
        return None
    row, rnd, table = found
    plan = plan_of(row)
    party = plan.party_of_step(step)
    if party is None:
        return None
    source = "call" if call.direction == "outbound" else "hotline"
    store_votes(session, row, rnd, table, {party.key: number}, source=source, person_id=call.person_id,
                call_id=call.id, at=at)
    return _after(session, row, plan, rnd, table, source)


def store_votes(session: Session, row: CountPlan, rnd: int, table: int, votes: dict[str, int], *, source: str,
                person_id: int | None, call_id: int | None, at: datetime) -> None:
    """Insert or replace one table's figures for a round (one row per party), in one statement each."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for party, n in votes.items():
        values = {"votes": n, "person_id": person_id, "call_id": call_id, "source": source, "at": at}
        session.execute(insert(CountReport).values(plan_id=row.id, round=rnd, table_no=table, party=party, **values)
                        .on_conflict_do_update(index_elements=["plan_id", "round", "table_no", "party"], set_=values))


def _after(session: Session, row: CountPlan, plan: CountingPlan, rnd: int, table: int, source: str) -> Counted:
    """Check the table's return for the round (alerts for what does not add up) and, when it is complete,
    cancel the round's other calls to the table."""
    votes = {p: n for p, n in session.execute(select(CountReport.party, CountReport.votes).where(
        CountReport.plan_id == row.id, CountReport.round == rnd, CountReport.table_no == table))}
    booth = booth_of(rnd, table, plan.tables)
    electors = session.scalar(select(Unit.voter_count).where(Unit.ac_id == row.ac_id, Unit.kind == UnitKind.booth,
                                                            Unit.number == booth))
    for flag in check_count(votes, table=table, tables=plan.tables, electors=electors, max_votes=plan.max_votes,
                            booth=booth):
        raise_alert(session, row.id, rnd, table, flag.kind, flag.message)
    complete = {p.key for p in plan.parties} <= set(votes)
    if complete:
        campaign_id = session.scalar(select(CountRound.campaign_id).where(CountRound.plan_id == row.id,
                                                                         CountRound.number == rnd))
        if campaign_id is not None:  # the round's agents still to call, read from its targets (a few dozen)
            queued = session.execute(select(Target.person_id, Membership.post).join(
                Membership, (Membership.person_id == Target.person_id)
                & (Membership.committee_id == Target.committee_id))
                .where(Target.campaign_id == campaign_id, Target.state == TargetState.queued))
            at_table = [pid for pid, post in queued if _table(post, plan) == table]
            _cancel(session, campaign_id, at_table, f"the table reported the round ({source})")
    return Counted(row.ac_id, table, rnd, complete)


def _table(post: str, plan: CountingPlan) -> int | None:
    found = table_of(post, plan.posts)
    return found[1] if found is not None else None


def raise_alert(session: Session, plan_id: int, rnd: int, table: int, kind: str, message: str) -> bool:
    """An open alert (a call-back task for an operator), once per table, round and kind (insert or ignore:
    two answers checked at once raise it once)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return session.scalar(insert(CountAlert).values(plan_id=plan_id, round=rnd, table_no=table, kind=kind,
                                                    message=message, state="open", created_at=utcnow())
                          .on_conflict_do_nothing().returning(CountAlert.id)) is not None


def enter_votes(session: Session, ac_id: int, rnd: int, table: int, votes: dict[str, int], at: datetime) -> Counted:
    """An operator's figures for a table's round (after calling the table back), checked like a call's."""
    row = plan_for_ac(session, ac_id)
    plan = plan_of(row)
    if not 1 <= rnd <= plan.round_count:
        raise PlanInvalid(f"round {rnd}: the plan has rounds 1 to {plan.round_count}", field="round")
    if not 1 <= table <= plan.tables:
        raise PlanInvalid(f"table {table}: the hall has tables 1 to {plan.tables}", field="table")
    keys = {p.key for p in plan.parties}
    unknown = sorted(set(votes) - keys)
    if unknown or not votes:
        raise PlanInvalid(f"parties {', '.join(unknown) or '(none)'}: the sheet has "
                          + ", ".join(p.key for p in plan.parties), field="votes")
    store_votes(session, row, rnd, table, votes, source="operator", person_id=None, call_id=None, at=at)
    return _after(session, row, plan, rnd, table, "operator")


def close_alert(session: Session, alert_id: int, by: str) -> CountAlert:
    alert = session.get(CountAlert, alert_id)
    if alert is None:
        raise PlanInvalid(f"no counting alert {alert_id}", field="alert")
    alert.state, alert.done_by = "done", by
    return alert


def ac_of_plan(session: Session, plan_id: int) -> int:
    row = session.get(CountPlan, plan_id)
    assert row is not None
    return row.ac_id


def returns(session: Session, plan_id: int) -> tuple[list[TableReturn], dict[tuple[int, int], dict[str, Any]]]:
    """Every table's return (for the sheet) and, per (round, table), where it came from and when."""
    votes: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    seen: dict[tuple[int, int], dict[str, Any]] = {}
    for rnd, table, party, n, source, at in session.execute(
            select(CountReport.round, CountReport.table_no, CountReport.party, CountReport.votes, CountReport.source,
                   CountReport.at).where(CountReport.plan_id == plan_id).order_by(CountReport.at)):
        votes[(rnd, table)][party] = n
        seen[(rnd, table)] = {"source": source, "at": at}
    return [TableReturn(r, t, v) for (r, t), v in votes.items()], seen


def summary(row: CountPlan) -> dict[str, Any]:
    plan = plan_of(row)
    return {"ac_id": row.ac_id, "counting_date": row.counting_date.isoformat(), "timezone": row.timezone,
            "tables": row.tables, "parties": row.parties, "posts": row.posts, "script": row.script,
            "rounds": [{"number": r.number, "label": r.label, "at": r.at.isoformat()} for r in plan.rounds()]}
