"""The supervisors' dashboard: the page, its live feed (SSE: a snapshot, then pushes), charts, the
drill-down by area, the tickets board and listening in on operators' calls.

No ``from __future__ import annotations`` here: FastAPI must see the ``Annotated`` role guards, which are
built inside the router function, as real objects."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.resources import files
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import Principal
from dashboard.charts import charts
from dashboard.drill import DrillError, drill
from dashboard.feed import DashboardFeed
from dashboard.tickets import BoardFilter, ticket_areas, ticket_row, tickets_board
from db.engine import in_thread
from db.tickets import CATEGORIES
from db.users import Role, User
from events.types import TicketChanged
from operators.listen import SpyMode
from tickets.service import TicketError, assign, resolve
from web.auth import Auth
from web.i18n import texts
from web.inputs import Text

Listen = Callable[[int, int, SpyMode], Awaitable[str]]
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


def dashboard_router(auth: Auth, templates: Jinja2Templates, sessions: sessionmaker[Session], feed: DashboardFeed,
                     *, timezone: str, target_minutes: int, publish: Callable[[object], None],
                     listen: Listen | None = None) -> APIRouter:
    router = APIRouter(tags=["supervisors"])
    Staff = Annotated[Principal, Depends(auth.require(Role.supervisor, Role.admin))]

    @router.get("/dashboard", response_class=HTMLResponse)
    def page(request: Request, who: Staff) -> Response:
        """The live war-room dashboard."""
        lang = request.cookies.get("warroom_lang") or who.language
        return templates.TemplateResponse(request, "dashboard.html", {
            "who": who, "t": texts(lang), "lang": lang, "categories": CATEGORIES,
            "target_minutes": target_minutes})

    @router.get("/dashboard/events")
    async def events(_who: Staff) -> StreamingResponse:
        """Server-Sent Events: ``snapshot`` (everything), then ``live``, ``board`` and ``ticket`` pushes."""
        async def sse() -> AsyncIterator[str]:
            async for kind, data in feed.stream():
                if kind == "keep-alive":
                    yield ": keep-alive\n\n"
                else:
                    yield f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
        return StreamingResponse(sse(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @router.get("/api/dashboard")
    async def snapshot(_who: Staff) -> dict[str, Any]:
        """Everything the dashboard shows, now (what the event stream starts with)."""
        return await feed.snapshot()

    @router.get("/api/charts")
    async def chart_data(_who: Staff, campaign: UnitRef = None) -> dict[str, Any]:
        """Calls and answers by hour today, outcomes by booth status, survey answers, coverage by area."""
        return await in_thread(sessions, charts, timezone, campaign)

    @router.get("/api/drill")
    async def drill_down(_who: Staff, unit: UnitRef = None) -> dict[str, Any]:
        """One unit (default: the top) with its path, figures, survey answers and its children's figures."""
        try:
            return await in_thread(sessions, drill, unit)
        except DrillError as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.get("/api/tickets")
    async def ticket_list(
            _who: Staff, status: Literal["open", "assigned", "resolved"] | None = None,
            district: UnitRef = None, ac: UnitRef = None,
            category: Annotated[str | None, Query(pattern=CATEGORY)] = None) -> list[dict[str, Any]]:
        """The tickets board, filtered; without a status: open and assigned, and those resolved today."""
        f = BoardFilter(status, district, ac, category)
        return await in_thread(sessions, tickets_board, f, target_minutes)

    @router.get("/api/tickets/choices")
    async def ticket_choices(_who: Staff) -> dict[str, Any]:
        """What the board's filters and assign box offer: districts, ACs, categories, users."""
        def read(session: Session) -> dict[str, Any]:
            users = session.scalars(select(User.username).where(User.disabled.is_(False))
                                    .order_by(User.username)).all()
            return {**ticket_areas(session), "categories": list(CATEGORIES), "users": list(users)}
        return await in_thread(sessions, read)

    async def change(ticket_id: int, what: str, fn: Callable[[Session], object]) -> dict[str, Any]:
        def apply(session: Session) -> dict[str, Any] | None:
            fn(session)
            session.flush()
            return ticket_row(session, ticket_id, target_minutes)
        try:
            row = await in_thread(sessions, apply)
        except TicketError as exc:
            raise HTTPException(404 if str(exc).startswith("no ticket") else 409, str(exc)) from exc
        publish(TicketChanged(ticket_id, what))
        assert row is not None
        return row

    @router.post("/api/tickets/{ticket_id}/assign")
    async def assign_ticket(ticket_id: TicketId, body: AssignIn, _who: Staff) -> dict[str, Any]:
        """Assign a ticket to a user (by user name)."""
        def apply(session: Session) -> None:
            if session.scalar(select(User.id).where(User.username == body.to.strip().lower())) is None:
                raise TicketError(f"cannot assign ticket #{ticket_id}: there is no user '{body.to.strip()}'")
            assign(session, ticket_id, body.to.strip().lower())
        return await change(ticket_id, "assigned", apply)

    @router.post("/api/tickets/{ticket_id}/resolve")
    async def resolve_ticket(ticket_id: TicketId, body: ResolveIn, who: Staff) -> dict[str, Any]:
        """Mark a ticket resolved, saying how."""
        return await change(ticket_id, "resolved",
                            lambda s: resolve(s, ticket_id, f"{body.resolution.strip()} ({who.username})"))

    @router.post("/api/listen", status_code=201)
    async def listen_in(body: ListenRequest, who: Staff) -> dict[str, Any]:
        """Ring this supervisor's softphone and, when answered, listen to (or whisper to, or barge into)
        the operator's call."""
        if listen is None:
            raise HTTPException(503, "listening in is not available in this service")
        try:
            channel = await listen(who.user_id, body.operator_id, body.mode)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc
        return {"channel_id": channel, "mode": body.mode, "operator_id": body.operator_id}

    @router.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly() -> Response:
        path = await asyncio.to_thread(plotly_js)
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    return router
