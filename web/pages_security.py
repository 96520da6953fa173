"""Proof and recordings: a member's hotline PIN set from their page (shown once, to be told to them), and
operators' call recordings, listed and played by supervisors and admins only (each play in the audit log;
operators are refused)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from core.errors import ServiceError
from web.deps import Services, Staff
from web.pages_common import acting, refusal, render

router = APIRouter(tags=["recordings and PINs"])
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("/directory/people/{person_id}/pin", response_class=HTMLResponse)
async def new_pin(request: Request, who: Staff, svc: Services, person_id: Id) -> Response:
    """A new hotline PIN for the person (random; replaces any): shown once on their page, to be told to them.
    The hotline reads their booth's instructions only after it."""
    try:
        out = await svc.pins.set(str(person_id), acting(request, who))
    except ServiceError as exc:
        person = await svc.directory.person(person_id)
        return render(request, who, "person.html", exc.http_status, person=person, form=None, saved="",
                      errors=refusal(exc))
    person = await svc.directory.person(person_id)
    return render(request, who, "person.html", person=person, form=None, saved="", new_pin=out["pin"])


@router.get("/api/recordings")
async def recordings(_who: Staff, svc: Services, attempt_id: OptionalId = None, campaign_id: OptionalId = None,
                     limit: Limit = 200) -> list[dict[str, Any]]:
    """Operators' recorded calls, newest first, each with its call (queue entry, attempt) and disposition."""
    return await svc.recordings.list(attempt_id=attempt_id, campaign_id=campaign_id, limit=limit)


@router.get("/recordings", response_class=HTMLResponse)
async def recordings_page(request: Request, who: Staff, svc: Services, campaign_id: OptionalId = None) -> Response:
    """Operators' recorded calls, playable in the page."""
    rows = await svc.recordings.list(campaign_id=campaign_id)
    return render(request, who, "recordings.html", rows=rows)


@router.get("/api/recordings/{recording_id}/audio", response_class=FileResponse,
            responses={200: {"content": {"audio/wav": {}}}})
async def recording_audio(request: Request, who: Staff, svc: Services, recording_id: Id) -> Response:
    """A recording's sound (WAV), for supervisors and admins; every request for it is in the audit log."""
    path = await svc.recordings.play(recording_id, acting(request, who))
    return FileResponse(path, media_type="audio/wav")
