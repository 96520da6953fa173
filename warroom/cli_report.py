"""``warroom report ...``: figures per campaign, day, operator, shift and assembly constituency, as a
table, JSON, CSV or XLSX (spreadsheet formulas neutralised)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.orm import Session

from dialer.campaigns import CampaignError, get_campaign
from reports.areas import ac_report
from reports.calls import campaign_report, day_report
from reports.export import to_csv, to_text, to_xlsx
from reports.model import Period, Report, ReportError, parse_day
from reports.operators import operator_report, shift_report
from reports.shifts import ShiftError, parse_shifts
from warroom.cli_db import sessions
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


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _period(since: str | None, until: str | None, timezone: str | None) -> Period:
    try:
        return Period(since=parse_day(since, "--since") if since else None,
                      until=parse_day(until, "--until") if until else None,
                      timezone=timezone or load_settings().dialer.timezone)
    except ReportError as exc:
        _fail(str(exc))


def _campaign_id(session: Session, ref: str | None) -> int | None:
    return get_campaign(session, ref.strip()).id if ref else None


def _run(build: Callable[[Session], Report], as_json: bool, csv_file: Path | None, xlsx_file: Path | None) -> None:
    """Build the report in a read-only session, then print and/or write it."""
    try:
        with sessions()() as s:
            report = build(s)
    except (ReportError, CampaignError) as exc:
        _fail(str(exc))
    try:
        if csv_file is not None:
            csv_file.write_text(to_csv(report), encoding="utf-8-sig", newline="")
            typer.echo(f"{len(report.rows)} rows written to {csv_file}", err=True)
        if xlsx_file is not None:
            xlsx_file.write_bytes(to_xlsx(report))
            typer.echo(f"{len(report.rows)} rows written to {xlsx_file}", err=True)
    except OSError as exc:
        _fail(f"cannot write the report: {exc}")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    elif csv_file is None and xlsx_file is None:
        typer.echo(to_text(report), nl=False)


@report_app.command("campaign")
def campaign_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None,
                 campaign: CampaignOpt = None, as_json: JsonOpt = False, csv_file: CsvOpt = None,
                 xlsx_file: XlsxOpt = None) -> None:
    """One row per campaign: targets now; attempts, outcomes, talk time and IVR results in the period."""
    period = _period(since, until, timezone)
    _run(lambda s: campaign_report(s, period, _campaign_id(s, campaign)), as_json, csv_file, xlsx_file)


@report_app.command("day")
def day_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None, campaign: CampaignOpt = None,
            as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """One row per local day: attempts, answered, talk time, IVR completed, tickets opened and resolved."""
    period = _period(since, until, timezone)
    _run(lambda s: day_report(s, period, _campaign_id(s, campaign)), as_json, csv_file, xlsx_file)


@report_app.command("operator")
def operator_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None,
                 as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """One row per operator: calls taken, offers missed, dispositions, seconds in each working state."""
    period = _period(since, until, timezone)
    _run(lambda s: operator_report(s, period), as_json, csv_file, xlsx_file)


@report_app.command("shift")
def shift_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None,
              shifts: Annotated[str | None, typer.Option(help="NAME=HH:MM-HH:MM,... (default: the "
                                                             "WARROOM_REPORTS__SHIFTS setting)")] = None,
              as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """The operator figures per shift (time outside every shift is off-shift)."""
    period = _period(since, until, timezone)
    try:
        parsed = parse_shifts(shifts if shifts is not None else load_settings().reports.shifts)
    except ShiftError as exc:
        _fail(str(exc))
    _run(lambda s: shift_report(s, parsed, period), as_json, csv_file, xlsx_file)


@report_app.command("ac")
def ac_cmd(since: SinceOpt = None, until: UntilOpt = None, timezone: TzOpt = None, campaign: CampaignOpt = None,
           as_json: JsonOpt = False, csv_file: CsvOpt = None, xlsx_file: XlsxOpt = None) -> None:
    """One row per AC: booths, committee coverage, attempts, answered, IVR answers, tickets."""
    period = _period(since, until, timezone)
    _run(lambda s: ac_report(s, period, _campaign_id(s, campaign)), as_json, csv_file, xlsx_file)
