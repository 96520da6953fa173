"""``warroom report ...``: figures per campaign, day, operator, shift and assembly constituency, as a
table, JSON, CSV or XLSX (spreadsheet formulas neutralised)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from audit.log import Actor
from reports.export import to_csv, to_text, to_xlsx
from reports.model import parse_day
from reports.service import ReportService
from reports.shifts import parse_shifts
from warroom.cli_db import open_database
from warroom.cli_errors import fail, reported, run
from warroom.settings import load_settings

report_app = typer.Typer(help="Reports: per campaign, day, operator, shift and AC; a table, JSON, CSV or XLSX.",
                         no_args_is_help=True)

SinceOpt = Annotated[str | None, typer.Option("--since", help="first day, YYYY-MM-DD (local time; default: "
                                                                "from the beginning)")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="last day, YYYY-MM-DD, included (default: up to "
                                                                "now)")]
TzOpt = Annotated[str | None, typer.Option("--timezone", help="time zone of the days and shifts (default: the "
                                                                "dialer's, Asia/Kolkata)")]
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="only this campaign (name or id)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="the same figures as JSON on stdout")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="also write the report to this CSV file",
                                             dir_okay=False)]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="also write the report to this XLSX file",
                                              dir_okay=False)]


def _report(kind: str, since: str | None, until: str | None, timezone: str | None, *, campaign: str | None = None,
            shifts: str | None = None, as_json: bool, csv_file: Path | None, xlsx_file: Path | None) -> None:
    """Build the report, then print and/or write it."""
    settings = load_settings()
    with reported():
        first: date | None = parse_day(since, "--since") if since else None
        last: date | None = parse_day(until, "--until") if until else None
        chosen = parse_shifts(shifts) if shifts is not None else None
    service = ReportService(open_database(), timezone=settings.dialer.timezone,
                            shifts=parse_shifts(settings.reports.shifts))
    files = [fmt for fmt, path in (("csv", csv_file), ("xlsx", xlsx_file)) if path is not None]
    report = run(service.build(kind, since=first, until=last, campaign=campaign, timezone=timezone, shifts=chosen,
                               actor=Actor.cli() if files else None, fmt="+".join(files) or "text"))
    try:
        if csv_file is not None:
            csv_file.write_text(to_csv(report), encoding="utf-8-sig", newline="")
            typer.echo(f"{len(report.rows)} rows written to {csv_file}", err=True)
        if xlsx_file is not None:
            xlsx_file.write_bytes(to_xlsx(report))
            typer.echo(f"{len(report.rows)} rows written to {xlsx_file}", err=True)
    except OSError as exc:
        fail(f"cannot write the report: {exc}")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    elif csv_file is None and xlsx_file is None:
        typer.echo(to_text(report), nl=False)


@report_app.command("campaign")
def campaign_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None,
                 campaign: CampaignOpt = None, as_json: JsonOpt = False, csv_file: CsvOpt = None,
                 xlsx_file: XlsxOpt = None) -> None:
    """One row per campaign: targets now; attempts, outcomes, talk time and IVR results in the period."""
    _report("campaign", since, until, timezone, campaign=campaign, as_json=as_json, csv_file=csv_file,
            xlsx_file=xlsx_file)


@report_app.command("day")
def day_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None, campaign: CampaignOpt = None,
            as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """One row per local day: attempts, answered, talk time, IVR completed, tickets opened and resolved."""
    _report("day", since, until, timezone, campaign=campaign, as_json=as_json, csv_file=csv_file,
            xlsx_file=xlsx_file)


@report_app.command("operator")
def operator_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None,
                 as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """One row per operator: calls taken, offers missed, dispositions, seconds in each working state."""
    _report("operator", since, until, timezone, as_json=as_json, csv_file=csv_file, xlsx_file=xlsx_file)


@report_app.command("shift")
def shift_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None,
              shifts: Annotated[str | None, typer.Option(help="NAME=HH:MM-HH:MM,... (default: the "
                                                             "WARROOM_REPORTS__SHIFTS setting)")] = None,
              as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """The operator figures per shift (time outside every shift is off-shift)."""
    _report("shift", since, until, timezone, shifts=shifts, as_json=as_json, csv_file=csv_file,
            xlsx_file=xlsx_file)


@report_app.command("ac")
def ac_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None, campaign: CampaignOpt = None,
           as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """One row per AC: booths, committee coverage, attempts, answered, IVR answers, tickets."""
    _report("ac", since, until, timezone, campaign=campaign, as_json=as_json, csv_file=csv_file,
            xlsx_file=xlsx_file)
