"""Erasing a person (DPDP Act: the right to erasure), in the caller's transaction.

The person leaves the directory (posts and campaign targets with them); what the war room keeps about its
calls and tickets stays, without them: call records (attempts, IVR calls, the queue, tickets' reporter
phones) keep the phone to its last four digits, operators' notes on their calls and the change feed's
payloads about them are emptied, their voice notes and recordings are deleted (rows here, files by the
service). Then every text column of every table (the audit log aside: it never holds personal data) is
searched for the numbers in any writing and masked, so a copy made by a feature this module does not know
of goes too."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    cast,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from db.audit import AuditEntry
from db.campaigns import Attempt, Target
from db.ivr import IvrCall, IvrRecording, QueueCall
from db.models import Change, Membership, Person
from db.operators import CallDisposition
from db.schema import metadata
from db.security import CallRecording
from db.tickets import Ticket
from directory.changes import record_change
from directory.phones import PhoneError, normalise_phone
from privacy.phones import PhonePattern, scrub_all

ERASED = "(erased)"
BATCH = 500
SKIP_TABLES = {AuditEntry.__tablename__, "alembic_version"}


@dataclass
class Erasure:
    """What an erasure did (or, dry, would do): counts per place and the recording files to delete. It
    names no one: it goes into the audit log as it is."""

    person_id: int | None
    numbers: int
    counts: Counter[str] = field(default_factory=Counter)
    recordings: list[str] = field(default_factory=list)  # file names under the recordings directory
    dry_run: bool = False

    def detail(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "numbers": self.numbers, "dry_run": self.dry_run,
                **{k: v for k, v in sorted(self.counts.items()) if v}}


def find_subject(session: Session, ref: str) -> tuple[Person | None, list[str]]:
    """The person ``ref`` names (a phone in any writing, or the directory's id) and every number to erase:
    their phone and alternate phone, or the number itself when it is nobody's phone in the directory."""
    text = ref.strip()
    if text.isascii() and text.isdigit() and len(text) <= 9:
        person = session.get(Person, int(text))
        if person is None:
            raise NotFound(f"no person with id {text}")
        return person, [p for p in (person.phone, person.alt_phone) if p]
    try:
        phone = normalise_phone(text)
    except PhoneError as exc:
        raise Invalid(f"'{ref}': neither a directory id nor a phone number ({exc})") from None
    # a number that is only someone's alternate may be another person's phone (a shared one): that
    # someone stays, without it as their alternate
    person = session.scalars(select(Person).where(Person.phone == phone)).first()
    if person is None:
        return None, [phone]
    return person, [p for p in (person.phone, person.alt_phone) if p]


def _partial(index: Any) -> bool:
    """A unique index over some rows only (e.g. attempts still live): ended rows' values may repeat there."""
    return any(index.dialect_options[d].get("where") is not None for d in ("postgresql", "sqlite"))


def text_columns(table: Table) -> Iterator[Any]:
    """The columns of ``table`` that can hold text (not keys nor unique: masking must not collide)."""
    unique = {c.name for con in table.constraints if isinstance(con, UniqueConstraint) for c in con.columns}
    unique |= {c.name for ix in table.indexes if ix.unique and not _partial(ix) for c in ix.columns}
    for column in table.columns:
        if column.primary_key or column.unique or column.name in unique:
            continue
        if isinstance(column.type, String | Text | JSON) and not isinstance(column.type, Enum):
            yield column


def find_cells(session: Session, patterns: list[PhonePattern]) -> list[tuple[Table, Any, Any, Any]]:
    """Every (table, primary key, column, value) whose text holds one of the numbers, in any table."""
    found = []
    for table in metadata.sorted_tables:
        if table.name in SKIP_TABLES or len(table.primary_key.columns) != 1:
            continue
        pk = next(iter(table.primary_key.columns))
        for column in text_columns(table):
            as_text = cast(column, Text) if isinstance(column.type, JSON) else column
            near = or_(*(as_text.contains(p.last4, autoescape=True) for p in patterns))
            for key, value in session.execute(select(pk, column).where(near)):
                text = value if isinstance(value, str) else _json_text(value)
                if any(p.found(text) for p in patterns):
                    found.append((table, key, column, value))
    return found


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _scrubbed(value: Any, patterns: list[PhonePattern]) -> Any:
    if isinstance(value, str):
        return scrub_all(value, patterns)
    if isinstance(value, dict):
        return {k: _scrubbed(v, patterns) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, patterns) for v in value]
    return value


def _mask_cells(session: Session, cells: list[tuple[Table, Any, Any, Any]], patterns: list[PhonePattern]) -> None:
    """Mask the numbers in the cells found (read again now: the person's own rows changed meanwhile), per
    column in batches."""
    by_column: dict[tuple[str, str], tuple[Table, Any, list[Any]]] = {}
    for table, key, column, _value in cells:
        by_column.setdefault((table.name, column.key), (table, column, []))[2].append(key)
    for table, column, keys in by_column.values():
        pk = next(iter(table.primary_key.columns))
        for start in range(0, len(keys), BATCH):
            rows = session.execute(select(pk, column).where(pk.in_(keys[start:start + BATCH]))).all()
            changes = [{"_key": key, "_value": _scrubbed(value, patterns)} for key, value in rows if value is not None]
            if changes:
                session.execute(update(table).where(pk == bindparam("_key")).values({column.key: bindparam("_value")}),
                                changes)


