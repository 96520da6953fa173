"""Campaigns' use cases: create (one implementation for the command line and the HTTP API), list, show, and
start / pause / resume / stop, each announced as ``CampaignChanged`` with the dialer woken at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from db.campaigns import Campaign
from db.engine import Database
from db.models import Unit, utcnow
from dialer.campaigns import (
    CampaignInvalid,
    Selection,
    campaign_summary,
    change_state,
    check_choice,
    create_campaign,
    get_campaign,
    parse_retry,
    progress,
    resolve_units,
    rules_for,
)
from dialer.reach import reach
from dialer.rules import CallingRules
from dialer.targets import TargetFilter, filter_choices, target_detail, target_page
from events.types import CampaignChanged

ScriptCheck = Callable[[dict[str, str], dict[str, str]], list[str]]
ACTIONS = ("start", "pause", "resume", "stop")
SYSTEM = Actor.system()


def no_script_problems(_scripts: dict[str, str], _fields: dict[str, str]) -> list[str]:
    return []


def _no_one(_event: object) -> None:
    """Nobody hears the events (the command line: the running service reads the database)."""


@dataclass(frozen=True)
class CampaignSpec:
    """What a new campaign is, as the command line and the API both give it.

    The calling window is ``window`` (``HH:MM-HH:MM``) or its two ends; ``units`` are unit keys
    (``ac:112``, ``booth:112:45``) or ids; ``retry`` items are ``OUTCOME=TRIES/AFTER``."""

    name: str
    mode: str = "ivr"
    units: Sequence[str] = ()
    levels: Sequence[str] = ()
    posts: Sequence[str] = ()
    statuses: Sequence[str] = ()
    window: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    timezone: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 5
    retry: Sequence[str] = ()
    use_alternate: bool = True
    trunk: str = "lines"
    record_calls: bool = False  # operators' calls recorded, after a notice
    scripts: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)

    def rules(self) -> dict[str, Any]:
        """The campaign's own calling rules (the service's defaults fill in the rest)."""
        start, end = self.window_start, self.window_end
        if self.window:
            begin, sep, finish = self.window.partition("-")
            if not sep:
                raise CampaignInvalid(f"window '{self.window}': expected HH:MM-HH:MM", field="window")
            start, end = begin.strip(), finish.strip()
        return {k: v for k, v in {"window_start": start, "window_end": end, "timezone": self.timezone}.items() if v}


def _utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is UTC (as the database keeps it)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class CampaignService:
    """Campaigns, each use case in one transaction.

    ``defaults`` are the calling rules a campaign narrows; ``check_scripts`` says what is wrong with an IVR
    campaign's scripts and fields (the script library); ``wake`` tells the dialer to look again at once."""

    def __init__(self, db: Database, publish: Callable[[object], None] = _no_one, *,
                 defaults: CallingRules | None = None, check_scripts: ScriptCheck = no_script_problems,
                 wake: Callable[[], None] = lambda: None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.publish, self.wake, self.clock = db, publish, wake, clock
        self.defaults = defaults or CallingRules()
        self.check_scripts = check_scripts

    def _checked(self, spec: CampaignSpec) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
        """The spec's scripts and retry policy checked; its own calling rules and retry policy."""
        problems = self.check_scripts(dict(spec.scripts), dict(spec.fields)) if spec.mode == "ivr" else []
        if problems:
            raise CampaignInvalid("; ".join(problems), field="scripts")
        return spec.rules(), parse_retry(spec.retry)

    def _create(self, session: Session, spec: CampaignSpec) -> Campaign:
        rules, retry = self._checked(spec)
        selection = Selection(resolve_units(session, spec.units), tuple(spec.levels), tuple(spec.posts),
                              tuple(spec.statuses))
        return create_campaign(session, name=spec.name, mode=spec.mode, selection=selection, trunk=spec.trunk,
                               priority=spec.priority, starts_at=_utc(spec.starts_at), ends_at=_utc(spec.ends_at),
                               rules=rules, retry=retry, use_alternate=spec.use_alternate,
                               scripts=dict(spec.scripts), fields=dict(spec.fields), defaults=self.defaults,
                               record_calls=spec.record_calls)

    async def create(self, spec: CampaignSpec, actor: Actor = SYSTEM) -> dict[str, Any]:
        """A draft campaign with its targets chosen from the directory; its summary with progress (and an
        audit entry by ``actor``)."""
        def work(session: Session) -> dict[str, Any]:
            campaign = self._create(session, spec)
            summary = campaign_summary(campaign, progress(session, campaign.id))
            record(session, actor, "campaign.create", f"campaign:{campaign.id}",
                   detail={"mode": spec.mode, "targets": summary["progress"].get("targets")})
            return summary

        return await self.db.run(work)

    async def reach(self, spec: CampaignSpec) -> dict[str, Any]:
        """Who the campaign ``spec`` describes would reach, counted without creating anything: people (its
        targets), committees, how many the calling rules would hold back and why, when calls could begin,
        the people per booth status and a sample member of each (:func:`dialer.reach.reach`). Refuses what
        :meth:`create` refuses, but for the name and the scripts."""
        rules = spec.rules()
        parse_retry(spec.retry)
        starts_at, ends_at = _utc(spec.starts_at), _utc(spec.ends_at)

        def work(session: Session) -> dict[str, Any]:
            selection = Selection(resolve_units(session, spec.units), tuple(spec.levels), tuple(spec.posts),
                                  tuple(spec.statuses))
            check_choice(selection, starts_at, ends_at)
            calling = rules_for(Campaign(name=spec.name or "new", rules=rules), self.defaults)
            return reach(session, selection, calling, self.clock(), starts_at=starts_at, ends_at=ends_at)

        return await self.db.run(work)

    async def spec_of(self, ref: str) -> CampaignSpec:
        """What a campaign was created with, as a spec to create another like it (units by key)."""
        def work(session: Session) -> CampaignSpec:
            return spec_of(session, get_campaign(session, ref))

        return await self.db.run(work)

    async def clone(self, ref: str, name: str, actor: Actor) -> dict[str, Any]:
        """A new draft campaign with the settings of ``ref`` and its targets chosen from the directory as it
        is now."""
        def work(session: Session) -> dict[str, Any]:
            source = get_campaign(session, ref)
            spec = replace(spec_of(session, source), name=name)
            campaign = self._create(session, spec)
            record(session, actor, "campaign.clone", f"campaign:{campaign.id}", detail={"from": source.id})
            return campaign_summary(campaign, progress(session, campaign.id))

        return await self.db.run(work)

    async def targets(self, ref: str, flt: TargetFilter | None = None, page: int = 1) -> dict[str, Any]:
        """A campaign with its progress and one page of its targets, filtered, with what the filters offer."""
        def work(session: Session) -> dict[str, Any]:
            campaign = get_campaign(session, ref)
            return {"campaign": campaign_summary(campaign, progress(session, campaign.id)),
                    "targets": target_page(session, campaign.id, flt or TargetFilter(), page),
                    "choices": filter_choices(session, campaign.id)}

        return await self.db.run(work)

    async def target(self, ref: str, target_id: int) -> dict[str, Any]:
        """One target of a campaign with each attempt and the answers given on it."""
        def work(session: Session) -> dict[str, Any]:
            campaign = get_campaign(session, ref)
            return {"campaign": campaign_summary(campaign), **target_detail(session, campaign.id, target_id)}

        return await self.db.run(work)

    async def list(self) -> list[dict[str, Any]]:
        """Every campaign with its progress."""
        def work(session: Session) -> list[dict[str, Any]]:
            return [campaign_summary(c, progress(session, c.id))
                    for c in session.scalars(select(Campaign).order_by(Campaign.id))]

        return await self.db.run(work)

    async def show(self, ref: str) -> dict[str, Any]:
        """One campaign (by name or id) with its progress."""
        def work(session: Session) -> dict[str, Any]:
            campaign = get_campaign(session, ref)
            return campaign_summary(campaign, progress(session, campaign.id))

        return await self.db.run(work)

    async def change(self, ref: str, action: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        """``start``, ``pause``, ``resume`` or ``stop`` a campaign; its summary (without progress)."""
        if action not in ACTIONS:
            raise CampaignInvalid(f"'{action}': one of {', '.join(ACTIONS)}")

        def work(session: Session) -> dict[str, Any]:
            campaign = change_state(session, ref, action)
            record(session, actor, f"campaign.{action}", f"campaign:{campaign.id}",
                   detail={"state": campaign.state.value})
            return campaign_summary(campaign)

        out = await self.db.run(work)
        self.publish(CampaignChanged(out["id"], out["state"]))
        self.wake()  # a started or resumed campaign dials at once
        return out

    async def start(self, ref: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        return await self.change(ref, "start", actor)

    async def pause(self, ref: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        return await self.change(ref, "pause", actor)

    async def resume(self, ref: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        return await self.change(ref, "resume", actor)

    async def stop(self, ref: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        return await self.change(ref, "stop", actor)


def _duration(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds and seconds % 3600 == 0 else \
        f"{seconds // 60}m" if seconds and seconds % 60 == 0 else f"{seconds}s"


def spec_of(session: Session, campaign: Campaign) -> CampaignSpec:
    """A stored campaign as the spec it could be created from again (units by their key)."""
    selection = Selection.from_json(campaign.selection or {})
    keys = dict(session.execute(select(Unit.id, Unit.key).where(Unit.id.in_(selection.units))).all()) \
        if selection.units else {}
    rules = campaign.rules or {}
    return CampaignSpec(
        name=campaign.name, mode=campaign.mode.value, units=[keys[u] for u in selection.units if u in keys],
        levels=list(selection.levels), posts=list(selection.posts), statuses=list(selection.statuses),
        window_start=rules.get("window_start"), window_end=rules.get("window_end"), timezone=rules.get("timezone"),
        starts_at=campaign.starts_at, ends_at=campaign.ends_at, priority=campaign.priority,
        retry=[f"{k}={v['tries']}/{_duration(int(v['after']))}" for k, v in sorted((campaign.retry or {}).items())],
        use_alternate=campaign.use_alternate, trunk=campaign.trunk, scripts=dict(campaign.scripts or {}),
        fields=dict(campaign.fields or {}), record_calls=campaign.record_calls)
