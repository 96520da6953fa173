"""Reading the audit log, for admins: entries by who, what, which target and when, newest first, as data,
CSV (spreadsheet-safe) or a text table. Downloading it is itself an entry."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.cells import escape_cell
from core.errors import Invalid
from db.audit import AuditEntry
from db.engine import Database

COLUMNS = ("at", "actor", "action", "target", "outcome", "address", "detail")
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class AuditFilter:
    """Which entries: ``actor`` and ``target`` exactly, ``action`` exactly or by its start (``campaign.`` or
    ``campaign`` finds every campaign action), ``since`` .. ``until`` days (UTC, both included)."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 500

    def check(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise Invalid(f"limit {self.limit}: between 1 and {MAX_LIMIT}")
        if self.since and self.until and self.until < self.since:
            raise Invalid(f"until ({self.until}) is before since ({self.since})")
        for day in (self.since, self.until):
            if day is not None and not date(2000, 1, 1) <= day <= date(2100, 12, 31):
                raise Invalid(f"{day}: between 2000-01-01 and 2100-12-31")

    def query(self) -> Select[Any]:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(self.limit)
        if self.actor:
            q = q.where(AuditEntry.actor == self.actor)
        if self.action:
            prefix = self.action.rstrip(".")
            q = q.where((AuditEntry.action == self.action) | AuditEntry.action.startswith(prefix + ".",
                                                                                          autoescape=True))
        if self.target:
            q = q.where(AuditEntry.target == self.target)
        if self.since:
            q = q.where(AuditEntry.at >= datetime.combine(self.since, time(), UTC))
        if self.until:
            q = q.where(AuditEntry.at < datetime.combine(self.until + timedelta(days=1), time(), UTC))
        return q

    def as_detail(self) -> dict[str, Any]:
        return {k: str(v) for k, v in (("actor", self.actor), ("action", self.action), ("target", self.target),
                                       ("since", self.since), ("until", self.until)) if v}


def entry_row(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "actor_id": entry.actor_id,
            "action": entry.action, "target": entry.target, "outcome": entry.outcome, "address": entry.address,
            "detail": entry.detail}


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The entries as CSV (the detail as JSON), cells that look like formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        cells = [json.dumps(row[c], ensure_ascii=False, sort_keys=True) if c == "detail" else row[c] or ""
                 for c in COLUMNS]
        writer.writerow([escape_cell(str(c)) for c in cells])
    return out.getvalue()


class AuditService:
    """The audit log, read (each entry is written by the service whose change it records)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def entries(self, which: AuditFilter | None = None) -> list[dict[str, Any]]:
        """Entries, newest first."""
        which = which or AuditFilter()
        which.check()
        return await self.db.run(lambda s: [entry_row(e) for e in s.scalars(which.query())])

    async def export_csv(self, which: AuditFilter, actor: Actor) -> str:
        """The entries as CSV; the download is recorded (with the filter, in the same transaction)."""
        which.check()

        def work(session: Session) -> list[dict[str, Any]]:
            rows = [entry_row(e) for e in session.scalars(which.query())]
            record(session, actor, "audit.export", detail={"rows": len(rows), **which.as_detail()})
            return rows

        return to_csv(await self.db.run(work))
