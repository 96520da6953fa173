"""``warroom directory ...``: the committee directory."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from audit.log import Actor
from directory.exporter import write_csv, write_xlsx
from directory.files import RejectsFile, count_rows
from directory.importer import ImportOptions, ImportSummary
from directory.service import DirectoryService
from warroom.cli_db import open_database
from warroom.cli_errors import fail, run
from warroom.compose import status_rules
from warroom.settings import load_settings

directory_app = typer.Typer(help="The committee directory: import, export, coverage.", no_args_is_help=True)


def directory() -> DirectoryService:
    """The directory over the configured database, with the settings' booth-status rules."""
    settings = load_settings()
    return DirectoryService(open_database(), rules=status_rules(settings),
                            verify_days=settings.directory.verify_days)


@directory_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or UTF-16) or XLSX; English or Hindi headers")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable summary")] = False,
    rejects: Annotated[Path | None, typer.Option(help="write rejected rows here, to correct and re-import")] = None,
    state: Annotated[str, typer.Option(help="state name for rows without a state column")] = "State",
) -> None:
    """Import committee members. Each row ends created, updated, unchanged, merged or rejected (with why)."""
    total = count_rows(file) if file.exists() else None
    bar = tqdm(total=total, unit=" rows", file=sys.stderr, disable=as_json, desc="importing")
    writer = RejectsFile(rejects) if rejects else None
    try:
        summary = run(directory().import_members(file, ImportOptions(dry_run=dry_run, default_state=state),
                                                 progress=bar.update, on_reject=writer, actor=Actor.cli()))
    finally:
        bar.close()
        if writer:
            writer.close()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    _print_summary(summary, file, rejects)


def _print_summary(s: ImportSummary, file: Path, rejects: Path | None) -> None:
    verb = "would be" if s.dry_run else "were"
    typer.echo(f"{file.name}: {s.rows:,} rows in {s.seconds:.1f}s{' (dry run: nothing written)' if s.dry_run else ''}")
    for label in ("created", "updated", "unchanged", "merged", "rejected"):
        typer.echo(f"  {label:<10} {getattr(s, label):>9,}")
    for line, first in s.merges[:10]:
        typer.echo(f"  line {line}: merged, a duplicate of line {first} (same phone, same committee)")
    for r in s.rejections[:20]:
        typer.secho(f"  line {r.line}, column {r.column}: {r.reason}", fg=typer.colors.YELLOW)
    for line, column, warning in s.warnings[:10]:
        typer.echo(f"  line {line}, column {column}: warning: {warning}")
    if s.rejected > 20:
        typer.echo(f"  ... and {s.rejected - 20:,} more rejected rows"
                   + (f" (all in {rejects})" if rejects else " (use --rejects FILE to get them all)"))
    elif rejects and s.rejected:
        typer.echo(f"  rejected rows {verb} written to {rejects} for correction")


@directory_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    output: Annotated[Path | None, typer.Option(help="file to write (csv: standard output if omitted)")] = None,
) -> None:
    """Export the directory with the import's columns (spreadsheet formulas are neutralised)."""
    if fmt not in {"csv", "xlsx"}:
        fail(f"--format {fmt}: use csv or xlsx", code=2)
    target = (output or Path("directory.xlsx")) if fmt == "xlsx" else output

    def write(rows: Iterator[list[str]]) -> int:
        if fmt == "xlsx":
            assert target is not None
            return write_xlsx(rows, target)
        if target is None:
            return write_csv(rows, sys.stdout)
        with open(target, "w", newline="", encoding="utf-8-sig") as fh:
            return write_csv(rows, fh)

    n = run(directory().export(write, Actor.cli()))
    if target is not None:
        typer.echo(f"{n:,} rows written to {target}", err=True)
