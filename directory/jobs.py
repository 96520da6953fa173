"""Directory imports started from the pages, run in the background one at a time (a thread of their own,
so they outlive the request that started them).

Each job is a row (:class:`db.jobs.ImportJob`): queued, running, then done, failed or interrupted, with who
started it, the row accounting and the error, so a page closed and opened again, another supervisor, or a
service restarted since all see the same job. While a job runs, the rows done so far are kept here, by job
id, and read from memory: a dry run keeps its one transaction open until it rolls back, and SQLite lets one
writer at a time, so progress is not written after every batch. A job the database says is running but
this service did not start was cut short by a restart: it reads as ``interrupted`` (a real import keeps the
batches it had committed). Files live in the job's folder: the upload (a real import reads its dry run's)
and the rejects file."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Conflict, Invalid, NotFound, ServiceError, Unavailable
from core.files import private_dir
from db.engine import Database
from db.jobs import ImportJob, JobState
from db.models import utcnow
from directory.files import RejectsFile, count_rows
from directory.importer import ImportOptions, ImportSummary, Rejection

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
REJECTS = "rejects.csv"
KEEP_UPLOADS = timedelta(days=7)  # an upload not imported for real by then is deleted (personal data)
Importer = Callable[[Path, ImportOptions, Callable[[int], None], Callable[[Rejection], None]], ImportSummary]


def safe_name(filename: str) -> str:
    """The uploaded file's name without any folder and with only harmless characters (``members.xlsx``)."""
    name = re.sub(r"[^\w.\-]+", "_", Path(filename.replace("\\", "/")).name).strip("._")[:100]
    if not name.lower().endswith(SUFFIXES):
        raise Invalid(f"'{filename}': upload a .csv or .xlsx file", field="file")
    return name


