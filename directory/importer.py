"""Import the committee directory: rows in, units/committees/people/posts upserted, one outcome per row.

Every row ends as exactly one of: created, updated, unchanged, merged (a duplicate of an earlier row of
the same file: same phone, same committee — which line is kept), rejected (column and reason). Rows are
streamed and written in batches (one transaction each; a dry run keeps one transaction and rolls it back),
with bulk statements, a cache of the units, and a compact per-membership array to find duplicates, so a
million rows fit in a few hundred MB. Every created/updated person or post lands in the change feed in the
same transaction.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import Committee, Membership, Person, Unit, UnitKind, utcnow
from directory.batches import in_batches
from directory.changes import record_changes
from directory.reader import open_table
from directory.rows import ALIASES, REQUIRED, Row, RowError, clean_row, fold, is_devanagari

KEEP = 1000  # rejections and merges kept in memory for the summary (all go to the rejects writer)


def _table(model: Any) -> Table:
    """The Core table of a model: bulk inserts with RETURNING go through Core (the ORM path is slow)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    batch_size: int = 5000
    default_state: str = "State"
    source: str = "import"


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    reason: str
    raw: dict[str, str]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    merges: list[tuple[int, int]] = field(default_factory=list)   # (line, duplicate of line)
    warnings: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, what was done)
    warned: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "merged": self.merged, "rejected": self.rejected, "dry_run": self.dry_run,
                "seconds": round(self.seconds, 3),
                "rejections": [{"line": r.line, "column": r.column, "reason": r.reason} for r in self.rejections],
                "merges": [{"line": a, "duplicate_of": b} for a, b in self.merges],
                "warned": self.warned,
                "warnings": [{"line": a, "column": c, "warning": w} for a, c, w in self.warnings]}


class _Units:
    """Natural key -> unit id for every unit, plus what a row may update (name, area, voters)."""

    def __init__(self, session: Session) -> None:
        self.ids: dict[str, int] = {}
        self.attrs: dict[int, tuple[str, str | None, int | None]] = {}
        for uid, key, name, area, voters in session.execute(
                select(Unit.id, Unit.key, Unit.name, Unit.area, Unit.voter_count)):
            self.ids[key] = uid
            self.attrs[uid] = (name, area, voters)
        self.committees: dict[int, int] = {u: c for u, c in session.execute(select(Committee.unit_id, Committee.id))}

    def resolve(self, session: Session, rows: list[Row]) -> list[int]:
        """The committee unit of each row, creating units (level by level, in bulk) as rows name them."""
        path: list[dict[str, int]] = [{} for _ in rows]
        for kind in UnitKind:
            wanted: dict[str, dict[str, Any]] = {}
            keys: list[str | None] = []
            changes: dict[int, dict[str, Any]] = {}
            for row, ids in zip(rows, path, strict=True):
                spec = _unit_spec(kind, row, ids)
                keys.append(spec[0] if spec else None)
                if spec is None:
                    continue
                key, values = spec
                uid = self.ids.get(key)
                if uid is None:
                    wanted.setdefault(key, {**values, "key": key})
                elif kind in (UnitKind.ac, UnitKind.booth):
                    changed = self._changed(uid, values)
                    if changed:
                        changes[uid] = {"id": uid, **changed}
            if wanted:
                units_t = _table(Unit)
                for uid, key, name, area, voters in session.execute(
                        insert(units_t).returning(units_t.c.id, units_t.c.key, units_t.c.name, units_t.c.area,
                                                  units_t.c.voter_count),
                        [_strip(v) for v in wanted.values()]):
                    self.ids[key], self.attrs[uid] = uid, (name, area, voters)
            if changes:
                session.execute(update(Unit), list(changes.values()))
                for uid, values in changes.items():
                    name, area, voters = self.attrs[uid]
                    self.attrs[uid] = (values.get("name", name), values.get("area", area),
                                       values.get("voter_count", voters))
            for found, ids in zip(keys, path, strict=True):
                if found is not None:
                    ids[kind.value] = self.ids[found]
        units = [ids[row.level.value] for row, ids in zip(rows, path, strict=True)]
        missing = sorted({u for u in units if u not in self.committees})
        if missing:
            committees_t = _table(Committee)
            for cid, uid in session.execute(insert(committees_t).returning(committees_t.c.id, committees_t.c.unit_id),
                                            [{"unit_id": u} for u in missing]):
                self.committees[uid] = cid
        return [self.committees[u] for u in units]

    def _changed(self, uid: int, values: dict[str, Any]) -> dict[str, Any]:
        name, area, voters = self.attrs[uid]
        out: dict[str, Any] = {}
        if values.get("given_name") and values["name"] != name:
            out["name"] = values["name"]
        if values.get("area") and values["area"] != area:
            out["area"] = values["area"]
        if values.get("voter_count") is not None and values["voter_count"] != voters:
            out["voter_count"] = values["voter_count"]
        return out


