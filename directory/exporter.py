"""Export the directory with the import's columns (one row per post), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cells import FORMULA_START, escape_cell
from db.models import Committee, Membership, Person
from directory.rows import COLUMNS
from directory.units import UnitTree

__all__ = ["FORMULA_START", "escape_cell", "export_rows", "write_csv", "write_xlsx"]


def export_rows(session: Session) -> Iterator[list[str]]:
    """The header, then one row per membership, in the import's canonical columns."""
    yield list(COLUMNS)
    tree = UnitTree.load(session)
    paths: dict[int, Callable[[str, str], str]] = {}
    query = (select(Membership.post, Committee.unit_id, Person.name, Person.name_alt, Person.phone,
                    Person.alt_phone, Person.language)
             .join(Committee, Committee.id == Membership.committee_id)
             .join(Person, Person.id == Membership.person_id).order_by(Membership.id))
    for post, unit_id, name, name_alt, phone, alt_phone, language in session.execute(query).yield_per(5000):
        if unit_id not in paths:
            paths[unit_id] = _parts(tree, unit_id)
        part = paths[unit_id]
        row = {"state": part("state", "name"), "district": part("district", "name"), "ac_no": part("ac", "number"),
               "ac_name": part("ac", "name"), "mandal": part("mandal", "name"), "sector": part("sector", "name"),
               "booth_no": part("booth", "number"), "booth_name": part("booth", "name"),
               "area": part("booth", "area"), "voters": part("booth", "voter_count"), "level": tree[unit_id].kind.value,
               "post": post, "name": name, "name_alt": name_alt or "", "phone": phone, "alt_phone": alt_phone or "",
               "language": language}
        yield [escape_cell(row[c]) for c in COLUMNS]


def _parts(tree: UnitTree, unit_id: int) -> Callable[[str, str], str]:
    """(kind, field) -> that field of the unit of that kind on the unit's way up (the nearest), as text."""
    path = {n.kind.value: n for n in reversed(tree.ancestors(unit_id))}

    def part(kind: str, name: str) -> str:
        value = getattr(path[kind], name) if kind in path else None
        return "" if value is None else str(value)

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
