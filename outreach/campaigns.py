"""Outreach campaigns: created on a list, started only with the MCMC certificate reference of their
message (and a caller ID and the trunk's registration category, recorded on every attempt), scrubbed
against the opt-outs and the do-not-call file, and planned a page at a time: the due contacts are read in
id order from the campaign's cursor, never the whole list at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from db.models import Person as Member
from db.models import Unit, UnitKind, utcnow
from db.outreach import Contact, ListEntry, OutreachAttempt, OutreachCampaign, OutreachList
from dialer.rules import CallingRules, day_start
from outreach.optouts import opted_out
from outreach.rules import INDIA, Person, PollCalendar, check_person, may_start
from outreach.sql import among

PAGE = 2000
ANSWERED = ("answered", "listened", "replied", "opted_out", "operator")  # outcomes of an answered call
STATES = ("draft", "running", "paused", "stopped")
HOLDS_ALL = {"ban", "window", "schedule"}  # rules that hold every contact alike: planning stops there
SCRUBBED = {"opted_out", "dnd", "silence"}  # numbers passed over for good, counted on the campaign


@dataclass(frozen=True)
class Due:
    """A contact to call now."""

    contact_id: int
    phone: str
    name: str | None
    ac_no: int | None


def get_campaign(session: Session, name: str) -> OutreachCampaign:
    campaign = session.scalar(select(OutreachCampaign).where(OutreachCampaign.name == name))
    if campaign is None:
        raise NotFound(f"no outreach campaign '{name}'")
    return campaign


def create(session: Session, name: str, list_name: str, *, mcmc_ref: str | None = None,
           caller_id: str | None = None, trunk: str = "lines", trunk_category: str | None = None) -> OutreachCampaign:
    """A draft campaign to the list ``list_name``."""
    if not name.strip() or len(name) > 120:
        raise Invalid("a campaign name of 1 to 120 characters", field="name")
    list_id = session.scalar(select(OutreachList.id).where(OutreachList.name == list_name))
    if list_id is None:
        raise NotFound(f"no outreach list '{list_name}' (import one with `warroom outreach import`)")
    if session.scalar(select(OutreachCampaign.id).where(OutreachCampaign.name == name)) is not None:
        raise Conflict(f"an outreach campaign '{name}' exists already")
    campaign = OutreachCampaign(name=name.strip(), list_id=list_id, mcmc_ref=(mcmc_ref or "").strip() or None,
                                caller_id=caller_id, trunk=trunk, trunk_category=trunk_category, state="draft",
                                cursor=0, scrubbed={})
    session.add(campaign)
    session.flush()
    return campaign


def poll_calendar(session: Session) -> PollCalendar:
    """Close of poll per AC number, from the directory's AC units."""
    return PollCalendar({int(number): close for number, close in session.execute(
        select(Unit.number, Unit.poll_end_at).where(Unit.kind == UnitKind.ac, Unit.number.is_not(None),
                                                     Unit.poll_end_at.is_not(None)))
                         if number is not None and close is not None})


def _pages(session: Session, list_id: int, after: int, page: int = PAGE) -> Iterator[list[Any]]:
    """The list's contacts in id order after ``after``, a page at a time (keyset: no offset scans)."""
    while True:
        rows = list(session.execute(
            select(Contact.id, Contact.phone, Contact.name, Contact.ac_no)
            .join(ListEntry, ListEntry.contact_id == Contact.id)
            .where(ListEntry.list_id == list_id, ListEntry.contact_id > after)  # along the entries' primary key
            .order_by(ListEntry.contact_id).limit(page)))
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def start(session: Session, name: str) -> None:
    """Start (or resume) a campaign: refused without its MCMC reference, caller ID and trunk category. Numbers
    are scrubbed as the campaign reaches them (its ``scrubbed`` figures grow: why -> how many); ``scrub``
    counts the whole list beforehand."""
    campaign = get_campaign(session, name)
    verdict = may_start(campaign.mcmc_ref)
    if not verdict.allowed:
        raise Conflict(f"outreach campaign '{name}' cannot start: {verdict.reason}")
    if not campaign.caller_id or not campaign.trunk_category:
        raise Conflict(f"outreach campaign '{name}' cannot start: its caller ID and its trunk's registration "
                       "category must be recorded (they go on every attempt)")
    if campaign.state == "running":
        raise Conflict(f"outreach campaign '{name}' is running already")
    campaign.state, campaign.started_at = "running", campaign.started_at or utcnow()


