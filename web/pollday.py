"""The poll-day board: the page, its data (JSON), its live stream (SSE: the whole board again each time a
report, an alert or a round changes for the AC, within a second) and a round's export (CSV / XLSX). Counting
day's result sheet the same way: its page, data, live stream and export, and an operator's figures for a
table."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, StringConstraints

from core.errors import Unavailable
from core.tasks import wait_event
from events.types import PollDayChanged
from pollday.board import round_report
from pollday.counting_board import sheet_report
from pollday.errors import PlanInvalid
from pollday.service import PollDayService
from reports.export import to_csv, to_xlsx
from web.deps import STAFF_ROLES, Acting, Services, SignIn, Staff
from web.i18n import texts
from web.rendering import templates
from web.services import WebServices

router = APIRouter(tags=["poll day"])
MAX_ID = 2_147_483_647
AcId = Annotated[int, Path(ge=1, le=MAX_ID)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEEP_ALIVE = 15.0


def _pollday(svc: WebServices) -> PollDayService:
    if svc.pollday is None:
        raise Unavailable("poll day is not running in this process")
    return svc.pollday


@router.get("/pollday/{ac}", response_class=HTMLResponse)
def page(ac: AcId, request: Request, who: Staff) -> Response:
    """The poll-day board of one AC, live."""
    lang = request.cookies.get("warroom_lang") or who.language
    return templates.TemplateResponse(request, "pollday.html", {"who": who, "t": texts(lang), "lang": lang,
                                                                "ac": ac})


@router.get("/api/pollday")
async def plan_list(_who: Staff, svc: Services) -> list[dict[str, Any]]:
    """Every AC's poll-day plan with its rounds."""
    return await _pollday(svc).plans()


@router.get("/api/pollday/{ac}/board")
async def board(ac: AcId, _who: Staff, svc: Services) -> dict[str, Any]:
    """Per booth: the latest turnout against its last election, supporters' share, this round's report,
    urgent tickets and alerts; booths grouped weak, swing, strong."""
    return await _pollday(svc).board(ac)


@router.get("/api/pollday/{ac}/reach")
async def round_reach(ac: AcId, _who: Staff, svc: Services, counting: bool = False) -> dict[str, Any]:
    """Who the AC's current (or next) turnout round, or counting round, would call and who the calling rules
    would hold back (and why), judged as the dialer will judge the round's calls."""
    return await _pollday(svc).reach(ac, counting=counting)


@router.post("/api/pollday/alerts/{alert_id}/done")
async def alert_done(alert_id: Annotated[int, Path(ge=1, le=MAX_ID)], _who: Staff, actor: Acting,
                     svc: Services) -> dict[str, Any]:
    """An operator called the booth back: the alert is done."""
    await _pollday(svc).close_alert(alert_id, actor)
    return {"done": alert_id}


@router.get("/api/pollday/{ac}/export", responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
async def export(ac: AcId, _who: Staff, svc: Services, round: Annotated[int, Query(ge=1, le=50)],
                 format: Literal["csv", "xlsx"] = "csv") -> Response:
    """One round of the AC, a row per booth."""
    report = round_report(await _pollday(svc).export(ac, round), ac, round)
    name = f"pollday-ac{ac}-round{round}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "xlsx":
        return Response(to_xlsx(report), media_type=XLSX, headers=headers)
    return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers=headers)