def erase_person(session: Session, ref: str, *, dry_run: bool = False, elsewhere: bool = False) -> Erasure:
    """Erase the person ``ref`` names (see the module); with ``dry_run`` only count what would go.
    ``elsewhere``: the number is known outside the database (CDR files), so finding nothing here is no
    error."""
    person, phones = find_subject(session, ref)
    patterns = [PhonePattern.of(p) for p in phones]
    pid = person.id if person else None
    out = Erasure(pid, len(phones), dry_run=dry_run)
    by_phone = {
        "attempts": Attempt.phone.in_(phones), "ivr_calls": IvrCall.caller_phone.in_(phones),
        "queue_calls": QueueCall.caller_phone.in_(phones), "tickets": Ticket.reporter_phone.in_(phones)}
    calls = select(IvrCall.id).where(or_(by_phone["ivr_calls"], IvrCall.person_id == pid) if pid else
                                     by_phone["ivr_calls"])
    call_ids = list(session.scalars(calls))
    recordings = session.execute(select(IvrRecording.id, IvrRecording.name, IvrRecording.format)
                                 .where(IvrRecording.call_id.in_(call_ids))).all() if call_ids else []
    out.recordings = [f"{name}.{fmt}" for _id, name, fmt in recordings]
    out.counts["recordings"] = len(recordings)
    # operators' call recordings: theirs by person, by the number, or by the call's queue entry or attempt
    queued = select(QueueCall.id).where(by_phone["queue_calls"])
    attempted = select(Attempt.id).where(by_phone["attempts"])
    mine = or_(CallRecording.caller_phone.in_(phones), CallRecording.queue_call_id.in_(queued),
               CallRecording.attempt_id.in_(attempted), *([CallRecording.person_id == pid] if pid else []))
    calls_recorded = session.execute(select(CallRecording.id, CallRecording.name, CallRecording.format)
                                     .where(mine)).all()
    out.recordings += [f"{name}.{fmt}" for _id, name, fmt in calls_recorded]
    out.counts["call_recordings"] = len(calls_recorded)
    if pid is not None:
        out.counts["posts"] = len(session.scalars(select(Membership.id).where(Membership.person_id == pid)).all())
        out.counts["campaign_targets"] = len(session.scalars(select(Target.id).where(Target.person_id == pid)).all())
        out.counts["call_notes"] = len(session.scalars(select(CallDisposition.id).where(
            CallDisposition.person_id == pid, CallDisposition.notes.is_not(None))).all())
        out.counts["feed_entries"] = len(session.scalars(select(Change.id).where(Change.person_id == pid)).all())
    cells = find_cells(session, patterns)
    out.counts.update(f"masked:{table.name}" for table, *_rest in cells)
    sharing = session.scalars(select(Person.id).where(Person.alt_phone.in_(phones), Person.id != pid)).all()
    out.counts["alternate_phones"] = len(sharing)
    if not cells and person is None and not recordings and not calls_recorded and not sharing and not elsewhere:
        raise NotFound("nothing is held about that number: nobody in the directory, no call records")
    if dry_run:
        return out
    if recordings:
        ids = [r[0] for r in recordings]
        session.execute(update(Ticket).where(Ticket.recording_id.in_(ids)).values(recording_id=None))
        session.execute(delete(IvrRecording).where(IvrRecording.id.in_(ids)))
    if calls_recorded:
        session.execute(delete(CallRecording).where(CallRecording.id.in_([r[0] for r in calls_recorded])))
    if pid is not None:
        assert person is not None
        names = [n for n in (person.name, person.name_alt) if n and len(n.strip()) > 2]
        for ticket in session.scalars(select(Ticket).where(Ticket.reporter_id == pid)):
            for name in names:
                ticket.description = (ticket.description or "").replace(name, ERASED) or None
        session.execute(update(CallDisposition).where(CallDisposition.person_id == pid)
                        .values(notes=None, person_id=None))
        session.execute(update(QueueCall).where(QueueCall.person_id == pid).values(note=ERASED, person_id=None))
        session.execute(update(Change).where(Change.person_id == pid).values(data={"erased": True}))
        for model, column in ((Attempt, Attempt.person_id), (IvrCall, IvrCall.person_id),
                              (Ticket, Ticket.reporter_id)):
            session.execute(update(model).where(column == pid).values({column.key: None}))
        session.execute(delete(Target).where(Target.person_id == pid))
        session.execute(delete(Membership).where(Membership.person_id == pid))
        session.delete(person)
        session.flush()
        record_change(session, pid, "removed", erased=True)
    for other in sharing:  # someone else gave the number as their alternate: they keep their own
        session.execute(update(Person).where(Person.id == other).values(alt_phone=None, alt_phone_invalid_at=None))
        record_change(session, other, "phone", fields=["alt_phone"], source="erasure")
    _mask_cells(session, cells, patterns)
    return out