def scrub(session: Session, name: str, on_dnd: Callable[[str], bool]) -> dict[str, int]:
    """How many numbers of the campaign's list are opted out or on the do-not-call file (read only)."""
    campaign = get_campaign(session, name)
    scrubbed: Counter[str] = Counter()
    for rows in _pages(session, campaign.list_id, 0):
        stopped = opted_out(session, [phone for _, phone, _, _ in rows])
        for _, phone, _, _ in rows:
            if phone in stopped:
                scrubbed["opted_out"] += 1
            elif on_dnd(phone):
                scrubbed["dnd"] += 1
    return dict(scrubbed)


def set_state(session: Session, name: str, state: str) -> None:
    if state not in STATES or state == "running":
        raise Invalid(f"state '{state}': pause or stop (start checks the law)", field="state")
    get_campaign(session, name).state = state


def set_mcmc(session: Session, name: str, reference: str) -> None:
    if not reference.strip():
        raise Invalid("an MCMC certificate reference", field="mcmc_ref")
    get_campaign(session, name).mcmc_ref = reference.strip()[:120]


def plan_due(session: Session, name: str, now: datetime, rules: CallingRules, on_dnd: Callable[[str], bool],
             limit: int, ban_zone: str = INDIA) -> tuple[list[Due], dict[str, int]]:
    """Up to ``limit`` contacts to call now, from the campaign's cursor (advanced past every contact decided:
    due, or never to be called by this campaign); with why the others were passed over. Contacts held by a
    rule that holds everyone (the ban, the window) stop the plan without moving the cursor."""
    campaign = get_campaign(session, name)
    if campaign.state != "running":
        return [], {}
    calendar = poll_calendar(session)
    due: list[Due] = []
    passed: Counter[str] = Counter()
    try:
        return _plan(session, campaign, now, rules, on_dnd, limit, ban_zone, calendar, due, passed)
    finally:
        kept = {k: v for k, v in passed.items() if k in SCRUBBED}
        if kept:
            campaign.scrubbed = dict(Counter(campaign.scrubbed or {}) + Counter(kept))


def _plan(session: Session, campaign: OutreachCampaign, now: datetime, rules: CallingRules,
          on_dnd: Callable[[str], bool], limit: int, ban_zone: str, calendar: PollCalendar, due: list[Due],
          passed: Counter[str]) -> tuple[list[Due], dict[str, int]]:
    cursor = campaign.cursor
    today = day_start(now, rules)
    for rows in _pages(session, campaign.list_id, cursor, page=max(limit * 2, 200)):
        phones = [phone for _, phone, _, _ in rows]
        stopped = opted_out(session, phones)
        calls: dict[str, tuple[datetime, int]] = {
            phone: (last, count) for phone, last, count in session.execute(
                select(OutreachAttempt.phone, func.max(OutreachAttempt.at),
                       func.count().filter(OutreachAttempt.at >= today))
                .where(among(session, OutreachAttempt.phone, phones), OutreachAttempt.at >= now - timedelta(days=1))
                .group_by(OutreachAttempt.phone))}
        for cid, phone, contact_name, ac_no in rows:
            last, count = calls.get(phone, (None, 0))
            verdict = check_person(Person(phone, ac_no, phone in stopped, on_dnd(phone), last, count), now, rules,
                                   calendar, ban_zone)
            if verdict.rule in HOLDS_ALL:
                campaign.cursor = cursor
                return due, dict(passed)
            cursor = cid
            if verdict.allowed:
                due.append(Due(cid, phone, contact_name, ac_no))
            else:
                passed[verdict.rule or "held"] += 1
            if len(due) >= limit:
                campaign.cursor = cursor
                return due, dict(passed)
    campaign.cursor = cursor
    return due, dict(passed)


