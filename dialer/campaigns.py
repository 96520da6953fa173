"""Campaigns: creation (targets chosen from the directory), state changes, retry policy, progress."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, insert, select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound, ServiceError
from db.campaigns import Attempt, AttemptState, Campaign, CampaignMode, CampaignState, Target, TargetState
from db.models import BoothStatus, Committee, Membership, Person, Unit, UnitKind
from dialer.rules import CallingRules, RulesError
from directory import units
from directory.units import as_id, booth_status_expr

DEFAULT_RETRY: dict[str, dict[str, int]] = {
    "no_answer": {"tries": 3, "after": 1800},
    "busy": {"tries": 3, "after": 600},
    "congestion": {"tries": 5, "after": 120},
    "failed": {"tries": 3, "after": 300},
}
RETRYABLE = set(DEFAULT_RETRY)
MAX_TRIES, MAX_WAIT = 100, 7 * 24 * 3600  # a retry policy beyond these is a typo (and would overflow the clock)
_DURATION = re.compile(r"^([0-9]{1,9})([smh]?)$", re.ASCII)
TRANSITIONS = {
    "start": ({CampaignState.draft, CampaignState.paused}, CampaignState.running),
    "pause": ({CampaignState.running}, CampaignState.paused),
    "resume": ({CampaignState.paused}, CampaignState.running),
    "stop": ({CampaignState.draft, CampaignState.running, CampaignState.paused}, CampaignState.stopped),
}


class CampaignError(ServiceError):
    """A campaign request failed; the message says what and where, the subclass what kind of failure."""


class CampaignInvalid(CampaignError, Invalid):
    """A bad value in a campaign request (a unit, a window, a retry policy, a duplicate name...)."""


class CampaignNotFound(CampaignError, NotFound):
    """No campaign by that name or id."""


class CampaignConflict(CampaignError, Conflict):
    """The campaign's state does not allow the change (resuming a running campaign...)."""


def parse_duration(text: str) -> int:
    """``90`` / ``90s`` / ``30m`` / ``2h`` -> seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise CampaignInvalid(f"'{text}' is not a duration (e.g. 90s, 30m, 2h)")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _number(text: str, most: int) -> int | None:
    """``text`` as a whole number up to ``most``, else None. Only 0-9: ``str.isdigit`` also takes ``²``,
    which ``int`` refuses, and ``int`` refuses more than 4300 digits."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        return None
    return int(text) if int(text) <= most else None


def parse_retry(specs: Iterable[str]) -> dict[str, dict[str, int]]:
    """``no_answer=3/30m`` (tries/after) items merged over the defaults."""
    policy = {k: dict(v) for k, v in DEFAULT_RETRY.items()}
    for spec in specs:
        key, _, value = spec.partition("=")
        key = key.strip().replace("-", "_")
        if key not in RETRYABLE:
            raise CampaignInvalid(f"retry '{spec}': outcome must be one of {', '.join(sorted(RETRYABLE))}",
                                  field="retry")
        tries, _, after = value.partition("/")
        if not (tries.strip().isascii() and tries.strip().isdigit()):
            raise CampaignInvalid(f"retry '{spec}': expected TRIES/AFTER, e.g. {key}=3/30m", field="retry")
        count, wait = _number(tries.strip(), MAX_TRIES), parse_duration(after or "0")
        if count is None or wait > MAX_WAIT:
            raise CampaignInvalid(f"retry '{spec}': at most {MAX_TRIES} tries, each at most {MAX_WAIT // 3600}h after",
                                  field="retry")
        policy[key] = {"tries": count, "after": wait}
    return policy


def rules_for(campaign: Campaign, defaults: CallingRules) -> CallingRules:
    """The campaign's calling rules: its own settings over the service defaults."""
    r = campaign.rules or {}
    try:
        return CallingRules(
            window_start=time.fromisoformat(r["window_start"]) if "window_start" in r else defaults.window_start,
            window_end=time.fromisoformat(r["window_end"]) if "window_end" in r else defaults.window_end,
            timezone=r.get("timezone", defaults.timezone),
            silence_hours=float(r.get("silence_hours", defaults.silence_hours)),
            max_per_day=int(r.get("max_per_day", defaults.max_per_day)),
            min_gap=timedelta(seconds=int(r["min_gap"])) if "min_gap" in r else defaults.min_gap)
    except (ValueError, RulesError) as exc:
        field = "timezone" if "time zone" in str(exc) else "window"
        raise CampaignInvalid(f"campaign '{campaign.name}': {exc}", field=field) from exc