class ImportJobs:
    """``run`` imports one file (the directory service's import, with progress and rejects callbacks); files
    go under ``work_dir`` (None: imports from the pages are not available)."""

    def __init__(self, db: Database, work_dir: Path | None, run: Importer) -> None:
        self.db, self.work_dir, self.run = db, work_dir, run
        self._pool: ThreadPoolExecutor | None = None
        self._live: dict[int, int] = {}  # job id -> rows done, for this service's queued and running jobs
        self._since = utcnow()  # jobs queued or running from before this are from a service that stopped

    def folder(self, job_id: int) -> Path:
        if self.work_dir is None:
            raise Unavailable("imports from the pages need a folder for the files (the state directory)")
        return self.work_dir / str(job_id)

    async def start(self, filename: str, data: BinaryIO, actor: Actor, *, dry_run: bool = True,
                    default_state: str = "State") -> dict[str, Any]:
        """Store the upload and queue its import (a dry run unless ``dry_run`` is false)."""
        name = safe_name(filename)
        self.folder(0)  # refuse before anything is stored

        def create(session: Session) -> int:
            job = ImportJob(filename=name, dry_run=dry_run, created_by=actor.name[:100], created_at=utcnow())
            session.add(job)
            session.flush()
            record(session, actor, "directory.import.start", f"import:{job.id}", detail={"dry_run": dry_run})
            return job.id

        job_id = await self.db.run(create)
        self._live[job_id] = 0
        try:
            upload = await asyncio.to_thread(self._store, job_id, name, data)
        except OSError as exc:
            self._live.pop(job_id, None)
            await self.db.run(self._finish, job_id, None, f"the upload could not be stored: {exc}", actor)
        else:
            self._queue(job_id, upload, ImportOptions(dry_run=dry_run, default_state=default_state, source="web"),
                        actor)
        return await self.get(job_id)

    async def confirm(self, dry_run_id: int, actor: Actor) -> dict[str, Any]:
        """Import for real the file a finished dry run checked (once)."""
        def create(session: Session) -> tuple[int, str]:
            checked = session.get(ImportJob, dry_run_id)
            if checked is None:
                raise NotFound(f"no import #{dry_run_id}")
            if not checked.dry_run or checked.state is not JobState.done:
                raise Conflict(f"import #{dry_run_id} is not a finished dry run")
            again = session.scalar(select(ImportJob.id).where(ImportJob.checked_by == dry_run_id,
                                                              ImportJob.state != JobState.failed))
            if again is not None:
                raise Conflict(f"the file of #{dry_run_id} is already imported (import #{again})")
            job = ImportJob(filename=checked.filename, dry_run=False, checked_by=dry_run_id,
                            rows_total=checked.rows_done, created_by=actor.name[:100], created_at=utcnow())
            session.add(job)
            session.flush()
            record(session, actor, "directory.import.start", f"import:{job.id}",
                   detail={"dry_run": False, "checked_by": dry_run_id})
            return job.id, checked.filename

        job_id, name = await self.db.run(create)
        upload = self.folder(dry_run_id) / name
        if not upload.exists():
            await self.db.run(self._finish, job_id, None, "the uploaded file is gone: upload it again", actor)
        else:
            self._queue(job_id, upload, ImportOptions(source="web"), actor)
        return await self.get(job_id)

    def _store(self, job_id: int, name: str, data: BinaryIO) -> Path:
        self._prune()
        target = private_dir(self.folder(job_id)) / name
        with open(target, "wb") as out:
            shutil.copyfileobj(data, out, 1 << 20)
        total = count_rows(target)
        self.db.transaction(lambda s: setattr(s.get(ImportJob, job_id), "rows_total", total))
        return target

    def _prune(self) -> None:
        """Delete uploads older than :data:`KEEP_UPLOADS` (rejects files stay)."""
        old = utcnow() - KEEP_UPLOADS
        ids = self.db.transaction(lambda s: list(s.scalars(select(ImportJob.id).where(ImportJob.created_at < old))))
        for job_id in ids:
            folder = self.folder(job_id)
            for path in folder.glob("*") if folder.is_dir() else []:
                if path.name != REJECTS:
                    path.unlink(missing_ok=True)

    def _queue(self, job_id: int, upload: Path, options: ImportOptions, actor: Actor) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="directory-import")
        self._live[job_id] = 0
        self._pool.submit(self._work, job_id, upload, options, actor)

    def _work(self, job_id: int, upload: Path, options: ImportOptions, actor: Actor) -> None:
        summary: ImportSummary | None = None
        error = None
        try:
            self.db.transaction(self._started, job_id)

            def progress(rows: int) -> None:
                self._live[job_id] = self._live.get(job_id, 0) + rows

            with RejectsFile(private_dir(self.folder(job_id)) / REJECTS) as rejects:
                summary = self.run(upload, options, progress, rejects)
        except ServiceError as exc:
            error = exc.message
        except Exception as exc:  # a job's failure is shown on its page and logged, never lost
            log.exception("directory import #%d failed", job_id)
            error = f"the import broke: {type(exc).__name__}: {exc}"[:1000]
        try:
            self.db.transaction(self._finish, job_id, summary, error, actor)
            if summary is not None and not options.dry_run:
                upload.unlink(missing_ok=True)  # imported: the personal data is in the directory now
        finally:
            self._live.pop(job_id, None)

    @staticmethod
    def _started(session: Session, job_id: int) -> None:
        job = session.get(ImportJob, job_id)
        assert job is not None
        job.state, job.started_at = JobState.running, utcnow()

    @staticmethod
    def _finish(session: Session, job_id: int, summary: ImportSummary | None, error: str | None,
                actor: Actor) -> None:
        job = session.get(ImportJob, job_id)
        assert job is not None
        job.finished_at = utcnow()
        if summary is None:
            job.state, job.error = JobState.failed, error or "the import did not finish"
        else:
            job.state, job.summary, job.rows_done = JobState.done, summary.as_dict(), summary.rows
        counts = {k: getattr(summary, k) for k in ("rows", "created", "updated", "unchanged", "merged",
                                                   "rejected")} if summary else {}
        record(session, actor, "directory.import" if not job.dry_run else "directory.import.dry_run",
               f"import:{job_id}", detail=counts, outcome="ok" if summary else "failed")

    async def get(self, job_id: int) -> dict[str, Any]:
        """A job as its page shows it."""
        def work(session: Session) -> dict[str, Any]:
            job = session.get(ImportJob, job_id)
            if job is None:
                raise NotFound(f"no import #{job_id}")
            self._mark_lost(job)
            after = session.scalar(select(ImportJob.id).where(ImportJob.checked_by == job_id,
                                                              ImportJob.state != JobState.failed))
            return self._row(job, after)

        return await self.db.run(work)

    async def list(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest jobs, newest first."""
        def work(session: Session) -> list[dict[str, Any]]:
            jobs = session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)).all()
            for job in jobs:
                self._mark_lost(job)
            return [self._row(job, None) for job in jobs]

        return await self.db.run(work)

    def _mark_lost(self, job: ImportJob) -> None:
        if job.state in (JobState.queued, JobState.running) and job.created_at < self._since:
            job.state, job.finished_at = JobState.interrupted, job.finished_at or utcnow()
            job.error = "the service stopped while this import ran: check the directory, then import again"

    def _row(self, job: ImportJob, imported_as: int | None) -> dict[str, Any]:
        done = self._live.get(job.id, job.rows_done) if job.state is JobState.running else job.rows_done
        total = job.rows_total
        rejects = self.work_dir is not None and (self.folder(job.id) / REJECTS).exists()
        return {"id": job.id, "filename": job.filename, "dry_run": job.dry_run, "state": job.state.value,
                "rows_total": total, "rows_done": done,
                "percent": 100 if job.state is JobState.done else
                min(99, round(100 * done / total)) if total else None,
                "summary": job.summary, "error": job.error, "checked_by": job.checked_by, "imported_as": imported_as,
                "created_by": job.created_by, "created_at": job.created_at.isoformat(),
                "started_at": job.started_at.isoformat() if job.started_at else None,
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
                "rejects": bool(rejects and job.summary and job.summary.get("rejected"))}

    async def rejects(self, job_id: int) -> Path:
        """The job's rejects file (the rejected rows, to correct and import again)."""
        path = self.folder(job_id) / REJECTS
        job = await self.get(job_id)
        if not job["rejects"] or not path.exists():
            raise NotFound(f"import #{job_id} has no rejected rows")
        return path

    def close(self) -> None:
        """Stop taking jobs; one running finishes in its thread (a stopped service reads it as interrupted)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def wait(self) -> None:
        """Wait for every queued job to end (tests, and a command that must not exit first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