async def _stream(request: Request, service: PollDayService, ac: int, auth: SignIn, name: str,
                  read: Callable[[int], Awaitable[dict[str, Any]]], empty: dict[str, Any]) -> StreamingResponse:
    """Server-Sent Events ``name``: ``read(ac)`` at once and again after each change for this AC (``empty``
    while the AC has no plan)."""
    async def sse() -> AsyncIterator[str]:
        changed = asyncio.Event()

        def hear(event: PollDayChanged) -> None:
            if event.ac_id == ac:
                changed.set()

        service.bus.subscribe(PollDayChanged, hear)
        try:
            while True:
                changed.clear()
                try:
                    data = await read(ac)
                except PlanInvalid:  # no plan yet: an empty board, filled once there is one
                    data = {"ac_id": ac, **empty}
                yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
                while not changed.is_set():
                    if not await wait_event(changed, KEEP_ALIVE):
                        yield ": keep-alive\n\n"
        finally:
            service.bus.unsubscribe(PollDayChanged, hear)
    return StreamingResponse(auth.while_signed_in(request, STAFF_ROLES, sse()), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/pollday/{ac}/events")
async def events(ac: AcId, request: Request, _who: Staff, svc: Services, auth: SignIn) -> StreamingResponse:
    """Server-Sent Events: ``board`` (the whole board) at once and after each change for this AC."""
    service = _pollday(svc)
    return await _stream(request, service, ac, auth, "board", service.board, {
        "round": 0, "rounds": [], "booths": 0, "reported": 0, "not_reported": 0, "open_alerts": 0,
        "urgent_tickets": 0, "groups": {}})


# -- counting day -----------------------------------------------------------------------------------
class VotesIn(BaseModel):
    """One table's figures for a round, party by party (the sheet's short names), as an operator enters them."""

    round: int = Field(ge=1, le=60)
    table: int = Field(ge=1, le=50)
    votes: dict[Annotated[str, StringConstraints(min_length=1, max_length=40)],
                Annotated[int, Field(ge=-1_000_000, le=1_000_000)]] = Field(min_length=1, max_length=10)


@router.get("/pollday/{ac}/counting", response_class=HTMLResponse)
def counting_page(ac: AcId, request: Request, who: Staff) -> Response:
    """Counting day's result sheet of one AC, live: rounds by parties, the leader, tables not reported."""
    lang = request.cookies.get("warroom_lang") or who.language
    return templates.TemplateResponse(request, "counting.html", {"who": who, "t": texts(lang), "lang": lang,
                                                                 "ac": ac})


@router.get("/api/pollday/counting")
async def counting_plans(_who: Staff, svc: Services) -> list[dict[str, Any]]:
    """Every AC's counting plan with its rounds, tables and parties."""
    return await _pollday(svc).counting_plans()


@router.get("/api/pollday/{ac}/counting")
async def counting_sheet(ac: AcId, _who: Staff, svc: Services) -> dict[str, Any]:
    """The AC's round-wise result sheet: per round each party's votes, the total, the running totals, the
    leader and margin, the tables reported, partly reported and missing, and each table's figures."""
    return await _pollday(svc).counting_sheet(ac)


@router.get("/api/pollday/{ac}/counting/export", responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
async def counting_export(ac: AcId, _who: Staff, svc: Services, format: Literal["csv", "xlsx"] = "csv") -> Response:
    """The AC's result sheet: a row per round, then the totals."""
    report = sheet_report(await _pollday(svc).counting_sheet(ac))
    name = f"counting-ac{ac}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "xlsx":
        return Response(to_xlsx(report), media_type=XLSX, headers=headers)
    return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/api/pollday/{ac}/counting/votes")
async def counting_votes(ac: AcId, body: VotesIn, _who: Staff, actor: Acting, svc: Services) -> dict[str, Any]:
    """An operator's figures for a table's round (after calling the table back): checked like an agent's."""
    return await _pollday(svc).enter_votes(ac, body.round, body.table, dict(body.votes), actor)


@router.post("/api/pollday/counting/alerts/{alert_id}/done")
async def counting_alert_done(alert_id: Annotated[int, Path(ge=1, le=MAX_ID)], _who: Staff, actor: Acting,
                              svc: Services) -> dict[str, Any]:
    """An operator called the table back: the counting alert is done."""
    await _pollday(svc).close_count_alert(alert_id, actor)
    return {"done": alert_id}


@router.get("/pollday/{ac}/counting/events")
async def counting_events(ac: AcId, request: Request, _who: Staff, svc: Services, auth: SignIn) -> StreamingResponse:
    """Server-Sent Events: ``sheet`` (the whole result sheet) at once and after each change for this AC."""
    service = _pollday(svc)
    return await _stream(request, service, ac, auth, "sheet", service.counting_sheet, {
        "round": 0, "rounds": 0, "tables": 0, "parties": [], "rows": [], "totals": [], "total": 0, "leader": None,
        "margin": 0, "open_alerts": 0, "alerts": []})