def _unit_spec(kind: UnitKind, row: Row, ids: dict[str, int]) -> tuple[str, dict[str, Any]] | None:
    """(natural key, insert values) of the row's unit of ``kind``, or None if the row names none."""
    def values(name: str, parent: int | None, **extra: Any) -> dict[str, Any]:
        return {"kind": kind, "name": name, "parent_id": parent, **extra}

    if kind is UnitKind.state:
        return f"state:{fold(row.state)}", values(row.state, None)
    if kind is UnitKind.district:
        if not row.district:
            return None
        state = ids["state"]
        return f"district:{state}:{fold(row.district)}", values(row.district, state)
    if row.ac_no is None:
        return None
    if kind is UnitKind.ac:
        spec = values(row.ac_name or f"AC {row.ac_no}", ids.get("district", ids["state"]), number=row.ac_no)
        return f"ac:{row.ac_no}", {**spec, "given_name": bool(row.ac_name)}
    ac = ids["ac"]
    if kind is UnitKind.mandal:
        return (f"mandal:{ac}:{fold(row.mandal)}", values(row.mandal, ac, ac_id=ac)) if row.mandal else None
    if kind is UnitKind.sector:
        if not row.sector:
            return None
        parent = ids.get("mandal", ac)
        return f"sector:{parent}:{fold(row.sector)}", values(row.sector, parent, ac_id=ac)
    if row.booth_no is None:
        return None
    parent = ids.get("sector", ids.get("mandal", ac))
    spec = values(row.booth_name or f"Booth {row.booth_no}", parent, ac_id=ac, number=row.booth_no,
                  area=row.area or None, voter_count=row.voters)
    return f"booth:{row.ac_no}:{row.booth_no}", {**spec, "given_name": bool(row.booth_name)}


def _strip(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "given_name"}


@dataclass
class _PersonState:
    id: int | None
    name: str
    name_alt: str | None
    alt_phone: str | None
    language: str
    dirty: set[str] = field(default_factory=set)


def _merge_person(p: _PersonState, row: Row) -> set[str]:
    """Apply a row's person fields; return the fields it changed. Names in the other script are kept."""
    changed: set[str] = set()
    if row.name_alt:
        if (row.name, row.name_alt) != (p.name, p.name_alt):
            p.name, p.name_alt = row.name, row.name_alt
            changed |= {"name", "name_alt"}
    elif fold(row.name) not in {fold(p.name), fold(p.name_alt or "")}:
        if is_devanagari(row.name) != is_devanagari(p.name):
            p.name_alt = row.name
            changed.add("name_alt")
        else:
            p.name = row.name
            changed.add("name")
    if row.alt_phone and row.alt_phone != p.alt_phone:
        p.alt_phone = row.alt_phone
        changed.add("alt_phone")
    if row.language and row.language != p.language:
        p.language = row.language
        changed.add("language")
    return changed


class _Touched:
    """Membership id -> the file line that first touched it in this run (0: not yet), 4 bytes per id."""

    def __init__(self) -> None:
        self.lines = array("i")

    def get(self, mid: int) -> int:
        return self.lines[mid] if mid < len(self.lines) else 0

    def set(self, mid: int, line: int) -> None:
        if mid >= len(self.lines):
            self.lines.extend([0] * (mid + 1 - len(self.lines) + 4096))
        self.lines[mid] = line


def import_rows(sessions: sessionmaker[Session], rows: Iterable[tuple[int, dict[str, str]]], *,
                options: ImportOptions | None = None, progress: Callable[[int], None] | None = None,
                on_reject: Callable[[Rejection], None] | None = None,
                on_done: Callable[[Session, ImportSummary], None] | None = None) -> ImportSummary:
    """Import ``(file line, canonical row)`` pairs; returns the summary (counts add up to ``rows``).
    ``on_done(session, summary)`` runs in the last batch's transaction (an import's audit entry), not in a
    dry run."""
    opts = options or ImportOptions()
    summary = ImportSummary(dry_run=opts.dry_run)
    started = time.monotonic()
    touched = _Touched()
    session = sessions()
    try:
        units = _Units(session)

        def done() -> None:
            if on_done is not None:
                summary.seconds = time.monotonic() - started
                on_done(session, summary)

        def handle(batch: list[tuple[int, dict[str, str]]]) -> None:
            _import_batch(session, units, batch, opts, summary, touched, on_reject)

        in_batches(session, rows, opts.batch_size, opts.dry_run, handle, progress, done)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    summary.seconds = time.monotonic() - started
    assert summary.created + summary.updated + summary.unchanged + summary.merged + summary.rejected == summary.rows
    return summary