@dataclass(frozen=True)
class Selection:
    """Who a campaign calls. Empty lists mean "any"."""

    units: tuple[int, ...] = ()          # these units and everything under them
    levels: tuple[str, ...] = ()         # committee level = its unit's kind (district / mandal / sector / booth)
    posts: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()       # booth status; restricts to booth committees

    def as_json(self) -> dict[str, list[Any]]:
        return {"units": list(self.units), "levels": list(self.levels), "posts": list(self.posts),
                "statuses": list(self.statuses)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Selection:
        return cls(tuple(data.get("units", [])), tuple(data.get("levels", [])), tuple(data.get("posts", [])),
                   tuple(data.get("statuses", [])))


def resolve_units(session: Session, refs: Iterable[str]) -> tuple[int, ...]:
    """:func:`directory.units.resolve_units`, failing as a :class:`CampaignInvalid` (with its message)."""
    try:
        return units.resolve_units(session, refs)
    except units.UnitNotFound as exc:
        raise CampaignInvalid(str(exc), field="units") from None


def target_query(sel: Selection) -> Select[Any]:
    """person, committee, booth (for booth committees) of every membership the selection covers."""
    booth_id = case((Unit.kind == UnitKind.booth, Unit.id), else_=None)
    query = (select(Membership.person_id, Membership.committee_id, booth_id.label("booth_id"), Unit.kind)
             .join(Committee, Committee.id == Membership.committee_id)
             .join(Unit, Unit.id == Committee.unit_id)
             .join(Person, Person.id == Membership.person_id))
    if sel.units:
        tree = select(Unit.id.label("id")).where(Unit.id.in_(sel.units)).cte("tree", recursive=True)
        tree = tree.union_all(select(Unit.id).where(Unit.parent_id == tree.c.id))
        query = query.where(Unit.id.in_(select(tree.c.id)))
    if sel.levels:
        query = query.where(Unit.kind.in_(sel.levels))
    if sel.posts:
        query = query.where(func.lower(Membership.post).in_([p.lower() for p in sel.posts]))
    if sel.statuses:
        query = query.where(Unit.kind == UnitKind.booth, booth_status_expr().in_(sel.statuses))
    return query.order_by(Membership.person_id)


def one_per_person(rows: Iterable[Any]) -> Iterator[tuple[int, int, int | None]]:
    """A person in several matching committees is called once: for the deepest committee."""
    current: tuple[int, int, int | None, int] | None = None
    for person_id, committee_id, booth_id, kind in rows:
        depth = UnitKind(kind).depth
        if current is not None and current[0] != person_id:
            yield current[:3]
            current = None
        if current is None or depth > current[3]:
            current = (person_id, committee_id, booth_id, depth)
    if current is not None:
        yield current[:3]


def check_choice(selection: Selection, starts_at: datetime | None = None, ends_at: datetime | None = None) -> None:
    """Refuse a selection with unknown booth statuses or levels, and an end before the start."""
    if starts_at and ends_at and ends_at <= starts_at:
        raise CampaignInvalid("the campaign's end must be after its start", field="ends_at")
    bad = [s for s in selection.statuses if s not in {b.value for b in BoothStatus}]
    if bad:
        raise CampaignInvalid(f"booth status {', '.join(bad)}: use strong, weak, swing or unknown", field="statuses")
    bad = [lv for lv in selection.levels if lv not in {k.value for k in UnitKind}]
    if bad:
        raise CampaignInvalid(f"level {', '.join(bad)}: use district, mandal, sector or booth", field="levels")


def create_campaign(session: Session, *, name: str, mode: str, selection: Selection, trunk: str = "lines",
                    priority: int = 5, starts_at: datetime | None = None, ends_at: datetime | None = None,
                    rules: dict[str, Any] | None = None, retry: dict[str, dict[str, int]] | None = None,
                    use_alternate: bool = True, scripts: dict[str, str] | None = None,
                    fields: dict[str, str] | None = None, defaults: CallingRules | None = None,
                    record_calls: bool = False) -> Campaign:
    """Create a draft campaign and its targets (in the caller's transaction); ``record_calls``: operators'
    calls of the campaign are recorded (after a notice)."""
    if not name.strip():
        raise CampaignInvalid("a campaign needs a name", field="name")
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise CampaignInvalid(f"a campaign named '{name}' already exists", field="name")
    try:
        campaign_mode = CampaignMode(mode)
    except ValueError:
        raise CampaignInvalid(f"mode '{mode}': use ivr or operator", field="mode") from None
    check_choice(selection, starts_at, ends_at)
    campaign = Campaign(name=name, mode=campaign_mode, trunk=trunk, priority=priority, starts_at=starts_at,
                        ends_at=ends_at, selection=selection.as_json(), rules=rules or {},
                        retry=retry or {k: dict(v) for k, v in DEFAULT_RETRY.items()},
                        use_alternate=use_alternate, scripts=scripts or {}, fields=fields or {},
                        record_calls=record_calls)
    session.add(campaign)
    session.flush()
    rules_for(campaign, defaults or CallingRules())  # validates the campaign's rules now, not at dial time
    add_targets(session, campaign, one_per_person(session.execute(target_query(selection))))
    return campaign


def add_targets(session: Session, campaign: Campaign, rows: Iterable[tuple[int, int, int | None]],
                batch: int = 5000) -> int:
    """Insert targets (person, committee, booth), due now."""
    total, chunk = 0, list[dict[str, Any]]()
    for person_id, committee_id, booth_id in rows:
        chunk.append({"campaign_id": campaign.id, "person_id": person_id, "committee_id": committee_id,
                      "booth_id": booth_id, "state": TargetState.queued, "tries": 0, "tries_by": {}})
        if len(chunk) >= batch:
            session.execute(insert(Target), chunk)
            total, chunk = total + len(chunk), []
    if chunk:
        session.execute(insert(Target), chunk)
        total += len(chunk)
    return total


def campaign_summary(c: Campaign, figures: dict[str, Any] | None = None) -> dict[str, Any]:
    """A campaign as plain data (CLI --json and the HTTP API)."""
    return {"id": c.id, "name": c.name, "mode": c.mode.value, "state": c.state.value, "priority": c.priority,
            "trunk": c.trunk, "starts_at": c.starts_at.isoformat() if c.starts_at else None,
            "ends_at": c.ends_at.isoformat() if c.ends_at else None, "selection": c.selection, "rules": c.rules,
            "retry": c.retry, "use_alternate": c.use_alternate, "scripts": c.scripts, "fields": c.fields,
            "waiting": c.waiting, "record_calls": c.record_calls, "pacing": c.pacing.value,
            "abandon_cap": c.abandon_cap,
            **({"progress": figures} if figures is not None else {})}


def get_campaign(session: Session, ref: str) -> Campaign:
    number = as_id(ref)
    campaign = session.get(Campaign, number) if number is not None else \
        session.scalar(select(Campaign).where(Campaign.name == ref))
    if campaign is None:
        raise CampaignNotFound(f"no campaign '{ref}'")
    return campaign


def change_state(session: Session, ref: str, action: str) -> Campaign:
    """start / pause / resume / stop, refusing transitions that make no sense."""
    campaign = get_campaign(session, ref)
    allowed, new = TRANSITIONS[action]
    if campaign.state not in allowed:
        raise CampaignConflict(f"cannot {action} campaign '{campaign.name}': it is {campaign.state.value}")
    campaign.state = new
    return campaign


def progress(session: Session, campaign_id: int) -> dict[str, Any]:
    """Targets by state, attempts by disposition, calls in flight, and why targets are held back."""
    targets = dict(session.execute(select(Target.state, func.count()).where(Target.campaign_id == campaign_id)
                                   .group_by(Target.state)).all())
    dispositions = dict(session.execute(
        select(Attempt.disposition, func.count()).where(Attempt.campaign_id == campaign_id,
                                                        Attempt.disposition.is_not(None))
        .group_by(Attempt.disposition)).all())
    in_flight = session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.campaign_id == campaign_id, Attempt.state != AttemptState.ended)) or 0
    blocked = dict(session.execute(
        select(Target.blocked_rule, func.count())
        .where(Target.campaign_id == campaign_id, Target.state == TargetState.queued,
               Target.blocked_rule.is_not(None))
        .group_by(Target.blocked_rule)).all())
    total = sum(targets.values())
    done = targets.get(TargetState.done, 0) + targets.get(TargetState.removed, 0)
    return {"targets": total, "done": done, "due": targets.get(TargetState.queued, 0),
            "dialing": targets.get(TargetState.dialing, 0), "removed": targets.get(TargetState.removed, 0),
            "in_flight": in_flight, "blocked": blocked,
            "dispositions": {str(k): v for k, v in dispositions.items() if k is not None}}


def parse_pairs(items: Iterable[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` items (``--script strong=programme``, ``--field date=5 Dec``) -> a dict."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CampaignInvalid(f"{what} '{item}': expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out
