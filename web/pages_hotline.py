"""The hotline's instructions page: add an instruction for the booths under a unit, in a language; retire
one; and hear what a booth worker of a given booth is read when they ask for instructions (the text, and the
very sound file the hotline plays)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from core.errors import ServiceError
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, render
from web.services import WebServices

router = APIRouter(tags=["hotline pages"])
MAX_ID = 2_147_483_647
Booth = Annotated[Text, Query(max_length=200, description="a booth's key (booth:152:4) or id")]
Lang = Annotated[Text, Query(max_length=5)]


async def _page(request: Request, who: Any, svc: WebServices, booth: str, lang: str, status: int = 200,
                **context: Any) -> Response:
    heard, heard_error = None, None
    if booth:
        try:
            heard = await svc.scripts.booth_hears(booth, lang or "hi")
        except ServiceError as exc:
            heard_error = exc.message
    return render(request, who, "instructions.html", status, instructions=await svc.instructions.list(),
                  booth=booth, hear_lang=lang or "hi", heard=heard, heard_error=heard_error, **context)


@router.get("/instructions", response_class=HTMLResponse)
async def instructions_page(request: Request, who: Staff, svc: Services, booth: Booth = "",
                            lang: Lang = "") -> Response:
    """Instructions (newest first, retired ones too), the form to add one, and what a booth hears."""
    return await _page(request, who, svc, booth, lang)


@router.post("/instructions", response_class=HTMLResponse)
async def add_instruction(request: Request, who: Staff, svc: Services,
                          text: Annotated[Text, Form(max_length=2000)],
                          unit: Annotated[Text, Form(max_length=200)] = "",
                          language: Annotated[Text, Form(max_length=5)] = "hi") -> Response:
    """Add an instruction for the booths under ``unit`` (all booths when empty), in ``language``."""
    try:
        await svc.instructions.add(text, unit=unit.strip() or None, language=language, by=who.username,
                                   actor=acting(request, who))
    except ServiceError as exc:
        field = {"units": "unit"}.get(exc.field or "", exc.field or "text")
        return await _page(request, who, svc, "", "", 422, errors={field: exc.message},
                           form={"text": text, "unit": unit, "language": language})
    booth = unit.strip() if unit.strip().startswith("booth:") else ""
    return RedirectResponse(f"/instructions?booth={booth}&lang={language}" if booth else "/instructions",
                            status_code=303)


@router.post("/instructions/{instruction_id}/retire")
async def retire(request: Request, who: Staff, svc: Services,
                 instruction_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    """Stop reading an instruction (the next newest covering a booth is read instead)."""
    await svc.instructions.retire(instruction_id, acting(request, who))
    return RedirectResponse("/instructions", status_code=303)


@router.get("/instructions/hear", response_class=FileResponse, responses={200: {"content": {"audio/wav": {}}}})
async def hear(_who: Staff, svc: Services, booth: Booth, lang: Lang = "hi") -> Response:
    """The sound a booth worker of ``booth`` hears for the instructions (the hotline's own prompt file)."""
    path = await svc.scripts.booth_audio(booth, lang)
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-store"})
