"""Import an outreach list: rows streamed in batches (never the whole file in memory), one contact per
number across every list, a committee member's number linked to the directory rather than copied.

Every row ends as exactly one of: created (a new contact), updated (a known contact changed or added to
this list), unchanged, merged (the same number earlier in the file: which line is kept) or rejected
(column and reason). A dry run keeps one transaction and rolls it back.
"""

from __future__ import annotations

import functools
import json
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import Person, utcnow
from db.outreach import Contact, ListEntry, OutreachList
from directory.batches import in_batches
from directory.importer import KEEP, ImportSummary, Rejection
from directory.rows import RowError
from outreach.rows import ContactRow, clean_contact
from outreach.sql import among as _among


@dataclass(frozen=True)
class ListImportOptions:
    list_name: str
    dry_run: bool = False
    batch_size: int = 5000
    default_consent: str = ""


@dataclass
class ListImportSummary(ImportSummary):
    """The directory import's accounting, plus how many rows were linked to committee members."""

    linked: int = 0
    list_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "linked": self.linked, "list": self.list_name}


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


class _FirstLine:
    """Contact id -> the file line that first touched it in this run (0: not yet), 4 bytes per id."""

    def __init__(self) -> None:
        self.lines = array("i")

    def get(self, cid: int) -> int:
        return self.lines[cid] if cid < len(self.lines) else 0

    def set(self, cid: int, line: int) -> None:
        if cid >= len(self.lines):
            self.lines.extend([0] * (cid + 1 - len(self.lines) + 65536))
        self.lines[cid] = line


@functools.lru_cache(maxsize=16)
def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_value(value: Any, is_json: bool) -> Any:
    """A value as SQLAlchemy stores it in SQLite (JSON text; UTC timestamps as naive text)."""
    if is_json:
        return json.dumps(value, ensure_ascii=False) if value else "{}"
    if isinstance(value, datetime):
        return _sqlite_time(value)  # a batch's rows share one time
    return value


def _bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: PostgreSQL's COPY (several times faster than one INSERT per row), else executemany."""
    if not rows:
        return
    table = _table(model)
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":  # the driver's own executemany: SQLAlchemy's per-row processing is most of the time
        session.connection().exec_driver_sql(
            f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})',
            [tuple(_sqlite_value(row[c], c in json_columns) for c in columns) for row in rows])
        return
    if dialect != "postgresql":
        session.execute(insert(table), rows)
        return
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_columns else row[c]
                            for c in columns])


def _list_id(session: Session, name: str) -> int:
    found = session.scalar(select(OutreachList.id).where(OutreachList.name == name))
    if found is not None:
        return found
    created = OutreachList(name=name)
    session.add(created)
    session.flush()
    return created.id


def import_contacts(sessions: sessionmaker[Session], rows: Iterable[tuple[int, dict[str, str]]],
                    options: ListImportOptions, *, progress: Callable[[int], None] | None = None,
                    on_reject: Callable[[Rejection], None] | None = None,
                    on_done: Callable[[Session, ListImportSummary], None] | None = None) -> ListImportSummary:
    """Import ``(file line, canonical row)`` pairs into the list ``options.list_name`` (created if new)."""
    summary = ListImportSummary(dry_run=options.dry_run, list_name=options.list_name)
    started = time.monotonic()
    first = _FirstLine()
    session = sessions()
    try:
        list_id = _list_id(session, options.list_name)

        def done() -> None:
            if on_done is not None:
                summary.seconds = time.monotonic() - started
                on_done(session, summary)

        def handle(batch: list[tuple[int, dict[str, str]]]) -> None:
            _batch(session, list_id, batch, options, summary, first, on_reject)

        in_batches(session, rows, options.batch_size, options.dry_run, handle, progress, done)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    summary.seconds = time.monotonic() - started
    assert summary.created + summary.updated + summary.unchanged + summary.merged + summary.rejected == summary.rows
    return summary


