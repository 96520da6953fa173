"""Admins' pages and actions: the audit log (filters, CSV), erasing a person (DPDP Act: the right to
erasure) and a new softphone secret for a user. Each calls a service; the services record what is done."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from audit.service import AuditFilter
from core.errors import ServiceError
from web.deps import Acting, Admin, Services
from web.i18n import texts
from web.inputs import Text
from web.rendering import templates

router = APIRouter(tags=["admin"])
Who = Annotated[Text | None, Query(max_length=80, description="an actor exactly (a user name, system, cli:...)")]
What = Annotated[Text | None, Query(max_length=60, description="an action, or its start (campaign., user.)")]
Target = Annotated[Text | None, Query(max_length=120, description="a target exactly (campaign:12, user:asha)")]
Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31), description="a UTC day")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many entries, newest first")]
UserName = Annotated[Text, Path(min_length=1, max_length=40)]


def _filter(actor: str | None, action: str | None, target: str | None, since: date | None, until: date | None,
            limit: int) -> AuditFilter:
    return AuditFilter(actor or None, action or None, target or None, since, until, limit)


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_page(request: Request, who: Admin, svc: Services, actor: Who = None, action: What = None,
                     target: Target = None, since: Day = None, until: Day = None, limit: Limit = 200) -> Response:
    """The audit log: who did what and when, newest first, with filters and a CSV download."""
    which = _filter(actor, action, target, since, until, limit)
    error, rows = None, []
    try:
        rows = await svc.audit.entries(which)
    except ServiceError as exc:
        error = exc.message
    lang = request.cookies.get("warroom_lang") or who.language
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "format"])
    return templates.TemplateResponse(request, "admin_audit.html", {
        "who": who, "t": texts(lang), "lang": lang, "rows": rows, "f": which, "error": error,
        "csv": f"/api/audit?format=csv{'&' + query if query else ''}"}, status_code=422 if error else 200)


@router.get("/api/audit", responses={200: {"content": {"text/csv": {}}}})
async def audit_entries(_who: Admin, actor_: Acting, svc: Services, format: Literal["json", "csv"] = "json",
                        actor: Who = None, action: What = None, target: Target = None, since: Day = None,
                        until: Day = None, limit: Limit = 500) -> Response:
    """Audit entries as JSON, or a CSV download (itself recorded)."""
    which = _filter(actor, action, target, since, until, limit)
    if format == "csv":
        body = await svc.audit.export_csv(which, actor_)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="warroom-audit.csv"'})
    return JSONResponse(await svc.audit.entries(which))


@router.get("/admin/erase", response_class=HTMLResponse)
async def erase_page(request: Request, who: Admin) -> Response:
    """The form to erase a person by phone or directory id (look first with a dry run)."""
    return _erase_page(request, who)


@router.post("/admin/erase", response_class=HTMLResponse)
async def erase(request: Request, who: Admin, actor: Acting, svc: Services,
                person: Annotated[Text, Form(min_length=1, max_length=40, description="a phone or a directory id")],
                dry_run: Annotated[bool, Form()] = False) -> Response:
    """Erase a person everywhere (or, as a dry run, show what would go)."""
    try:
        done = await svc.privacy.erase(person, dry_run=dry_run, actor=actor)
    except ServiceError as exc:
        return _erase_page(request, who, error=exc.message, status=exc.http_status, person=person)
    return _erase_page(request, who, result=done, person=person if dry_run else "")


def _erase_page(request: Request, who: Any, *, result: dict[str, Any] | None = None, error: str | None = None,
                status: int = 200, person: str = "") -> Response:
    lang = request.cookies.get("warroom_lang") or who.language
    return templates.TemplateResponse(request, "admin_erase.html", {
        "who": who, "t": texts(lang), "lang": lang, "result": result, "error": error, "person": person},
        status_code=status)


@router.post("/api/users/{username}/sip-secret")
async def new_sip_secret(username: UserName, _who: Admin, actor: Acting, svc: Services) -> dict[str, Any]:
    """A new softphone secret for the user (the old one stops working within seconds; they read the new one
    on their console)."""
    return await svc.users.rotate_sip_secret(username, actor)
