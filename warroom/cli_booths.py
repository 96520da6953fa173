"""``warroom booths ...``, ``warroom directory coverage`` and ``warroom demo-data``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from audit.log import Actor
from directory.demo import DemoSpec
from warroom.cli_directory import directory, directory_app
from warroom.cli_errors import run

booths_app = typer.Typer(help="Polling booths: past results and their status (strong / weak / swing).",
                         no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]




@booths_app.command("import-results")
def import_results_cmd(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX: ac_no, booth_no, year, kind, electors, votes_polled, "
                                              "then one column of votes per party")],
    year: Annotated[int | None, typer.Option(help="election year when the file has no year column")] = None,
    kind: Annotated[str | None, typer.Option(help="assembly / loksabha ... when the file has no kind column")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Load past booth results (upsert by booth and election) and recompute the booths' status."""
    summary = run(directory().import_results(file, year=year, kind=kind, dry_run=dry_run, actor=Actor.cli()))
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"{file.name}: {summary.rows} rows: {summary.created} created, {summary.updated} updated, "
               f"{summary.unchanged} unchanged, {summary.rejected} rejected" + (" (dry run)" if dry_run else ""))
    for r in summary.rejections[:20]:
        typer.secho(f"  line {r['line']}, column {r['column']}: {r['reason']}", fg=typer.colors.YELLOW)
    typer.echo("booth status: " + ", ".join(f"{k} {v}" for k, v in summary.statuses.items()))


@booths_app.command("set-status")
def set_status(
    ac_no: int, booth_no: int,
    status: Annotated[str, typer.Argument(help="strong, weak, swing, unknown, or auto to clear the override")],
    reason: Annotated[str, typer.Option(help="why (required unless auto)")] = "",
    by: Annotated[str, typer.Option(help="who decides (required unless auto)")] = "",
) -> None:
    """Override a booth's status by hand (the derived status stays, and returns with `auto`)."""
    now = run(directory().set_status(ac_no, booth_no, status, reason, by, Actor.cli()))
    typer.echo(f"booth {booth_no} of AC {ac_no} is now {now}")


@directory_app.command("coverage")
def coverage_cmd(
    verify_days: Annotated[int | None, typer.Option(help="members not verified for this many days are listed")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Committees under two reachable contacts, booths without a committee, shared phones, unverified members."""
    report = run(directory().coverage(verify_days))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    t = report.totals()
    typer.echo(f"{t['committees']:,} committees: {t['under_covered']:,} under two reachable contacts; "
               f"{t['booths']:,} booths: {t['booths_without_committee']:,} with nobody; {t['members']:,} members: "
               f"{t['unverified']:,} not verified in {report.verify_days} days; {t['shared_phones']:,} shared phones")
    typer.echo(f"\n{'district':<20} {'AC':<28} {'committees':>10} {'<2 contacts':>11} {'booths':>7} "
               f"{'no one':>7} {'unverified':>10}")
    for a in report.areas:
        typer.echo(f"{a.district[:20]:<20} {a.ac[:28]:<28} {a.committees:>10} {a.under_covered:>11} {a.booths:>7} "
                   f"{a.booths_without_committee:>7} {a.unverified:>10}")
    if report.under_covered:
        typer.echo("\nfewest reachable contacts:")
        for u in report.under_covered[:15]:
            typer.echo(f"  {u['reachable']} of {u['members']}  {u['unit']}")
    if report.shared_phones:
        typer.echo("\nphones shared by several people: " + ", ".join(
            f"{p['phone'][-4:].rjust(len(p['phone']), '•')} ({p['people']})" for p in report.shared_phones[:10]))


def demo_data(
    districts: Annotated[int, typer.Option(min=1, help="districts")] = 2,
    acs: Annotated[int, typer.Option(min=1, help="assembly constituencies per district")] = 3,
    booths_per_ac: Annotated[int, typer.Option(min=1, help="polling booths per AC")] = 20,
    seed: Annotated[int, typer.Option(help="same seed, same directory")] = 2026,
    as_json: JsonOpt = False,
) -> None:
    """Generate a realistic demo directory (Hindi names, Indian mobiles, booth results) into the database."""
    result = run(directory().demo_data(DemoSpec(districts, acs, booths_per_ac, seed)))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    imp = result["import"]
    typer.echo(f"demo directory: {imp['rows']:,} members ({imp['created']:,} new, {imp['unchanged']:,} unchanged), "
               f"{result['booths']:,} booths: " + ", ".join(f"{k} {v}" for k, v in result["statuses"].items()))
