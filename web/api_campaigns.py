"""HTTP API: campaigns (the same operations as ``warroom campaign``) and the dialer's live figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.campaigns import Campaign
from dialer.campaigns import (
    CampaignError,
    Selection,
    campaign_summary,
    change_state,
    create_campaign,
    get_campaign,
    parse_retry,
    progress,
    resolve_units,
)
from dialer.rules import CallingRules
from web.inputs import Moment, Text


class CampaignIn(BaseModel):
    name: Text = Field(min_length=1, max_length=120)
    mode: Literal["ivr", "operator"] = "ivr"
    units: list[Text] = Field(default_factory=list, description="unit keys (ac:112, booth:112:45) or ids")
    levels: list[Literal["district", "ac", "mandal", "sector", "booth"]] = Field(default_factory=list)
    posts: list[Text] = Field(default_factory=list)
    statuses: list[Literal["strong", "weak", "swing", "unknown"]] = Field(default_factory=list)
    window_start: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    window_end: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    timezone: Text | None = None
    starts_at: Moment | None = Field(None, description="do not call before (UTC if no zone)")
    ends_at: Moment | None = Field(None, description="do not call after (UTC if no zone)")
    priority: int = Field(5, ge=0, le=100)
    retry: list[Text] = Field(default_factory=list, description="OUTCOME=TRIES/AFTER, e.g. no_answer=3/30m")
    use_alternate: bool = True
    trunk: Text = Field("lines", min_length=1, max_length=60)
    scripts: dict[Text, Text] = Field(default_factory=dict)
    fields: dict[Text, Text] = Field(default_factory=dict)


ScriptCheck = Callable[[dict[str, str], dict[str, str]], list[str]]


def campaigns_router(sessions: sessionmaker[Session], defaults: CallingRules,
                     live: Callable[[], dict[str, Any]], check_scripts: ScriptCheck = lambda _s, _f: [],
                     guard: Callable[..., Any] | None = None,
                     publish: Callable[[int, str], None] = lambda _id, _state: None) -> APIRouter:
    """Routes under /api; ``live`` returns the dialer's snapshot (lines, calls, rates); ``check_scripts``
    says what is wrong with an IVR campaign's scripts and fields; ``guard`` (supervisors and admins in the
    service) is checked on every route; ``publish`` hears of each campaign state change."""
    router = APIRouter(prefix="/api", tags=["campaigns"], dependencies=[Depends(guard)] if guard else [])

    @router.get("/campaigns")
    def list_campaigns() -> list[dict[str, Any]]:
        with sessions() as s:
            return [campaign_summary(c, progress(s, c.id)) for c in s.scalars(select(Campaign).order_by(Campaign.id))]

    @router.post("/campaigns", status_code=201)
    def create(body: CampaignIn) -> dict[str, Any]:
        rules = {k: v for k, v in {"window_start": body.window_start, "window_end": body.window_end,
                                   "timezone": body.timezone}.items() if v}
        try:
            problems = check_scripts(body.scripts, body.fields) if body.mode == "ivr" else []
            if problems:
                raise CampaignError("; ".join(problems))
            with sessions.begin() as s:
                selection = Selection(resolve_units(s, body.units), tuple(body.levels), tuple(body.posts),
                                      tuple(body.statuses))
                c = create_campaign(s, name=body.name, mode=body.mode, selection=selection, trunk=body.trunk,
                                    priority=body.priority, starts_at=body.starts_at, ends_at=body.ends_at,
                                    rules=rules, retry=parse_retry(body.retry), use_alternate=body.use_alternate,
                                    scripts=body.scripts, fields=body.fields, defaults=defaults)
                return campaign_summary(c, progress(s, c.id))
        except CampaignError as exc:
            raise HTTPException(422, str(exc)) from exc

    @router.get("/campaigns/{ref}")
    def show(ref: Text) -> dict[str, Any]:
        try:
            with sessions() as s:
                c = get_campaign(s, ref)
                return campaign_summary(c, progress(s, c.id))
        except CampaignError as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.post("/campaigns/{ref}/{action}")
    def act(ref: Text, action: Literal["start", "pause", "resume", "stop"]) -> dict[str, Any]:
        try:
            with sessions.begin() as s:
                summary = campaign_summary(change_state(s, ref, action))
        except CampaignError as exc:
            code = 404 if str(exc).startswith("no campaign") else 409
            raise HTTPException(code, str(exc)) from exc
        publish(summary["id"], summary["state"])
        return summary

    @router.get("/live")
    def live_figures() -> dict[str, Any]:
        """Lines in use per trunk, calls dialing/ringing/answered now, attempts per minute, answer rate."""
        return live()

    return router
