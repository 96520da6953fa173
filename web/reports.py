"""Reports over HTTP: the same figures as ``warroom report``, as JSON, CSV or XLSX downloads
(spreadsheet formulas neutralised)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from db.engine import in_thread
from dialer.campaigns import CampaignError, get_campaign
from reports.areas import ac_report
from reports.calls import campaign_report, day_report
from reports.export import to_csv, to_xlsx
from reports.model import Period, Report, ReportError
from reports.operators import operator_report, shift_report
from reports.shifts import Shift
from web.inputs import Text

Kind = Literal["campaign", "day", "operator", "shift", "ac"]
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
Since = Annotated[date | None, Query(description="first local day (YYYY-MM-DD)")]
Until = Annotated[date | None, Query(description="last local day, included")]
CampaignRef = Annotated[Text | None, Query(max_length=120, description="only this campaign (name or id)")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build_report(session: Session, kind: str, period: Period, campaign: str | None,
                 shifts: tuple[Shift, ...]) -> Report:
    campaign_id = get_campaign(session, campaign.strip()).id if campaign else None
    if kind == "campaign":
        return campaign_report(session, period, campaign_id)
    if kind == "day":
        return day_report(session, period, campaign_id)
    if kind == "ac":
        return ac_report(session, period, campaign_id)
    if kind == "operator":
        return operator_report(session, period)
    return shift_report(session, shifts, period)


def reports_router(sessions: sessionmaker[Session], *, timezone: str, shifts: tuple[Shift, ...],
                   guard: Callable[..., Any]) -> APIRouter:
    router = APIRouter(prefix="/api/reports", tags=["reports"], dependencies=[Depends(guard)])

    @router.get("/{kind}", responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
    async def report(kind: Kind, format: Literal["json", "csv", "xlsx"] = "json",
                     since: Since = None, until: Until = None, campaign: CampaignRef = None) -> Response:
        """Figures per campaign, day, operator, shift (the call center's shifts) or AC."""
        for name, day in (("since", since), ("until", until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise HTTPException(422, f"{name} ({day}) is outside {FIRST_DAY} .. {LAST_DAY}")
        if campaign and kind in ("operator", "shift"):
            raise HTTPException(422, f"the {kind} report is not per campaign: leave out campaign")
        try:
            period = Period(since=since, until=until, timezone=timezone)
            result = await in_thread(sessions, build_report, kind, period, campaign, shifts)
        except CampaignError as exc:
            raise HTTPException(404, str(exc)) from exc
        except ReportError as exc:
            raise HTTPException(422, str(exc)) from exc
        stamp = f"{kind}-{since or 'start'}-{until or 'now'}"
        if format == "csv":
            return Response(to_csv(result), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="warroom-{stamp}.csv"'})
        if format == "xlsx":
            return Response(to_xlsx(result), media_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="warroom-{stamp}.xlsx"'})
        return JSONResponse(result.as_dict())

    return router
