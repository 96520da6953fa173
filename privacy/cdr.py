"""Asterisk's own call records, kept in CSV files under its log directory (``cdr-csv/Master.csv``,
``cdr-custom/warroom.csv``, and any other ``*.csv`` there): a number masked in every cell (erasure), or
the records that started before a day removed (retention).

Asterisk opens these files to append each record, so they are rewritten in place (same file, same owner
and mode), never replaced by a new file it would not write to."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from privacy.phones import PhonePattern, scrub_all

FOLDERS = ("cdr-csv", "cdr-custom")


def cdr_files(log_dir: Path | None) -> Iterator[Path]:
    """The CSV files of Asterisk's CDR under ``log_dir`` (none when it is unset or missing)."""
    if log_dir is None:
        return
    for folder in FOLDERS:
        base = log_dir / folder
        if base.is_dir():
            yield from sorted(p for p in base.glob("*.csv") if p.is_file())


def started(row: list[str]) -> datetime | None:
    """A record's start: its first cell that is a time (``YYYY-MM-DD HH:MM:SS``; UTC, as cdr.conf says)."""
    for cell in row:
        if len(cell) >= 19 and cell[4] == "-" and cell[10] == " ":
            try:
                return datetime.fromisoformat(cell[:19]).replace(tzinfo=UTC)
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class Rewrite:
    path: Path
    changed: int  # records masked or removed


def _rewrite(path: Path, change: Callable[[list[str]], list[str] | None], dry_run: bool) -> Rewrite:
    """Apply ``change`` to every record (None: drop it) and write the file back in place if any changed."""
    with open(path, "r+", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        rows = list(csv.reader(fh))
        kept: list[list[str]] = []
        changed = 0
        for row in rows:
            new = change(row)
            if new != row:
                changed += 1
            if new is not None:
                kept.append(new)
        if changed and not dry_run:
            out = io.StringIO()
            csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(kept)
            fh.seek(0)
            fh.write(out.getvalue())
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
    return Rewrite(path, changed)


def mask_numbers(log_dir: Path | None, patterns: list[PhonePattern], *, dry_run: bool = False) -> list[Rewrite]:
    """Mask the numbers in every CDR file's cells; the files (and how many records) that held them."""
    def change(row: list[str]) -> list[str]:
        return [scrub_all(cell, patterns) for cell in row]

    return [r for r in (_rewrite(p, change, dry_run) for p in cdr_files(log_dir)) if r.changed]


def drop_before(log_dir: Path | None, cutoff: datetime, *, dry_run: bool = False) -> list[Rewrite]:
    """Remove the records that started before ``cutoff``; the files (and how many records) changed."""
    def change(row: list[str]) -> list[str] | None:
        when = started(row)
        return None if when is not None and when < cutoff else row

    return [r for r in (_rewrite(p, change, dry_run) for p in cdr_files(log_dir)) if r.changed]
