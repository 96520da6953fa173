"""Past booth results: import (upsert by booth and election) and the booth status they give.

The file is wide: ``ac_no``, ``booth_no``, ``year``, ``kind`` (or given as options), ``electors``,
``votes_polled``, then one column per party with its votes (every other column with a number is a party).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.errors import Invalid, NotFound
from db.models import BoothResult, BoothStatus, Election, Unit, UnitKind, utcnow
from directory.reader import open_table
from directory.rows import text
from directory.status import StatusRules, classify

ALIASES = {
    "ac_no": {"ac_no", "ac no", "ac number", "विधानसभा क्रमांक"},
    "booth_no": {"booth_no", "booth no", "booth number", "बूथ क्रमांक", "मतदान केंद्र क्रमांक"},
    "year": {"year", "election year", "वर्ष"},
    "kind": {"kind", "election", "election kind", "चुनाव"},
    "electors": {"electors", "voters", "total electors", "कुल मतदाता", "मतदाता"},
    "votes_polled": {"votes_polled", "votes polled", "total votes", "polled", "कुल मत", "डाले गए मत"},
}
IGNORED = {"ac_name", "booth_name", "district", "विधानसभा", "मतदान केंद्र", "जिला", "line", "reason", "column"}


@dataclass
class ResultsSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ResultError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


def _int(raw: dict[str, str], column: str, required: bool = True) -> int | None:
    value = text(raw.get(column)).replace(",", "")
    if value.endswith(".0"):
        value = value[:-2]
    if not value:
        if required:
            raise ResultError(column, f"missing {column.replace('_', ' ')}")
        return None
    if not value.isdigit():
        raise ResultError(column, f"{column.replace('_', ' ')} '{value}' is not a number")
    return int(value)


def parse_result(raw: dict[str, str], year: int | None, kind: str | None) -> tuple[int, int, int, str, int | None,
                                                                                   int | None, dict[str, int]]:
    """(ac, booth, year, kind, electors, polled, party votes) of one row, or :class:`ResultError`."""
    ac, booth = _int(raw, "ac_no"), _int(raw, "booth_no")
    row_year = _int(raw, "year", required=year is None) or year
    row_kind = text(raw.get("kind")) or kind or "assembly"
    parties: dict[str, int] = {}
    for column, value in raw.items():
        if column in ALIASES or column in IGNORED or not text(value):
            continue
        votes = _int(raw, column)
        assert votes is not None
        parties[column] = votes
    if not parties:
        raise ResultError("party", "no party vote columns")
    assert ac is not None and booth is not None and row_year is not None
    return ac, booth, row_year, row_kind, _int(raw, "electors", False), _int(raw, "votes_polled", False), parties


def import_results(sessions: sessionmaker[Session], path: Path, rules: StatusRules, *, year: int | None = None,
                   kind: str | None = None, dry_run: bool = False) -> ResultsSummary:
    """Load a results file, then recompute the status of the booths it touched."""
    table = open_table(path, ALIASES, {"ac_no", "booth_no"}, keep_other=True)
    summary = ResultsSummary()
    with sessions() as session:
        booths: dict[tuple[int, int], int] = {}
        for uid, key in session.execute(select(Unit.id, Unit.key).where(Unit.kind == UnitKind.booth)):
            _, ac_no, booth_no = key.split(":")  # booth:<ac>:<booth>
            booths[(int(ac_no), int(booth_no))] = uid
        elections = {(y, k): eid for eid, y, k in session.execute(select(Election.id, Election.year, Election.kind))}
        stored = {(r.booth_id, r.election_id): r for r in session.scalars(select(BoothResult))}
        touched: set[int] = set()
        for line, raw in table.rows:
            summary.rows += 1
            try:
                ac, no, row_year, row_kind, electors, polled, parties = parse_result(raw, year, kind)
                booth_id = booths.get((ac, no))
                if booth_id is None:
                    raise ResultError("booth_no", f"no booth {no} in AC {ac} in the directory (import it first)")
            except ResultError as exc:
                summary.rejected += 1
                if len(summary.rejections) < 1000:
                    summary.rejections.append({"line": line, "column": exc.column, "reason": str(exc)})
                continue
            eid = elections.get((row_year, row_kind))
            if eid is None:
                election = Election(year=row_year, kind=row_kind)
                session.add(election)
                session.flush()
                eid = elections[(row_year, row_kind)] = election.id
            existing = stored.get((booth_id, eid))
            if existing is None:
                stored[(booth_id, eid)] = result = BoothResult(booth_id=booth_id, election_id=eid, electors=electors,
                                                               votes_polled=polled, party_votes=parties)
                session.add(result)
                summary.created += 1
            elif (existing.electors, existing.votes_polled, existing.party_votes) != (electors, polled, parties):
                existing.electors, existing.votes_polled, existing.party_votes = electors, polled, parties
                summary.updated += 1
            else:
                summary.unchanged += 1
            touched.add(booth_id)
        session.flush()
        recompute_status(session, rules, touched)
        summary.statuses = status_mix(session)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return summary


def recompute_status(session: Session, rules: StatusRules, booth_ids: Iterable[int] | None = None) -> None:
    """Set ``computed_status`` from results (newest election first) for these booths (default: all)."""
    query = (select(BoothResult.booth_id, Election.year, BoothResult.party_votes)
             .join(Election, Election.id == BoothResult.election_id))
    ids = list(booth_ids) if booth_ids is not None else None
    if ids is not None:
        query = query.where(BoothResult.booth_id.in_(ids))
    results: dict[int, list[tuple[int, dict[str, int]]]] = defaultdict(list)
    for booth_id, year, votes in session.execute(query):
        results[booth_id].append((year, votes))
    for booth_id, rows in results.items():
        rows.sort(key=lambda r: r[0], reverse=True)
        status = classify([votes for _, votes in rows], rules)
        session.execute(update(Unit).where(Unit.id == booth_id).values(computed_status=status))


def status_mix(session: Session) -> dict[str, int]:
    mix = {s.value: 0 for s in BoothStatus}
    for unit in session.scalars(select(Unit).where(Unit.kind == UnitKind.booth)):
        mix[unit.status.value] += 1
    return mix


def set_override(session: Session, ac_no: int, booth_no: int, status: str, reason: str, by: str,
                 at: datetime | None = None) -> Unit:
    """Set (or, with ``auto``, clear) a booth's manual status; a reason and who set it are required."""
    booth = session.scalar(select(Unit).where(Unit.key == f"booth:{ac_no}:{booth_no}"))
    if booth is None:
        raise NotFound(f"no booth {booth_no} in AC {ac_no}")
    if status == "auto":
        booth.status_override = booth.override_reason = booth.override_by = booth.override_at = None
        return booth
    if status not in {s.value for s in BoothStatus}:
        raise Invalid(f"status '{status}': use strong, weak, swing, unknown or auto", field="status")
    if not reason.strip() or not by.strip():
        raise Invalid("a manual status needs a reason and who set it", field="reason")
    booth.status_override, booth.override_reason = BoothStatus(status), reason.strip()
    booth.override_by, booth.override_at = by.strip(), at or utcnow()
    return booth
