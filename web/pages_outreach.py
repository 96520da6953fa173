"""The voter outreach page: lists and their sizes, outreach campaigns (state, MCMC reference, progress,
scrubbed and why, attempts by outcome), today's missed calls by outcome, the do-not-call file's size, and
a number's request not to be called again (honoured by every list and campaign from the next attempt)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from core.errors import ServiceError, Unavailable
from outreach.service import OutreachService
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, refusal, render
from web.services import WebServices

router = APIRouter(tags=["outreach pages"])
MAX_ID = 2_147_483_647  # database ids are 32-bit


def _outreach(svc: WebServices) -> OutreachService:
    if svc.outreach is None:
        raise Unavailable("voter outreach is not available in this service")
    return svc.outreach


async def _page(request: Request, who: Any, svc: WebServices, status: int = 200, **context: Any) -> Response:
    outreach = _outreach(svc)
    return render(request, who, "outreach.html", status, overview=await outreach.overview(),
                  replies=await outreach.replies(), **context)


@router.get("/outreach", response_class=HTMLResponse)
async def outreach_page(request: Request, who: Staff, svc: Services, done: Text = "") -> Response:
    """Lists, outreach campaigns, missed calls and the do-not-call file, with an opt-out form."""
    return await _page(request, who, svc, opted=done == "opted_out")


@router.post("/outreach/opt-out", response_class=HTMLResponse)
async def opt_out(request: Request, who: Staff, svc: Services,
                  phone: Annotated[Text, Form(max_length=40)]) -> Response:
    """A request to the war room: this number is never called again."""
    try:
        await _outreach(svc).opt_out(phone, "request", acting(request, who))
    except ServiceError as exc:
        return await _page(request, who, svc, 422, errors=refusal(exc, "phone"), form={"phone": phone})
    return RedirectResponse("/outreach?done=opted_out", status_code=303)


@router.get("/outreach/replies/{reply_id}/audio", response_class=FileResponse,
            responses={200: {"content": {"audio/wav": {}}}})
async def reply_audio(request: Request, who: Staff, svc: Services,
                      reply_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> FileResponse:
    """A voice message left for the leader in a broadcast call (supervisors only; every play audited)."""
    where = await _outreach(svc).reply_to_play(reply_id, acting(request, who))
    return FileResponse(where, media_type="audio/wav")
