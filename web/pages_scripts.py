"""IVR script pages: the built-in and the war room's own scripts (and the campaigns that play them), a
script's source with every text previewed for a member (text and sound), and uploading or editing one: it is
checked first (the checks of ``warroom ivr validate``), its problems shown at their lines, and nothing
changes until it has none; a saved version is played by calls that start after it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from core.errors import ServiceError
from ivr_scripts.problems import Problem, ScriptInvalid
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, render
from web.services import WebServices

router = APIRouter(tags=["script pages"])
MAX_ID = 2_147_483_647
MAX_SCRIPT = 200_000  # characters: a script is a few kilobytes
Name = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,59}$")]
Member = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Lang = Annotated[Text, Query(max_length=5)]


def numbered(text: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """The script's lines, each with the problems found on it."""
    at: dict[int, list[str]] = {}
    for p in problems:
        at.setdefault(p.line, []).append(p.message)
    lines = text.splitlines() or [""]
    late = [m for n, ms in at.items() if n > len(lines) for m in ms]  # past the last line: shown on it
    return [{"n": i, "text": line, "problems": at.get(i, []) + (late if i == len(lines) else [])}
            for i, line in enumerate(lines, start=1)]


async def _list(request: Request, who: Any, svc: WebServices, status: int = 200, **context: Any) -> Response:
    return render(request, who, "scripts.html", status, **await svc.scripts.scripts(), **context)


@router.get("/scripts", response_class=HTMLResponse)
async def scripts_page(request: Request, who: Staff, svc: Services) -> Response:
    """The scripts with where each comes from and which campaigns play it, and the upload form."""
    return await _list(request, who, svc)


@router.get("/scripts/{name}", response_class=HTMLResponse)
async def script_page(request: Request, who: Staff, svc: Services, name: Name, member: Member = None,
                      lang: Lang = "", saved: Annotated[Text, Query(max_length=10)] = "") -> Response:
    """A script: its source (editable when the war room has its own folder) and every text as ``member`` (a
    made-up member without one) hears it, in ``lang``."""
    listing = await svc.scripts.scripts()
    found = next((s for s in listing["scripts"] if s["name"] == name), None)
    if found is None:
        return await _list(request, who, svc, 404, errors={"form": f"no IVR script named '{name}'"})
    preview, preview_error = None, None
    try:
        preview = await svc.scripts.preview(name, member=member, language=lang or None)
    except ServiceError as exc:
        preview_error = exc.message
    text = svc.scripts.source(name)
    return render(request, who, "script.html", script=found, text=text, lines=numbered(text, []), problems=[],
                  preview=preview, preview_error=preview_error, member=member, preview_lang=lang,
                  own_dir=listing["own_dir"], saved=saved)


@router.post("/scripts", response_class=HTMLResponse)
async def save_script(request: Request, who: Staff, svc: Services,
                      text: Annotated[str, Form(max_length=MAX_SCRIPT)] = "",
                      file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Upload (a file) or edit (the text) a script: checked first; saved and played by new calls only when
    it has no problem. Problems come back at their lines, and nothing changes."""
    if file is not None and file.filename:
        raw = await file.read(MAX_SCRIPT + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            return _problems(request, who, svc, text, [Problem(1, "the file is not UTF-8 text")])
        if len(raw) > MAX_SCRIPT:
            return _problems(request, who, svc, text[:MAX_SCRIPT], [Problem(1, "the file is too long for a script")])
    problems = svc.scripts.check(text)
    if problems:
        return _problems(request, who, svc, text, problems)
    try:
        saved = await svc.scripts.save(text, acting(request, who))
    except ScriptInvalid as exc:
        return _problems(request, who, svc, text, exc.problems)
    except ServiceError as exc:
        return _problems(request, who, svc, text, [], exc.message, exc.http_status)
    return RedirectResponse(f"/scripts/{saved['name']}?saved={saved['was'][:10]}", status_code=303)


def _problems(request: Request, who: Any, svc: WebServices, text: str, problems: list[Problem],
              refused: str | None = None, status: int = 422) -> Response:
    """The submitted text again, each problem at its line (nothing was saved)."""
    return render(request, who, "script.html", status, script=None, text=text, lines=numbered(text, problems),
                  problems=problems, preview=None, preview_error=None, member=None, preview_lang="",
                  own_dir=str(svc.scripts.library.own_dir or ""), saved="", errors={"form": refused} if refused else {})


@router.get("/scripts/{name}/audio", response_class=FileResponse, responses={200: {"content": {"audio/wav": {}}}})
async def script_audio(_who: Staff, svc: Services, name: Name, step: Annotated[Text, Query(max_length=60)],
                       part: Annotated[Text, Query(max_length=20)] = "text", member: Member = None, lang: Lang = "",
                       campaign: Annotated[Text | None, Query(max_length=120)] = None,
                       field_name: Annotated[list[Text], Query(max_length=30)] = [],  # noqa: B006 (FastAPI copies it)
                       field_value: Annotated[list[Text], Query(max_length=30)] = []) -> Response:  # noqa: B006
    """One text of a preview as sound: the very file a call plays (made by the synthesiser once, cached)."""
    fields = {k: v for k, v in zip(field_name, field_value, strict=False) if k} if field_name else None
    path = await svc.scripts.audio(name, step, part, member=member, language=lang or None, campaign=campaign,
                                   fields=fields)
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "max-age=3600"})
