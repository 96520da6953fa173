"""Reports over HTTP: the same figures as ``warroom report``, as JSON, CSV or XLSX downloads
(spreadsheet formulas neutralised)."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from reports.export import to_csv, to_xlsx
from reports.service import Kind
from web.deps import Acting, Services, Staff
from web.inputs import Text

router = APIRouter(prefix="/api/reports", tags=["reports"])
Since = Annotated[date | None, Query(description="first local day (YYYY-MM-DD)")]
Until = Annotated[date | None, Query(description="last local day, included")]
CampaignRef = Annotated[Text | None, Query(max_length=120, description="only this campaign (name or id)")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/{kind}", responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
async def report(kind: Kind, _who: Staff, actor: Acting, svc: Services,
                 format: Literal["json", "csv", "xlsx"] = "json", since: Since = None, until: Until = None,
                 campaign: CampaignRef = None) -> Response:
    """Figures per campaign, day, operator, shift (the call center's shifts) or AC (each download is in the
    audit log)."""
    result = await svc.reports.build(kind, since=since, until=until, campaign=campaign, actor=actor, fmt=format)
    stamp = f"{kind}-{since or 'start'}-{until or 'now'}"
    if format == "csv":
        return Response(to_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="warroom-{stamp}.csv"'})
    if format == "xlsx":
        return Response(to_xlsx(result), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="warroom-{stamp}.xlsx"'})
    return JSONResponse(result.as_dict())
