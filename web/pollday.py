"""The poll-day board: the page, its data (JSON), its live stream (SSE: the whole board again each time a
report, an alert or a round changes for the AC, within a second) and a round's export (CSV / XLSX)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from core.errors import Unavailable
from events.types import PollDayChanged
from pollday.board import round_report
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


@router.get("/pollday/{ac}/events")
async def events(ac: AcId, request: Request, _who: Staff, svc: Services, auth: SignIn) -> StreamingResponse:
    """Server-Sent Events: ``board`` (the whole board) at once and after each change for this AC."""
    service = _pollday(svc)

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
                    data = await service.board(ac)
                except PlanInvalid:  # no plan yet: an empty board, filled once there is one
                    data = {"ac_id": ac, "round": 0, "rounds": [], "booths": 0, "reported": 0, "not_reported": 0,
                            "open_alerts": 0, "urgent_tickets": 0, "groups": {}}
                yield f"event: board\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
                while not changed.is_set():
                    try:
                        await asyncio.wait_for(changed.wait(), KEEP_ALIVE)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
        finally:
            service.bus.unsubscribe(PollDayChanged, hear)
    return StreamingResponse(auth.while_signed_in(request, STAFF_ROLES, sse()), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
