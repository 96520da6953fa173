"""``warroom outreach ...``: voter outreach lists, do-not-call, outreach campaigns, missed calls."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from audit.log import Actor
from directory.files import RejectsFile, count_rows
from outreach.campaigns import REPORT_COLUMNS
from outreach.importer import ListImportOptions, ListImportSummary
from outreach.rows import COLUMNS
from outreach.service import OutreachService
from warroom.cli_db import open_database
from warroom.cli_errors import fail, reported, run
from warroom.compose import calling_rules
from warroom.compose_outreach import build_messages, build_outreach
from warroom.settings import load_settings

outreach_app = typer.Typer(help="Voter outreach: lists, do-not-call, outreach campaigns (within the law).",
                           no_args_is_help=True)
dnd_app = typer.Typer(help="The do-not-call registry file (DND/NCPR extract or your own).", no_args_is_help=True)
campaign_app = typer.Typer(help="Outreach campaigns to a list.", no_args_is_help=True)
outreach_app.add_typer(dnd_app, name="dnd")
outreach_app.add_typer(campaign_app, name="campaign")
recording_app = typer.Typer(help="Broadcast recordings and the recorded-names library.", no_args_is_help=True)
outreach_app.add_typer(recording_app, name="recording")


def service() -> OutreachService:
    settings = load_settings()
    return build_outreach(settings, open_database(), calling_rules(settings))


@outreach_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or UTF-16) or XLSX: phone, name, language, AC, booth "
                                              "or village, consent; other columns kept for templates")],
    list_name: Annotated[str, typer.Option("--list", help="the list to import into (created if new)")],
    consent: Annotated[str, typer.Option(help="consent source for rows without one (form, event, missed call, "
                                              "member referral...)")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable summary")] = False,
    rejects: Annotated[Path | None, typer.Option(help="write rejected rows here, to correct and re-import")] = None,
) -> None:
    """Import an outreach list. Each row ends created, updated, unchanged, merged or rejected (with why)."""
    total = count_rows(file) if file.exists() else None
    bar = tqdm(total=total, unit=" rows", file=sys.stderr, disable=as_json, desc="importing")
    writer = RejectsFile(rejects, COLUMNS) if rejects else None
    try:
        summary = run(service().import_list(file, ListImportOptions(list_name, dry_run=dry_run,
                                                                    default_consent=consent),
                                            progress=bar.update, on_reject=writer, actor=Actor.cli()))
    finally:
        bar.close()
        if writer:
            writer.close()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    _print_summary(summary, file, rejects)


def _print_summary(s: ListImportSummary, file: Path, rejects: Path | None) -> None:
    typer.echo(f"{file.name} -> list '{s.list_name}': {s.rows:,} rows in {s.seconds:.1f}s"
               f"{' (dry run: nothing written)' if s.dry_run else ''}")
    for label in ("created", "updated", "unchanged", "merged", "rejected"):
        typer.echo(f"  {label:<10} {getattr(s, label):>9,}")
    typer.echo(f"  ({s.linked:,} created rows are committee members: linked to the directory, not copied)")
    for line, first in s.merges[:10]:
        typer.echo(f"  line {line}: merged, the same number as line {first}")
    for r in s.rejections[:20]:
        typer.secho(f"  line {r.line}, column {r.column}: {r.reason}", fg=typer.colors.YELLOW)
    for line, column, warning in s.warnings[:10]:
        typer.echo(f"  line {line}, column {column}: warning: {warning}")
    if s.rejected > 20:
        typer.echo(f"  ... and {s.rejected - 20:,} more rejected rows"
                   + (f" (all in {rejects})" if rejects else " (use --rejects FILE to get them all)"))


@outreach_app.command("opt-out")
def opt_out(phone: str, source: Annotated[str, typer.Option(help="keypad, operator or request")] = "request") -> None:
    """A number that must never be called again, by any list or campaign."""
    new = run(service().opt_out(phone, source, Actor.cli()))
    typer.echo("opted out" if new else "already opted out")


@outreach_app.command("missed")
def missed(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Today's missed calls by outcome (queued, capped, flood, withheld...)."""
    figures = run(service().missed_figures())
    typer.echo(json.dumps(figures) if as_json else "\n".join(f"{k:<12} {v:>9,}" for k, v in sorted(figures.items()))
               or "no missed calls today")


