"""Directory import pages: upload a CSV/XLSX, see the dry run's row accounting (created / updated /
unchanged / merged / rejected with line, column and reason) and download the rejects file, then import for
real; each import runs in the background and its page follows it (and can be closed and opened again).
Past booth results are uploaded here too."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from core.errors import ServiceError
from directory.jobs import safe_name
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, refusal, render
from web.services import WebServices

router = APIRouter(tags=["directory import pages"])
MAX_ID = 2_147_483_647
JobId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def _page(request: Request, who: Any, svc: WebServices, status: int = 200, **context: Any) -> Response:
    return render(request, who, "imports.html", status, jobs=await svc.directory.import_jobs(), **context)


@router.get("/directory/imports", response_class=HTMLResponse)
async def imports_page(request: Request, who: Staff, svc: Services) -> Response:
    """The upload forms (members; past booth results) and the latest imports."""
    return await _page(request, who, svc)


@router.post("/directory/imports", response_class=HTMLResponse)
async def upload_members(request: Request, who: Staff, svc: Services, file: Annotated[UploadFile, File()],
                         dry_run: Annotated[Text, Form(max_length=5)] = "on",
                         state: Annotated[Text, Form(max_length=100)] = "") -> Response:
    """Upload committee members and import them in the background (a dry run first, unless unticked); on to
    the import's page."""
    try:
        job = await svc.directory.start_import(file.filename or "", file.file, acting(request, who),
                                               dry_run=bool(dry_run), default_state=state.strip() or "State")
    except ServiceError as exc:
        return await _page(request, who, svc, 422, errors=refusal(exc, "file"))
    return RedirectResponse(f"/directory/imports/{job['id']}", status_code=303)


@router.get("/directory/imports/{job_id}", response_class=HTMLResponse)
async def job_page(request: Request, who: Staff, svc: Services, job_id: JobId) -> Response:
    """An import: live progress while it runs (the page refreshes itself, or its script asks for the
    status), then the row accounting, each rejection with its reason, and the rejects file."""
    return render(request, who, "import_job.html", job=await svc.directory.import_job(job_id))


@router.get("/directory/imports/{job_id}/status")
async def job_status(_who: Staff, svc: Services, job_id: JobId) -> dict[str, Any]:
    """An import's state and rows done so far (what its page's script polls)."""
    job = await svc.directory.import_job(job_id)
    return {k: job[k] for k in ("id", "state", "rows_done", "rows_total", "percent", "error", "dry_run")}


@router.post("/directory/imports/{job_id}/confirm")
async def confirm(request: Request, who: Staff, svc: Services, job_id: JobId) -> Response:
    """Import for real the file this dry run checked."""
    job = await svc.directory.confirm_import(job_id, acting(request, who))
    return RedirectResponse(f"/directory/imports/{job['id']}", status_code=303)


@router.get("/directory/imports/{job_id}/rejects", response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def rejects(_who: Staff, svc: Services, job_id: JobId) -> Response:
    """The rejected rows (the import's columns plus line, column and reason), to correct and upload again."""
    path = await svc.directory.rejects_file(job_id)
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=f"import-{job_id}-rejects.csv")


@router.post("/directory/results", response_class=HTMLResponse)
async def upload_results(request: Request, who: Staff, svc: Services, file: Annotated[UploadFile, File()],
                         year: Annotated[int | None, Form(ge=1950, le=2100)] = None,
                         kind: Annotated[Text, Form(max_length=30)] = "",
                         dry_run: Annotated[Text, Form(max_length=5)] = "") -> Response:
    """Past booth results (one column of votes per party); the booths' status is computed again."""
    try:
        name = safe_name(file.filename or "")
        with tempfile.TemporaryDirectory(prefix="warroom-results-") as folder:
            path = FilePath(folder) / name
            await run_in_threadpool(_save, file, path)
            summary = await svc.directory.import_results(path, year=year, kind=kind.strip() or None,
                                                         dry_run=bool(dry_run), actor=acting(request, who))
    except ServiceError as exc:
        return await _page(request, who, svc, 422, errors={"results_file": exc.message})
    return await _page(request, who, svc, results=summary.as_dict(), results_dry_run=bool(dry_run))


def _save(upload: UploadFile, path: FilePath) -> None:
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
