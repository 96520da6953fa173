"""The committee directory's use cases, for the command line and the pages: import and export members (from
the pages as background jobs), coverage, browsing units and people, a person's corrections, past booth
results and a booth's status, the demo directory, and the phones in it. The work itself lives in the
modules beside this one; here each use case gets its transactions, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from db.engine import Database
from db.models import Person
from directory.browse import common_posts, find_people, find_units, unit_page
from directory.coverage import Coverage, coverage
from directory.demo import DemoSpec, load_demo
from directory.exporter import export_rows
from directory.importer import ImportOptions, ImportSummary, Rejection, import_file
from directory.jobs import ImportJobs
from directory.people import PersonEdit, edit_person, person_page
from directory.reader import FileFormatError
from directory.results import ResultsSummary, import_results, set_override
from directory.status import StatusRules

SYSTEM = Actor.system()


class DirectoryService:
    """``rules`` derive a booth's status from its results; ``verify_days`` is how long a member may go
    unverified before coverage lists them; ``work_dir`` holds the files of imports started from the pages."""

    def __init__(self, db: Database, *, rules: StatusRules, verify_days: int = 30,
                 work_dir: Path | None = None) -> None:
        self.db, self.rules, self.verify_days = db, rules, verify_days
        self.jobs = ImportJobs(db, work_dir, self._import)

    def _import(self, path: Path, options: ImportOptions | None, progress: Callable[[int], None] | None = None,
                on_reject: Callable[[Rejection], None] | None = None,
                on_done: Callable[[Session, ImportSummary], None] | None = None) -> ImportSummary:
        try:
            return import_file(self.db.sessions, path, options=options, progress=progress, on_reject=on_reject,
                               on_done=on_done)
        except FileFormatError as exc:
            raise FileFormatError(f"{exc} (nothing was imported)") from exc

    async def import_members(self, path: Path, options: ImportOptions | None = None, *,
                             progress: Callable[[int], None] | None = None,
                             on_reject: Callable[[Rejection], None] | None = None,
                             actor: Actor = SYSTEM) -> ImportSummary:
        """Import committee members from a CSV/XLSX file; each row ends created, updated, unchanged, merged or
        rejected (with why). A file that cannot be read imports nothing. The import's counts go into the
        audit log with its last batch."""
        def audit(session: Session, summary: ImportSummary) -> None:
            counts = {k: v for k, v in summary.as_dict().items() if isinstance(v, int) and not isinstance(v, bool)}
            record(session, actor, "directory.import", detail={"file": path.name[:80], **counts})

        return await asyncio.to_thread(self._import, path, options, progress, on_reject, audit)

    async def start_import(self, filename: str, data: BinaryIO, actor: Actor, *, dry_run: bool = True,
                           default_state: str = "State") -> dict[str, Any]:
        """Store an uploaded file and import it in the background (the same import as :meth:`import_members`,
        rejected rows written to the job's rejects file); the job, to follow with :meth:`import_job`."""
        return await self.jobs.start(filename, data, actor, dry_run=dry_run, default_state=default_state)

    async def confirm_import(self, dry_run_id: int, actor: Actor) -> dict[str, Any]:
        """Import for real the file a finished dry run checked."""
        return await self.jobs.confirm(dry_run_id, actor)

    async def import_job(self, job_id: int) -> dict[str, Any]:
        """An import job: its state, rows done (live while it runs) and, once done, the row accounting."""
        return await self.jobs.get(job_id)

    async def import_jobs(self, limit: int = 20) -> list[dict[str, Any]]:
        return await self.jobs.list(limit)

    async def rejects_file(self, job_id: int) -> Path:
        """The rejected rows of an import, as a CSV file to correct and import again."""
        return await self.jobs.rejects(job_id)

    def close(self) -> None:
        self.jobs.close()

    async def unit(self, unit_id: int | None = None) -> dict[str, Any]:
        """A unit (None: the top) with its path, its committee's members and its children's coverage."""
        return await self.db.run(unit_page, unit_id)

    async def find_units(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Units by name, key or number (for choosing a campaign's units)."""
        return await self.db.run(find_units, text, limit)

    async def find_people(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """People by name or by digits of their phones."""
        return await self.db.run(find_people, text, limit)

    async def posts(self) -> list[str]:
        """The posts people hold, most common first."""
        return await self.db.run(common_posts)

    async def person(self, person_id: int) -> dict[str, Any]:
        """A person's posts, phones, language, DND, verification, calls with their answers, and tickets."""
        return await self.db.run(person_page, person_id)

    async def edit_person(self, person_id: int, edit: PersonEdit, actor: Actor) -> list[str]:
        """Correct a person (phones, language, DND, posts) through the change feed: the dialer follows within
        its next poll (half a second). The fields changed."""
        return await self.db.run(edit_person, person_id, edit, actor)

    async def export(self, write: Callable[[Iterator[list[str]]], int], actor: Actor = SYSTEM) -> int:
        """Hand the directory's rows (the import's columns, header first) to ``write``; what it returns
        (the rows written, which the audit log records)."""
        def work(session: Session) -> int:
            rows = write(export_rows(session))
            record(session, actor, "directory.export", detail={"rows": rows})
            return rows

        return await self.db.run(work)

    async def coverage(self, verify_days: int | None = None) -> Coverage:
        """Committees under two reachable contacts, booths with nobody, shared phones, unverified members."""
        return await self.db.run(coverage, verify_days or self.verify_days)

    async def import_results(self, path: Path, *, year: int | None = None, kind: str | None = None,
                             dry_run: bool = False, actor: Actor = SYSTEM) -> ResultsSummary:
        """Load past booth results and recompute the booths' status (recorded in the audit log after)."""
        try:
            summary = await asyncio.to_thread(import_results, self.db.sessions, path, self.rules, year=year,
                                              kind=kind, dry_run=dry_run)
        except FileFormatError as exc:
            raise FileFormatError(f"{exc} (nothing was imported)") from exc
        if not dry_run:
            await self.db.run(lambda s: record(s, actor, "directory.import_results",
                                               detail={"file": path.name[:80], "year": year, "kind": kind}))
        return summary

    async def set_status(self, ac_no: int, booth_no: int, status: str, reason: str, by: str,
                         actor: Actor = SYSTEM) -> str:
        """A booth's status by hand (``auto`` returns to the derived one); the status it has now."""
        def work(session: Session) -> str:
            booth = set_override(session, ac_no, booth_no, status, reason, by)
            record(session, actor, "booth.set_status", f"unit:{booth.id}", detail={"status": status})
            return booth.status.value

        return await self.db.run(work)

    async def demo_data(self, spec: DemoSpec) -> dict[str, Any]:
        """A realistic demo directory, with past results and candidates; a summary of what it holds."""
        return await asyncio.to_thread(load_demo, self.db.sessions, spec, self.rules)

    async def phones(self) -> list[str]:
        """Every phone in the directory (primary and alternate), each once, sorted."""
        def work(session: Session) -> list[str]:
            found = set(session.scalars(select(Person.phone)))
            found.update(p for p in session.scalars(select(Person.alt_phone)) if p)
            return sorted(found)

        return await self.db.run(work)