def record_attempt(session: Session, name: str, due: Due, *, trunk: str, at: datetime | None = None,
                   outcome: str | None = None, listened_s: float | None = None) -> int:
    """One attempt, with the caller ID and the trunk's registration category the campaign dials with."""
    campaign = get_campaign(session, name)
    if not campaign.caller_id or not campaign.trunk_category:
        raise Conflict(f"outreach campaign '{name}' has no caller ID or trunk category recorded")
    attempt = OutreachAttempt(campaign_id=campaign.id, contact_id=due.contact_id, phone=due.phone, at=at or utcnow(),
                              caller_id=campaign.caller_id, trunk=trunk, trunk_category=campaign.trunk_category,
                              outcome=outcome, listened_s=listened_s)
    session.add(attempt)
    session.flush()
    return attempt.id


def end_attempt(session: Session, attempt_id: int, outcome: str, listened_s: float | None = None) -> None:
    session.execute(update(OutreachAttempt).where(OutreachAttempt.id == attempt_id).values(
        outcome=outcome, listened_s=listened_s))


REPORT_COLUMNS = ["at", "phone", "name", "ac", "caller_id", "trunk", "trunk_category", "outcome", "listened_s"]


def report(session: Session, name: str) -> Iterator[list[Any]]:
    """Who was called when, for an inquiry: every attempt of the campaign in time order (streamed)."""
    campaign = get_campaign(session, name)
    query = (select(OutreachAttempt.at, OutreachAttempt.phone, Contact.name, Contact.ac_no, OutreachAttempt.caller_id,
                    OutreachAttempt.trunk, OutreachAttempt.trunk_category, OutreachAttempt.outcome,
                    OutreachAttempt.listened_s)
             .outerjoin(Contact, Contact.id == OutreachAttempt.contact_id)
             .where(OutreachAttempt.campaign_id == campaign.id).order_by(OutreachAttempt.at, OutreachAttempt.id))
    for row in session.execute(query.execution_options(yield_per=5000)):
        at, *rest = row
        yield [at.isoformat(), *rest]


def figures(session: Session, name: str) -> dict[str, Any]:
    """Progress of a campaign: its list's size, how far planning went, attempts by outcome, scrubbed."""
    campaign = get_campaign(session, name)
    size = session.scalar(select(func.count()).select_from(ListEntry).where(ListEntry.list_id == campaign.list_id))
    done = session.scalar(select(func.count()).select_from(ListEntry).where(
        ListEntry.list_id == campaign.list_id, ListEntry.contact_id <= campaign.cursor))
    listened = session.execute(select(func.count(OutreachAttempt.id), func.avg(OutreachAttempt.listened_s)).where(
        OutreachAttempt.campaign_id == campaign.id, OutreachAttempt.outcome.in_(ANSWERED))).one()
    outcomes = {outcome: n for outcome, n in session.execute(
        select(OutreachAttempt.outcome, func.count()).where(OutreachAttempt.campaign_id == campaign.id)
        .group_by(OutreachAttempt.outcome))}
    return {"id": campaign.id, "name": campaign.name, "state": campaign.state, "recording": campaign.recording,
            "mcmc_ref": campaign.mcmc_ref, "list_size": size or 0,
            "planned": done or 0, "scrubbed": campaign.scrubbed, "attempts": {str(k): v for k, v in outcomes.items()},
            "caller_id": campaign.caller_id, "trunk_category": campaign.trunk_category,
            "answered": listened[0] or 0, "mean_listen_s": float(listened[1]) if listened[1] is not None else None}


def overview(session: Session) -> dict[str, Any]:
    """Every list with its size, and every campaign with its figures (for the outreach page)."""
    lists = [{"name": name, "size": size} for name, size in session.execute(
        select(OutreachList.name, func.count(ListEntry.contact_id))
        .outerjoin(ListEntry, ListEntry.list_id == OutreachList.id).group_by(OutreachList.id, OutreachList.name)
        .order_by(OutreachList.name))]
    names = list(session.scalars(select(OutreachCampaign.name).order_by(OutreachCampaign.id.desc())))
    return {"lists": lists, "campaigns": [figures(session, name) for name in names]}


def who(session: Session, phone: str) -> tuple[str, str]:
    """The name and language a contact's message uses (a linked committee member's from the directory)."""
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is None:
        raise NotFound(f"no outreach contact with the number {phone}")
    if contact.person_id is not None:
        person = session.get(Member, contact.person_id)
        if person is not None:
            return person.name, person.language or "hi"
    return contact.name or "", contact.language or "hi"
