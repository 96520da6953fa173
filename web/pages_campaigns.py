"""Campaign pages: the list, a new campaign (every option of ``warroom campaign create``, with a live count
of who it reaches and the scripts previewed for a sample member), a campaign with its targets (search,
filters, each target's attempts and answers, CSV/XLSX export) and its start / pause / resume / stop."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.errors import ServiceError
from dialer.targets import TargetFilter
from ivr_scripts.library import DEFAULT_BY_STATUS
from reports.export import to_csv, to_xlsx
from web.campaign_form import (
    ACTIONS,
    LEVELS,
    OUTCOMES,
    STATUSES,
    CampaignForm,
    chosen_scripts,
    form_of,
    new_form,
    spec_of,
)
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, fragment, refusal, render
from web.services import WebServices

router = APIRouter(tags=["campaign pages"])
MAX_ID = 2_147_483_647
CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _window(svc: WebServices) -> tuple[str, str]:
    rules = svc.campaigns.defaults
    return rules.window_start.strftime("%H:%M"), rules.window_end.strftime("%H:%M")


async def _choices(svc: WebServices) -> dict[str, Any]:
    scripts = svc.scripts.library.summaries()
    return {"levels": LEVELS, "statuses": STATUSES, "outcomes": OUTCOMES, "posts": await svc.directory.posts(),
            "scripts": [s["name"] for s in scripts], "defaults": DEFAULT_BY_STATUS,
            "script_fields": sorted({f for s in scripts for f in s["fields"]})}


async def _summary(svc: WebServices, form: CampaignForm) -> dict[str, Any]:
    """Who the form's campaign reaches, and its scripts previewed for a sample member of each booth status
    (or the problems that stop it)."""
    spec, errors = spec_of(form, svc.campaigns.defaults.timezone)
    if spec is None:
        return {"errors": errors, "reach": None, "previews": []}
    try:
        reach = await svc.campaigns.reach(spec)
    except ServiceError as exc:
        return {"errors": refusal(exc), "reach": None, "previews": []}
    previews = []
    if spec.mode == "ivr":
        for status, name in chosen_scripts(form, DEFAULT_BY_STATUS).items():
            if not reach["by_status"].get(status):
                continue
            member = reach["samples"].get(status)
            try:
                preview = await svc.scripts.preview(name, member=member, fields=spec.fields)
            except ServiceError as exc:
                previews.append({"status": status, "script": name, "error": exc.message, "people":
                                 reach["by_status"][status]})
                continue
            previews.append({"status": status, "script": name, "member": member, "people": reach["by_status"][status],
                             **preview})
    return {"errors": {}, "reach": reach, "previews": previews}


@router.get("/campaigns", response_class=HTMLResponse)
async def campaigns_page(request: Request, who: Staff, svc: Services) -> Response:
    """Every campaign with its progress, and what can be done with it."""
    return render(request, who, "campaigns.html", campaigns=await svc.campaigns.list())


@router.get("/campaigns/new", response_class=HTMLResponse)
async def new_page(request: Request, who: Staff, svc: Services,
                   from_: Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID)] = None) -> Response:
    """The new-campaign form (``?from=ID``: filled with that campaign's settings, to clone it)."""
    rules = svc.campaigns.defaults
    form = new_form(rules.timezone, _window(svc))
    if from_ is not None:
        source = await svc.campaigns.spec_of(str(from_))
        form = form_of(source, rules.timezone, _window(svc)).model_copy(update={"name": f"{source.name} (copy)"})
    return render(request, who, "campaign_new.html", form=form, **await _choices(svc),
                  summary=await _summary(svc, form))


@router.get("/campaigns/new/summary", response_class=HTMLResponse)
async def new_summary(request: Request, who: Staff, svc: Services, form: Annotated[CampaignForm, Query()]) -> Response:
    """The form's live count and script previews, as a part of the page (refreshed as the form changes)."""
    return fragment(request, who, "campaign_summary.html", form=form, summary=await _summary(svc, form))


@router.post("/campaigns/new", response_class=HTMLResponse)
async def new_submit(request: Request, who: Staff, svc: Services, form: Annotated[CampaignForm, Form()]) -> Response:
    """``check`` shows the count and previews again; ``draft`` saves the campaign; ``start`` saves and starts it."""
    action = form.action if form.action in ACTIONS else "check"
    spec, errors = spec_of(form, svc.campaigns.defaults.timezone)
    if spec is not None and action != "check":
        try:
            created = await svc.campaigns.create(spec, acting(request, who))
        except ServiceError as exc:
            errors = refusal(exc)
        else:
            if action == "start":
                await svc.campaigns.change(str(created["id"]), "start", acting(request, who))
            return RedirectResponse(f"/campaigns/{created['id']}", status_code=303)
    summary = await _summary(svc, form)
    status = 422 if errors or summary["errors"] else 200
    return render(request, who, "campaign_new.html", status, form=form, **await _choices(svc), summary=summary,
                  errors=errors or summary["errors"])


def _filter(q: str, disposition: str, rule: str, ac: int | None, state: str) -> TargetFilter:
    return TargetFilter(search=q, disposition=disposition, rule=rule, ac=ac, state=state)


Search = Annotated[Text, Query(max_length=100)]
Choice = Annotated[Text, Query(max_length=30)]
TargetStateIn = Annotated[Literal["", "queued", "dialing", "done", "removed"], Query()]
AcId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(request: Request, who: Staff, svc: Services, campaign_id: CampaignId, q: Search = "",
                        disposition: Choice = "", rule: Choice = "", ac: AcId = None, state: TargetStateIn = "",
                        page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """A campaign: settings, progress (kept live by the page's script), and its targets, searched and
    filtered, a page at a time."""
    flt = _filter(q, disposition, rule, ac, state)
    data = await svc.campaigns.targets(str(campaign_id), flt, page)
    return render(request, who, "campaign.html", **data, filter=flt, query=flt.as_query())


@router.post("/campaigns/{campaign_id}/action")
async def campaign_action(request: Request, who: Staff, svc: Services, campaign_id: CampaignId,
                          action: Annotated[Literal["start", "pause", "resume", "stop"], Form()]) -> Response:
    """Start, pause, resume or stop a campaign (the dialer follows at once)."""
    await svc.campaigns.change(str(campaign_id), action, acting(request, who))
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.post("/campaigns/{campaign_id}/clone")
async def campaign_clone(request: Request, who: Staff, svc: Services, campaign_id: CampaignId,
                         name: Annotated[Text, Form(min_length=1, max_length=120)]) -> Response:
    """A new draft campaign with this one's settings, its targets chosen from the directory as it is now."""
    created = await svc.campaigns.clone(str(campaign_id), name.strip(), acting(request, who))
    return RedirectResponse(f"/campaigns/{created['id']}", status_code=303)


@router.get("/campaigns/{campaign_id}/targets/{target_id}", response_class=HTMLResponse)
async def target_page(request: Request, who: Staff, svc: Services, campaign_id: CampaignId,
                      target_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    """One target: who, where, and every attempt with its outcome and the answers given."""
    return render(request, who, "target.html", target=await svc.campaigns.target(str(campaign_id), target_id))


@router.get("/campaigns/{campaign_id}/export", responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
async def export_targets(who: Staff, svc: Services, campaign_id: CampaignId,
                         format: Literal["csv", "xlsx"] = "csv", q: Search = "", disposition: Choice = "",
                         rule: Choice = "", ac: AcId = None, state: TargetStateIn = "") -> Response:
    """The filtered targets with their progress and answers, as CSV or XLSX (formulas neutralised)."""
    report = await svc.reports.targets(str(campaign_id), _filter(q, disposition, rule, ac, state))
    name = f"campaign-{campaign_id}-targets.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "xlsx":
        return Response(to_xlsx(report), media_type=XLSX, headers=headers)
    return Response(to_csv(report).encode("utf-8-sig"), media_type="text/csv; charset=utf-8", headers=headers)
