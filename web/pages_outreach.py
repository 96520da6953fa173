"""The voter outreach page: lists and their sizes, outreach campaigns (state, MCMC reference, progress,
scrubbed and why, attempts by outcome), today's missed calls by outcome, the do-not-call file's size, a
number's request not to be called again (honoured by every list and campaign from the next attempt), and the
leader's broadcast message uploaded (WAV/MP3/OGG, converted for the telephone; its length shown, heard in
the browser)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, BinaryIO
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from core.errors import Invalid, NotFound, ServiceError, Unavailable
from outreach.recordings import FORMATS
from outreach.service import OutreachService
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, refusal, render
from web.services import WebServices

router = APIRouter(tags=["outreach pages"])
MAX_ID = 2_147_483_647  # database ids are 32-bit
MAX_UPLOAD = 64 << 20   # bytes: five minutes of 48 kHz stereo WAV, the longest message, with room to spare
RecordingName = Annotated[str, Path(pattern=r"^[\w\-]{1,60}$")]


def _outreach(svc: WebServices) -> OutreachService:
    if svc.outreach is None:
        raise Unavailable("voter outreach is not available in this service")
    return svc.outreach


async def _page(request: Request, who: Any, svc: WebServices, status: int = 200, **context: Any) -> Response:
    outreach = _outreach(svc)
    overview = await outreach.overview()
    options = [("", "—")] + [(c["name"], c["name"]) for c in overview["campaigns"] if c["state"] != "stopped"]
    return render(request, who, "outreach.html", status, overview=overview, replies=await outreach.replies(),
                  recordings=await outreach.recordings(), campaign_options=options, max_upload_mb=MAX_UPLOAD >> 20,
                  **context)


@router.get("/outreach", response_class=HTMLResponse)
async def outreach_page(request: Request, who: Staff, svc: Services, done: Text = "",
                        recorded: Annotated[Text, Query(max_length=60)] = "") -> Response:
    """Lists, outreach campaigns, missed calls and the do-not-call file, with an opt-out form and the broadcast
    message's upload (``recorded``: the recording just uploaded, shown with its length)."""
    return await _page(request, who, svc, opted=done == "opted_out", recorded=recorded)


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


@router.post("/outreach/recordings", response_class=HTMLResponse)
async def upload_recording(request: Request, who: Staff, svc: Services, file: Annotated[UploadFile, File()],
                           name: Annotated[Text, Form(max_length=60)],
                           campaign: Annotated[Text, Form(max_length=120)] = "") -> Response:
    """The leader's broadcast message (WAV, MP3 or OGG, at most 64 MB and five minutes): converted to 8 kHz mono
    and loudness-normalised, kept as ``name`` and, with a campaign chosen, played by that campaign's calls.
    The page shows its length; a file that is no recording is refused saying why."""
    form = {"name": name, "campaign": campaign}
    shown = re.sub(r"[^\w.\-]+", "_", FilePath((file.filename or "").replace("\\", "/")).name).strip("._")[:100]
    try:
        if FilePath(shown).suffix.lower() not in FORMATS:
            raise Invalid(f"{shown or 'the file'}: a recording is a .wav, .mp3 or .ogg file", field="file")
        with tempfile.TemporaryDirectory(prefix="warroom-recording-") as folder:
            path = FilePath(folder) / shown
            if not await run_in_threadpool(_save, file.file, path, MAX_UPLOAD):
                return await _page(request, who, svc, 413, form=form, errors={
                    "file": f"{shown}: larger than {MAX_UPLOAD >> 20} MB (a message is at most five minutes)"})
            await _outreach(svc).add_recording(path, name.strip(), campaign.strip() or None,
                                                         acting(request, who))
    except ServiceError as exc:
        return await _page(request, who, svc, 422, form=form,
                           errors=refusal(exc, "campaign" if isinstance(exc, NotFound) else "file"))
    return RedirectResponse(f"/outreach?{urlencode({'recorded': name.strip()})}#recording-h", status_code=303)


@router.get("/outreach/recordings/{name}/audio", response_class=FileResponse,
            responses={200: {"content": {"audio/wav": {}}}})
async def recording_audio(_who: Staff, svc: Services, name: RecordingName) -> FileResponse:
    """A broadcast recording as the calls play it (8 kHz mono WAV), to hear it before a campaign starts."""
    return FileResponse(await _outreach(svc).recording_file(name), media_type="audio/wav")


def _save(source: BinaryIO, path: FilePath, limit: int) -> bool:
    """Copy the upload to ``path``; False (and nothing kept) when it is larger than ``limit`` bytes."""
    done = 0
    with open(path, "wb") as out:
        while chunk := source.read(1 << 20):
            done += len(chunk)
            if done > limit:
                break
            out.write(chunk)
    if done > limit:
        path.unlink(missing_ok=True)
        return False
    return True