def _import_batch(session: Session, units: _Units, batch: list[tuple[int, dict[str, str]]], opts: ImportOptions,
                  summary: ImportSummary, touched: _Touched, on_reject: Callable[[Rejection], None] | None) -> None:
    clean: list[Row] = []
    for line, raw in batch:
        summary.rows += 1
        try:
            row = clean_row(line, raw, opts.default_state)
            clean.append(row)
            for column, warning in row.warnings:
                summary.warned += 1
                if len(summary.warnings) < KEEP:
                    summary.warnings.append((line, column, warning))
        except RowError as exc:
            rejection = Rejection(line, exc.column, str(exc), raw)
            summary.count("rejected")
            if len(summary.rejections) < KEEP:
                summary.rejections.append(rejection)
            if on_reject:
                on_reject(rejection)
    if not clean:
        return
    committees = units.resolve(session, clean)
    phones = list({r.phone for r in clean})
    people: dict[str, _PersonState] = {
        phone: _PersonState(pid, name, alt, alt_phone, lang)
        for pid, phone, name, alt, alt_phone, lang in session.execute(
            select(Person.id, Person.phone, Person.name, Person.name_alt, Person.alt_phone, Person.language)
            .where(Person.phone.in_(phones)))}
    known_ids = [p.id for p in people.values() if p.id is not None]
    posts: dict[tuple[str, int], tuple[int, str]] = {}
    by_id = {p.id: phone for phone, p in people.items()}
    if known_ids:
        for mid, pid, cid, post in session.execute(
                select(Membership.id, Membership.person_id, Membership.committee_id, Membership.post)
                .where(Membership.person_id.in_(known_ids))):
            posts[(by_id[pid], cid)] = (mid, post)
    pending_lines: dict[tuple[str, int], int] = {}   # memberships new in this batch -> first line
    new_members: list[dict[str, Any]] = []
    post_updates: dict[int, str] = {}
    feed: list[tuple[str, str, dict[str, Any]]] = []
    for row, committee_id in zip(clean, committees, strict=True):
        key = (row.phone, committee_id)
        existing = posts.get(key)
        first = pending_lines.get(key) or (touched.get(existing[0]) if existing else 0)
        if first:
            summary.count("merged")
            if len(summary.merges) < KEEP:
                summary.merges.append((row.line, first))
            continue
        person = people.get(row.phone)
        outcome, fields = "unchanged", set()
        if person is None:
            person = people[row.phone] = _PersonState(None, row.name, row.name_alt or None, row.alt_phone,
                                                      row.language or "hi", dirty={"new"})
            outcome = "created"
        else:
            fields = _merge_person(person, row)
            person.dirty |= fields
        if existing is None:
            pending_lines[key] = row.line
            new_members.append({"phone": row.phone, "committee_id": committee_id, "post": row.post,
                                "line": row.line})
            outcome = "created"
        else:
            mid, post = existing
            touched.set(mid, row.line)
            if row.post != post:
                post_updates[mid] = row.post
                posts[key] = (mid, row.post)
                fields.add("post")
            if fields and outcome == "unchanged":
                outcome = "updated"
        summary.count(outcome)
        if outcome != "unchanged":
            feed.append((row.phone, outcome, {"fields": sorted(fields), "committee_id": committee_id,
                                              "source": opts.source}))
    _write(session, people, new_members, post_updates, feed, touched)


def _write(session: Session, people: dict[str, _PersonState], new_members: list[dict[str, Any]],
           post_updates: dict[int, str], feed: list[tuple[str, str, dict[str, Any]]], touched: _Touched) -> None:
    now = utcnow()
    fresh = [(phone, p) for phone, p in people.items() if p.id is None]
    if fresh:
        people_t = _table(Person)
        for pid, phone in session.execute(insert(people_t).returning(people_t.c.id, people_t.c.phone), [
                {"phone": phone, "name": p.name, "name_alt": p.name_alt, "alt_phone": p.alt_phone,
                 "language": p.language, "created_at": now, "updated_at": now} for phone, p in fresh]):
            people[phone].id = pid
    changed = [{"id": p.id, "name": p.name, "name_alt": p.name_alt, "alt_phone": p.alt_phone,
                "language": p.language, "updated_at": now}
               for p in people.values() if p.dirty and "new" not in p.dirty]
    if changed:
        session.execute(update(Person), changed)
    if new_members:
        lines = {(m["phone"], m["committee_id"]): m["line"] for m in new_members}
        phone_of = {p.id: phone for phone, p in people.items()}
        members_t = _table(Membership)
        for mid, pid, cid in session.execute(
                insert(members_t).returning(members_t.c.id, members_t.c.person_id, members_t.c.committee_id),
                [{"person_id": people[m["phone"]].id, "committee_id": m["committee_id"], "post": m["post"],
                  "created_at": now} for m in new_members]):
            touched.set(mid, lines[(phone_of[pid], cid)])
    if post_updates:
        session.execute(update(Membership), [{"id": mid, "post": post} for mid, post in post_updates.items()])
    record_changes(session, ((people[phone].id, kind, data) for phone, kind, data in feed))


def import_file(sessions: sessionmaker[Session], path: Path, *, options: ImportOptions | None = None,
                progress: Callable[[int], None] | None = None,
                on_reject: Callable[[Rejection], None] | None = None,
                on_done: Callable[[Session, ImportSummary], None] | None = None) -> ImportSummary:
    """Import a CSV/XLSX file (see :func:`import_rows`); raises ``FileFormatError`` for an unreadable file."""
    table = open_table(path, ALIASES, REQUIRED)
    return import_rows(sessions, table.rows, options=options, progress=progress, on_reject=on_reject,
                       on_done=on_done)