def _clean(batch: list[tuple[int, dict[str, str]]], options: ListImportOptions, summary: ListImportSummary,
           on_reject: Callable[[Rejection], None] | None) -> list[ContactRow]:
    clean: list[ContactRow] = []
    for line, raw in batch:
        summary.rows += 1
        try:
            row = clean_contact(line, raw, options.default_consent)
        except RowError as exc:
            rejection = Rejection(line, exc.column, str(exc), raw)
            summary.count("rejected")
            if len(summary.rejections) < KEEP:
                summary.rejections.append(rejection)
            if on_reject:
                on_reject(rejection)
            continue
        clean.append(row)
        for column, warning in row.warnings:
            summary.warned += 1
            if len(summary.warnings) < KEEP:
                summary.warnings.append((line, column, warning))
    return clean


_FIELDS = ("alt_phone", "name", "language", "ac_no", "booth", "consent_source", "fields")


def _merged(old: dict[str, Any], row: ContactRow, linked: bool) -> dict[str, Any]:
    """The contact's values after the row: given values replace, missing ones keep what was stored."""
    new = dict(old)
    for key, value in row.values().items():
        if linked and key in ("alt_phone", "name", "language"):
            continue  # a committee member's name and language stay in the directory
        if key == "fields":
            new["fields"] = {**(old.get("fields") or {}), **value}
        elif value not in (None, ""):
            new[key] = value
    return new


def _batch(session: Session, list_id: int, batch: list[tuple[int, dict[str, str]]], options: ListImportOptions,
           summary: ListImportSummary, first: _FirstLine, on_reject: Callable[[Rejection], None] | None) -> None:
    clean = _clean(batch, options, summary, on_reject)
    if not clean:
        return
    phones = list({r.phone for r in clean})
    known: dict[str, tuple[int, bool, dict[str, Any]]] = {}
    for cid, phone, person_id, *stored in session.execute(
            select(Contact.id, Contact.phone, Contact.person_id, *(getattr(Contact, f) for f in _FIELDS))
            .where(_among(session, Contact.phone, phones))):
        known[phone] = (cid, person_id is not None, dict(zip(_FIELDS, stored, strict=True)))
    listed = set(session.scalars(select(ListEntry.contact_id).where(
        ListEntry.list_id == list_id, _among(session, ListEntry.contact_id, [c for c, _, _ in known.values()])))) \
        if known else set()
    fresh = [p for p in phones if p not in known]
    members: dict[str, int] = {}
    if fresh:
        for pid, phone, alt in session.execute(select(Person.id, Person.phone, Person.alt_phone).where(
                or_(_among(session, Person.phone, fresh), _among(session, Person.alt_phone, fresh)))):
            members.setdefault(phone, pid)
            if alt:
                members.setdefault(alt, pid)
    now = utcnow()
    new_rows: dict[str, dict[str, Any]] = {}
    new_lines: dict[str, int] = {}
    changes: dict[int, dict[str, Any]] = {}
    entries: list[dict[str, int]] = []
    for row in clean:
        existing = known.get(row.phone)
        earlier = new_lines.get(row.phone) or (first.get(existing[0]) if existing else 0)
        if earlier:
            summary.count("merged")
            if len(summary.merges) < KEEP:
                summary.merges.append((row.line, earlier))
            continue
        if existing is None:
            person_id = members.get(row.phone)
            values = _merged({f: None for f in _FIELDS} | {"fields": {}}, row, person_id is not None)
            new_rows[row.phone] = {"phone": row.phone, "person_id": person_id, **values, "created_at": now,
                                   "updated_at": now}
            new_lines[row.phone] = row.line
            summary.count("created")
            summary.linked += person_id is not None
            continue
        cid, linked, old = existing
        first.set(cid, row.line)
        values = _merged(old, row, linked)
        outcome = "unchanged"
        if values != old:
            changes[cid] = {"id": cid, **values, "updated_at": now}
            known[row.phone] = (cid, linked, values)
            outcome = "updated"
        if cid not in listed:
            entries.append({"list_id": list_id, "contact_id": cid})
            listed.add(cid)
            outcome = "updated"
        summary.count(outcome)
    if new_rows:  # inserted without RETURNING (a short statement, executed many times), then their ids read
        _bulk_insert(session, Contact, list(new_rows.values()))
        for cid, phone in session.execute(select(Contact.id, Contact.phone).where(
                _among(session, Contact.phone, list(new_rows)))):
            first.set(cid, new_lines[phone])
            entries.append({"list_id": list_id, "contact_id": cid})
    if changes:
        session.execute(update(Contact), list(changes.values()))
    _bulk_insert(session, ListEntry, entries)
