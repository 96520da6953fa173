"""Export the directory with the import's columns (one row per post), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cells import FORMULA_START, escape_cell
from db.models import Committee, Membership, Person, Unit, UnitKind
from directory.rows import COLUMNS

__all__ = ["FORMULA_START", "escape_cell", "export_rows", "write_csv", "write_xlsx"]


class _Paths:
    """unit id -> its units by kind (state, district, AC, mandal, sector, booth), memoised."""

    def __init__(self, session: Session) -> None:
        self.units = {uid: (kind, name, number, parent, area, voters) for uid, kind, name, number, parent, area, voters
                      in session.execute(select(Unit.id, Unit.kind, Unit.name, Unit.number, Unit.parent_id,
                                                Unit.area, Unit.voter_count))}
        self.memo: dict[int, dict[str, tuple[str, int | None, str | None, int | None]]] = {}

    def of(self, uid: int) -> dict[str, tuple[str, int | None, str | None, int | None]]:
        if uid in self.memo:
            return self.memo[uid]
        kind, name, number, parent, area, voters = self.units[uid]
        path = dict(self.of(parent)) if parent is not None else {}
        path[UnitKind(kind).value] = (name, number, area, voters)
        self.memo[uid] = path
        return path


def export_rows(session: Session) -> Iterator[list[str]]:
    """The header, then one row per membership, in the import's canonical columns."""
    yield list(COLUMNS)
    paths = _Paths(session)
    query = (select(Membership.post, Committee.unit_id, Person.name, Person.name_alt, Person.phone,
                    Person.alt_phone, Person.language)
             .join(Committee, Committee.id == Membership.committee_id)
             .join(Person, Person.id == Membership.person_id).order_by(Membership.id))
    for post, unit_id, name, name_alt, phone, alt_phone, language in session.execute(query).yield_per(5000):
        path = paths.of(unit_id)
        level = UnitKind(paths.units[unit_id][0]).value
        part = _parts(path)
        row = {"state": part("state", 0), "district": part("district", 0), "ac_no": part("ac", 1),
               "ac_name": part("ac", 0), "mandal": part("mandal", 0), "sector": part("sector", 0),
               "booth_no": part("booth", 1), "booth_name": part("booth", 0), "area": part("booth", 2),
               "voters": part("booth", 3), "level": level, "post": post, "name": name, "name_alt": name_alt or "",
               "phone": phone, "alt_phone": alt_phone or "", "language": language}
        yield [escape_cell(row[c]) for c in COLUMNS]


def _parts(path: dict[str, tuple[str, int | None, str | None, int | None]]) -> Callable[[str, int], str]:
    def part(kind: str, i: int) -> str:
        value = path.get(kind)
        return "" if value is None or value[i] is None else str(value[i])

    return part


def write_csv(rows: Iterator[list[str]], out: IO[str]) -> int:
    """Write rows as CSV (open ``out`` as utf-8-sig so Excel reads Hindi right); returns data rows."""
    writer = csv.writer(out)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count - 1, 0)


def write_xlsx(rows: Iterator[list[str]], path: Path) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("directory")
    count = 0
    for row in rows:
        ws.append(row)
        count += 1
    wb.save(path)
    return max(count - 1, 0)
