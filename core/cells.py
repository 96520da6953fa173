"""Text cells safe to open in a spreadsheet: one that starts like a formula gets a leading quote."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Cells a spreadsheet would run as formulas get a leading quote (the importer drops it again)."""
    return "'" + value if value.startswith(FORMULA_START) else value
