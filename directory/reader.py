"""Read tabular files row by row without holding them: CSV (UTF-8 with or without BOM, UTF-16 as Excel
writes it, comma/semicolon/tab) and XLSX (openpyxl read-only). Headers are matched to canonical column
names case- and space-insensitively, in English or Hindi."""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from zipfile import BadZipFile

from core.errors import Invalid

CSV_SNIFF_BYTES = 64 * 1024


class FileFormatError(Invalid):
    """The file cannot be read as a table; the message names the file and the problem."""


class NoSavedValue(str):
    """An XLSX cell holding a formula whose value was never saved (the file was written by a program, not
    opened and saved in a spreadsheet): its text is empty, ``formula`` says what it held."""

    formula: str

    def __new__(cls, formula: str) -> NoSavedValue:
        cell = super().__new__(cls, "")
        cell.formula = formula
        return cell

    def strip(self, chars: str | None = None) -> NoSavedValue:
        return self


def formula_problem(raw: Mapping[str, str]) -> tuple[str, str] | None:
    """(column, reason) for the first cell of ``raw`` that is a formula with no saved value, else None."""
    for column, value in raw.items():
        if isinstance(value, NoSavedValue):
            shown = value.formula if len(value.formula) <= 60 else value.formula[:57] + "..."
            return column, f"{column.replace('_', ' ')} is a formula with no saved value: {shown}"
    return None


def normalise_header(text: str) -> str:
    """Lower-case, NFC, collapse spaces/underscores/dots, drop nuktas' variants (ज़ -> ज)."""
    text = unicodedata.normalize("NFC", text or "").replace("\u093c", "")  # nukta
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"[\s_.\-/]+", " ", text.strip().lower()).strip()


@dataclass(frozen=True)
class Table:
    """An open table: canonical column -> source header, and an iterator of (file line, row dict)."""

    path: Path
    columns: dict[str, str]          # canonical name -> header as written in the file
    header_columns: dict[str, int]   # canonical name -> 1-based column number (for error messages)
    rows: Iterator[tuple[int, dict[str, str]]]


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    if len(head) >= 4 and head[0] == 0 and head[2] == 0:
        return "utf-16-be"
    return "utf-8"


def _map_headers(path: Path, headers: list[str], aliases: Mapping[str, set[str]]) -> tuple[dict[str, str],
                                                                                               dict[str, int]]:
    lookup = {normalise_header(alias): canon for canon, names in aliases.items() for alias in names | {canon}}
    columns: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for i, header in enumerate(headers, start=1):
        canon = lookup.get(normalise_header(header))
        if canon is None:
            continue
        if canon in columns:
            raise FileFormatError(f"{path.name}: columns {numbers[canon]} ('{columns[canon]}') and {i} "
                                  f"('{header}') both mean '{canon}'")
        columns[canon] = header
        numbers[canon] = i
    return columns, numbers


def open_table(path: Path, aliases: Mapping[str, set[str]], required: Collection[str] = (),
               keep_other: bool = False) -> Table:
    """Open ``path`` (.csv/.txt/.tsv or .xlsx) and map its header row through ``aliases``.

    With ``keep_other``, columns no alias matches are kept too, under their header as written.

    Raises :class:`FileFormatError` for an unreadable file, a missing header, or missing required columns.
    """
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        headers, rows = _open_xlsx(path)
    elif suffix in {".csv", ".txt", ".tsv", ""}:
        headers, rows = _open_csv(path)
    else:
        raise FileFormatError(f"{path.name}: unsupported file type '{suffix}' (use .csv or .xlsx)")
    columns, numbers = _map_headers(path, headers, aliases)
    missing = sorted(set(required) - columns.keys())
    if missing:
        raise FileFormatError(f"{path.name}: missing column(s) {', '.join(missing)} in the header row "
                              f"(found: {', '.join(h for h in headers if h) or 'nothing'})")
    by_header = {header: canon for canon, header in columns.items()}
    index = [(i, by_header.get(h) or (h.strip() if keep_other and h.strip() else None))
             for i, h in enumerate(headers)]

    def canonical_rows() -> Iterator[tuple[int, dict[str, str]]]:
        for line, values in rows:
            if not "".join(values).strip() and not any(isinstance(v, NoSavedValue) for v in values):
                continue  # blank lines are not rows
            yield line, {canon: (values[i].strip() if i < len(values) else "")
                         for i, canon in index if canon is not None}

    return Table(path, columns, numbers, canonical_rows())


def _open_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    with open(path, "rb") as fh:
        head = fh.read(CSV_SNIFF_BYTES)
    encoding = _detect_encoding(head)
    try:
        sample = head.decode(encoding, errors="ignore")
    except LookupError as exc:  # pragma: no cover - encodings above always exist
        raise FileFormatError(f"{path.name}: {exc}") from exc
    first_line = sample.lstrip("\ufeff").splitlines()[0] if sample.strip() else ""
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    fh_text = open(path, encoding=encoding, newline="")  # closed by rows() or on error below
    reader = csv.reader(fh_text, delimiter=delimiter)
    try:
        headers = [h.lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        fh_text.close()
        raise FileFormatError(f"{path.name}: the file is empty (no header row)") from None
    except UnicodeDecodeError as exc:
        fh_text.close()
        raise FileFormatError(f"{path.name}: not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start})") from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for values in reader:
                yield reader.line_num, values
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"{path.name}: line {reader.line_num + 1}: not UTF-8 text "
                                  f"({exc.reason})") from exc
        except csv.Error as exc:
            raise FileFormatError(f"{path.name}: line {reader.line_num}: {exc}") from exc
        finally:
            fh_text.close()

    return headers, rows()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The saved values, row by row; a second read-only pass over the same sheet, in step, gives the
    formula of a cell that has no saved value (so it can be reported as such, not as an empty cell)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        formulas_wb = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileFormatError(f"{path.name}: not a readable .xlsx workbook ({exc})") from exc
    it = wb.worksheets[0].iter_rows(values_only=True)
    formulas = formulas_wb.worksheets[0].iter_rows(values_only=True)
    try:
        headers = [_cell(v) for v in next(it)]
        next(formulas, None)
    except StopIteration:
        wb.close()
        formulas_wb.close()
        raise FileFormatError(f"{path.name}: the first sheet is empty (no header row)") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for line, values in enumerate(it, start=2):
                written = next(formulas, ())
                cells = [_cell(v) for v in values]
                for i, cell in enumerate(cells):
                    if not cell and i < len(written) and isinstance(written[i], str) and written[i].startswith("="):
                        cells[i] = NoSavedValue(written[i])
                yield line, cells
        finally:
            wb.close()
            formulas_wb.close()

    return headers, rows()
