"""Files around a directory import: a cheap row count for progress, and the rejects file (the rejected rows
in the import's columns plus line, column and reason, to correct and import again). The command line and
the pages' import jobs use both."""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType

from directory.importer import Rejection
from directory.rows import COLUMNS

REJECT_COLUMNS = [*COLUMNS, "line", "column", "reason"]


def count_rows(path: Path) -> int | None:
    """Data rows in a file, cheaply, for a progress bar (None if unknown)."""
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            rows = wb.worksheets[0].max_row
            wb.close()
            return max(0, (rows or 1) - 1)
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(0)
            newline = b"\n\x00" if head[:2] in (b"\xff\xfe",) or (len(head) > 1 and head[1] == 0) else b"\n"
            return max(0, sum(chunk.count(newline) for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1)
    except (OSError, ValueError, KeyError):
        return None


def _written(value: str) -> str:
    """A cell as the file had it: a formula with no saved value is written back as its formula, quoted so
    that a spreadsheet shows it rather than runs it."""
    formula = getattr(value, "formula", None)
    return f"'{formula}" if formula else value


class RejectsFile:
    """Rejected rows as CSV (UTF-8 with a BOM, so spreadsheets read Hindi right); call it with each
    :class:`Rejection`, then :meth:`close` it (or use it in a ``with`` block)."""

    def __init__(self, path: Path, columns: list[str] | None = None) -> None:
        self.columns = columns or COLUMNS
        self.fh = open(path, "w", newline="", encoding="utf-8-sig")  # closed by close()
        self.writer = csv.writer(self.fh)
        self.writer.writerow([*self.columns, "line", "column", "reason"])
        self.rows = 0

    def __call__(self, rejection: Rejection) -> None:
        self.writer.writerow([_written(rejection.raw.get(c, "")) for c in self.columns]
                             + [rejection.line, rejection.column, rejection.reason])
        self.rows += 1

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
