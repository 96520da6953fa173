"""HTTP API: campaigns' pacing (the same operations as ``warroom campaign pacing``), the pacing board the
dashboard shows, and the call-back tasks abandoned calls leave for operators (the operators' console takes and
closes them: ``web/console.py``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from core.errors import Unavailable
from db.users import Role
from operators.pacing_service import PacingService
from operators.screen import mask
from web.deps import Acting, Anyone, Services, Staff
from web.inputs import Text
from web.pages_common import acting
from web.services import WebServices

router = APIRouter(tags=["pacing"])
MAX_ID = 2_147_483_647
TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]


class PacingIn(BaseModel):
    pacing: Literal["progressive", "predictive"] | None = None
    abandon_cap: float | None = Field(None, gt=0, le=0.2, description="abandoned / answered, e.g. 0.03 for 3%")


class DoneIn(BaseModel):
    notes: Text | None = Field(None, max_length=2000)


def _pacing(svc: WebServices) -> PacingService:
    if svc.pacing is None:
        raise Unavailable("pacing is not available in this service")
    return svc.pacing


@router.get("/api/pacing")
async def board(_who: Staff, svc: Services) -> dict[str, Any]:
    """Per operator campaign: pacing mode, dial level, abandon rate over the window and today against the cap;
    the operators' occupancy and wait between calls."""
    return await _pacing(svc).board()


@router.put("/api/campaigns/{ref}/pacing")
async def set_pacing(ref: Text, body: PacingIn, _who: Staff, actor: Acting, svc: Services) -> dict[str, Any]:
    """Switch a campaign between progressive and predictive and/or set its abandon cap (audited)."""
    return await _pacing(svc).set(ref, actor, body.pacing, body.abandon_cap)


@router.get("/api/callbacks")
async def call_backs(who: Anyone, svc: Services,
                     state: Literal["open", "taken", "done", "failed"] | None = "open",
                     campaign: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> list[dict[str, Any]]:
    """Call-back tasks (open ones by default): people whose answered call no operator took in time. An
    operator sees a number whole only on a task they took (as on their console)."""
    rows = await svc.callbacks.listed(state, campaign)
    if who.role is Role.operator:
        rows = [{**r, "phone": r["phone"] if r["state"] == "taken" and r["done_by"] == who.username
                 else mask(r["phone"])} for r in rows]
    return rows


@router.post("/api/callbacks/{task_id}/done")
async def call_back_done(task_id: TaskId, body: DoneIn, _who: Anyone, actor: Acting,
                         svc: Services) -> dict[str, Any]:
    """The person was called back (by the signed-in user; refused on a task another operator took)."""
    return await svc.callbacks.done(task_id, actor, body.notes)


@router.post("/campaigns/{campaign_id}/pacing")
async def pacing_form(request: Request, who: Staff, svc: Services,
                      campaign_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                      pacing: Annotated[Literal["progressive", "predictive"], Form()],
                      cap: Annotated[float, Form(gt=0, le=20, description="percent")]) -> Response:
    """The campaign page's pacing form (the cap in percent)."""
    await _pacing(svc).set(str(campaign_id), acting(request, who), pacing, cap / 100)
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)
