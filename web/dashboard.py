"""The supervisors' dashboard: the page, its live feed (SSE: a snapshot, then pushes), charts, the
drill-down by area, the tickets board and listening in on operators' calls."""

import asyncio
import json
from collections.abc import AsyncIterator
from importlib.resources import files
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from core.errors import NotFound, Unavailable
from dashboard.tickets import BoardFilter
from db.tickets import CATEGORIES
from operators.listen import SpyMode
from web.deps import STAFF_ROLES, Acting, Services, SignIn, Staff
from web.i18n import pacing_words, texts
from web.inputs import Text
from web.rendering import templates
from web.services import WebServices

router = APIRouter(tags=["supervisors"])
MAX_ID = 2_147_483_647  # database ids are 32-bit: larger numbers are no id at all
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]
UnitRef = Annotated[int | None, Query(ge=1, le=MAX_ID)]
CATEGORY = "^(" + "|".join(CATEGORIES) + ")$"


class AssignIn(BaseModel):
    to: Text = Field(min_length=1, max_length=100, description="the user name to assign the ticket to")


class ResolveIn(BaseModel):
    resolution: Text = Field(min_length=1, max_length=2000, description="how it was resolved")


class ListenRequest(BaseModel):
    operator_id: int = Field(ge=1, le=MAX_ID, description="the operator's user id")
    mode: SpyMode = "listen"


def plotly_js() -> str:
    """The charting library, served from its installed Python package (nothing from the internet)."""
    return str(files("plotly") / "package_data" / "plotly.min.js")


@router.get("/dashboard", response_class=HTMLResponse)
def page(request: Request, who: Staff, svc: Services) -> Response:
    """The live war-room dashboard."""
    lang = request.cookies.get("warroom_lang") or who.language
    return templates.TemplateResponse(request, "dashboard.html", {
        "who": who, "t": texts(lang), "lang": lang, "categories": CATEGORIES, "pacing_words": pacing_words(lang),
        "target_minutes": svc.dashboard.target_minutes, "phone_enabled": svc.phone_server.enabled})


@router.get("/dashboard/events")
async def events(request: Request, _who: Staff, svc: Services, auth: SignIn) -> StreamingResponse:
    """Server-Sent Events: ``snapshot`` (everything), then ``live``, ``board`` and ``ticket`` pushes; ends with
    ``signed_out`` once the session is gone (checked on every keep-alive)."""
    async def sse() -> AsyncIterator[str]:
        async for kind, data in svc.dashboard_feed.stream():
            if kind == "keep-alive":
                yield ": keep-alive\n\n"
            else:
                yield f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
    return StreamingResponse(auth.while_signed_in(request, STAFF_ROLES, sse()), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/api/dashboard")
async def snapshot(_who: Staff, svc: Services) -> dict[str, Any]:
    """Everything the dashboard shows, now (what the event stream starts with)."""
    return await svc.dashboard_feed.snapshot()


@router.get("/api/charts")
async def chart_data(_who: Staff, svc: Services, campaign: UnitRef = None) -> dict[str, Any]:
    """Calls and answers by hour today, outcomes by booth status, survey answers, coverage by area."""
    return await svc.dashboard.charts(campaign)


@router.get("/api/drill")
async def drill_down(_who: Staff, svc: Services, unit: UnitRef = None) -> dict[str, Any]:
    """One unit (default: the top) with its path, figures, survey answers and its children's figures."""
    return await svc.dashboard.drill(unit)


@router.get("/api/tickets")
async def ticket_list(_who: Staff, svc: Services, status: Literal["open", "assigned", "resolved"] | None = None,
                      district: UnitRef = None, ac: UnitRef = None,
                      category: Annotated[str | None, Query(pattern=CATEGORY)] = None) -> list[dict[str, Any]]:
    """The tickets board, filtered; without a status: open and assigned, and those resolved today."""
    return await svc.dashboard.tickets_board(BoardFilter(status, district, ac, category))


@router.get("/api/tickets/choices")
async def ticket_choices(_who: Staff, svc: Services) -> dict[str, Any]:
    """What the board's filters and assign box offer: districts, ACs, categories, users."""
    return await svc.dashboard.ticket_choices()


async def _board_row(svc: WebServices, ticket_id: int) -> dict[str, Any]:
    row = await svc.dashboard.ticket_row(ticket_id)
    if row is None:
        raise NotFound(f"no ticket #{ticket_id}")
    return row


@router.post("/api/tickets/{ticket_id}/assign")
async def assign_ticket(ticket_id: TicketId, body: AssignIn, _who: Staff, actor: Acting,
                        svc: Services) -> dict[str, Any]:
    """Assign a ticket to a user (by user name)."""
    await svc.tickets.assign(ticket_id, body.to, actor)
    return await _board_row(svc, ticket_id)


@router.post("/api/tickets/{ticket_id}/resolve")
async def resolve_ticket(ticket_id: TicketId, body: ResolveIn, who: Staff, actor: Acting,
                         svc: Services) -> dict[str, Any]:
    """Mark a ticket resolved, saying how."""
    await svc.tickets.resolve(ticket_id, body.resolution, by=who.username, actor=actor)
    return await _board_row(svc, ticket_id)


@router.post("/api/listen", status_code=201)
async def listen_in(body: ListenRequest, who: Staff, actor: Acting, svc: Services) -> dict[str, Any]:
    """Ring this supervisor's softphone and, when answered, listen to (or whisper to, or barge into)
    the operator's call."""
    if svc.listen is None:
        raise Unavailable("listening in is not available in this service")
    channel = await svc.listen(who.user_id, body.operator_id, body.mode, actor)
    return {"channel_id": channel, "mode": body.mode, "operator_id": body.operator_id}


@router.get("/static/plotly.min.js", include_in_schema=False)
async def plotly() -> Response:
    path = await asyncio.to_thread(plotly_js)
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