@dnd_app.command("load")
def dnd_load(file: Annotated[Path, typer.Argument(help="numbers, one a line (any usual way of writing them)")],
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Replace the do-not-call store with this file's numbers (crores of rows: a minute or less)."""
    size = file.stat().st_size if file.exists() else None
    bar = tqdm(total=size, unit="B", unit_scale=True, file=sys.stderr, disable=as_json, desc="loading")
    try:
        summary = run(service().load_dnd(file, progress=bar.update, actor=Actor.cli()))
    finally:
        bar.close()
    typer.echo(json.dumps(summary.as_dict()) if as_json else
               f"{summary.numbers:,} numbers stored from {summary.lines:,} lines ({summary.skipped:,} not a "
               f"10-digit mobile, skipped) in {summary.seconds:.1f}s")


@dnd_app.command("check")
def dnd_check(phone: str) -> None:
    """Whether a number is on the do-not-call file (exit 3 when it is)."""
    if phone in service().dnd:
        typer.echo("on the do-not-call file")
        raise typer.Exit(3)
    typer.echo("not on the do-not-call file")


@campaign_app.command("create")
def campaign_create(
    name: str,
    list_name: Annotated[str, typer.Option("--list", help="the outreach list to call")],
    mcmc: Annotated[str | None, typer.Option(help="the MCMC certificate reference of the message")] = None,
    caller_id: Annotated[str | None, typer.Option(help="the caller ID the calls show")] = None,
    trunk: Annotated[str, typer.Option(help="the trunk to dial on")] = "lines",
    trunk_category: Annotated[str | None, typer.Option(help="the trunk's registration category")] = None,
) -> None:
    """A draft outreach campaign (it starts only with its MCMC reference, caller ID and trunk category)."""
    cid = run(service().create_campaign(name, list_name, mcmc_ref=mcmc, caller_id=caller_id, trunk=trunk,
                                        trunk_category=trunk_category, actor=Actor.cli()))
    typer.echo(f"outreach campaign {cid} '{name}' created (draft)")


@campaign_app.command("mcmc")
def campaign_mcmc(name: str, reference: str) -> None:
    """Record the MCMC certificate reference of the campaign's message."""
    run(service().set_mcmc(name, reference, Actor.cli()))
    typer.echo(f"'{name}': MCMC reference recorded")


def _scrubbed(counts: dict[str, int]) -> str:
    return ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in sorted(counts.items())) or "none"


@campaign_app.command("recording")
def campaign_recording(name: str, recording: str) -> None:
    """The leader's recording (`recording add`) the campaign's calls play after each person's name."""
    run(service().set_recording(name, recording, Actor.cli()))
    typer.echo(f"outreach campaign '{name}' plays the recording '{recording}'")


@campaign_app.command("start")
def campaign_start(name: str) -> None:
    """Start: refused without the MCMC reference, caller ID and trunk category. Numbers are scrubbed as the
    campaign reaches them (`campaign show` says how many and why)."""
    run(service().start_campaign(name, Actor.cli()))
    typer.echo(f"'{name}' started (opted-out, DND and silent-AC numbers are scrubbed as it goes; "
               f"`warroom outreach campaign scrub {name}` counts them now)")


@campaign_app.command("scrub")
def campaign_scrub(name: str) -> None:
    """How many of the campaign's numbers are opted out or on the do-not-call file (changes nothing)."""
    typer.echo(f"'{name}' would scrub: {_scrubbed(run(service().scrub(name)))}")


@campaign_app.command("show")
def campaign_show(
    name: str,
    lines: Annotated[int, typer.Option(help="lines it dials on (for the ETA)")] = 10,
    by: Annotated[str | None, typer.Option(help="a finish time (ISO, e.g. 2026-11-05T18:00+05:30): the lines "
                                                "it would need")] = None,
) -> None:
    """A campaign's figures (JSON): progress, scrubbed, attempts, ETA at the live pace, lines needed by a time."""
    deadline = None
    if by:
        try:
            deadline = datetime.fromisoformat(by)
        except ValueError:
            fail(f"--by {by}: an ISO time such as 2026-11-05T18:00+05:30")
        if deadline.tzinfo is None:
            fail(f"--by {by}: give the time zone (+05:30)")
    typer.echo(json.dumps(run(service().eta(name, lines, deadline)), ensure_ascii=False, indent=1))


@campaign_app.command("report")
def campaign_report(name: str, output: Annotated[Path | None, typer.Option(help="CSV file (default: "
                                                                                   "standard output)")] = None) -> None:
    """Who was called when, from which caller ID and trunk category (for an inquiry), as CSV."""
    fh = open(output, "w", newline="", encoding="utf-8-sig") if output else sys.stdout
    try:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        with reported():
            for row in service().report(name):
                writer.writerow(row)
    finally:
        if output:
            fh.close()


@recording_app.command("add")
def recording_add(file: Annotated[Path, typer.Argument(help="WAV, MP3 or OGG")],
                  name: Annotated[str, typer.Option(help="the recording's name (letters, digits, - and _)")]) -> None:
    """Store the leader's recording: converted to 8 kHz mono, loudness-normalised; its length shown."""
    seconds = run(service().add_recording(file, name, actor=Actor.cli()))
    typer.echo(f"recording '{name}': {seconds:.1f} s")


@recording_app.command("name")
def recording_name(file: Annotated[Path, typer.Argument(help="WAV, MP3 or OGG: one name, spoken")],
                   person: Annotated[str, typer.Option(help="the name as written in the lists")],
                   lang: Annotated[str, typer.Option(help="hi or en")] = "hi") -> None:
    """A recorded name: everyone so named hears it instead of synthesis."""
    seconds = run(build_messages(load_settings()).add_name(file, person, lang))
    typer.echo(f"name '{person}' ({lang}) recorded: {seconds:.1f} s")


@recording_app.command("preview")
def recording_preview(phone: Annotated[str, typer.Argument(help="a contact's number")],
                      recording: Annotated[str, typer.Option(help="the recording's name")],
                      output: Annotated[Path, typer.Option(help="the WAV to write")] = Path("preview.wav")) -> None:
    """The message one person would hear (their name, recorded or synthesised, then the recording)."""
    async def render() -> dict[str, object]:
        name, language = await service().who(phone)
        return await build_messages(load_settings()).render(recording, name, language, output)

    found = run(render())
    typer.echo(f"{output}: {found['seconds']} s (the name {found['name']}, then '{recording}')")
