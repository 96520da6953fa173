"""A report as CSV, XLSX or an aligned text table. Safe to open in a spreadsheet: a text cell that starts
like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading ``'`` in CSV, and is written
to XLSX as a text cell with Excel's quote prefix (never a formula); numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from directory.exporter import FORMULA_START, escape_cell
from reports.model import Cell, Report

__all__ = ["FORMULA_START", "escape_cell", "to_csv", "to_text", "to_xlsx"]

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _csv_cell(value: Cell) -> str | int | float:
    if value is None:
        return ""
    return escape_cell(value) if isinstance(value, str) else value


def to_csv(report: Report) -> str:
    """The header and the rows as CSV text (write it as ``utf-8-sig`` so Excel reads Hindi right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_cell(c) for c in report.columns])
    for row in report.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    """One sheet: a bold, frozen header row, the rows (numbers as numbers), columns sized to fit."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _SHEET_NAME_BAD.sub(" ", report.title)[:31] or "Report"
    widths = [len(c) for c in report.columns]
    bold = Font(bold=True)
    for col, name in enumerate(report.columns, start=1):
        _put(ws.cell(row=1, column=col), name).font = bold
    for r, row in enumerate(report.rows, start=2):
        for col, value in enumerate(row, start=1):
            _put(ws.cell(row=r, column=col), value)
            widths[col - 1] = max(widths[col - 1], len(str(value)) if value is not None else 0)
    ws.freeze_panes = "A2"
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 60)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _put(cell: Any, value: Cell) -> Any:
    """Set an openpyxl cell's value; text is always text (openpyxl would make ``=...`` a formula), without
    the control characters XLSX cannot hold."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def _text(value: Cell) -> str:
    return "" if value is None else str(value)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: combining marks (Devanagari vowel signs...) take none."""
    return sum(unicodedata.category(ch) not in ("Mn", "Me", "Cf") for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(width - _width(text), 0)
    return fill + text if right else text + fill


def to_text(report: Report) -> str:
    """An aligned table for a terminal: text left, numbers right, the title and period above it."""
    cells = [[_text(v) for v in row] for row in report.rows]
    widths = [max([_width(c), *(_width(r[i]) for r in cells)]) for i, c in enumerate(report.columns)]
    numeric = [all(row[i] is None or isinstance(row[i], int | float) for row in report.rows)
               for i in range(len(report.columns))]

    def line(values: list[str]) -> str:
        return "  ".join(_pad(v, w, num) for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    scope = ", ".join(f"{k} {v}" for k, v in report.meta.items() if v is not None)
    out = [report.title + (f" ({scope})" if scope else ""), line(list(report.columns)),
           line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    if not report.rows:
        out.append("(no rows)")
    return "\n".join(out) + "\n"
