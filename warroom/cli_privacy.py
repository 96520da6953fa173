"""``warroom audit``, ``warroom people erase`` and ``warroom retention apply``: the audit log, erasure and
retention, from the command line (each calls its service; the services write the audit entries)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from audit.log import Actor
from audit.service import AuditFilter, AuditService
from hotline.service import PinService
from privacy.service import PrivacyService
from warroom.cli_db import open_database
from warroom.cli_errors import fail, run
from warroom.compose import build_privacy
from warroom.settings import load_settings

people_app = typer.Typer(help="People in the directory: erasure (the right to erasure), hotline PINs.",
                         no_args_is_help=True)
retention_app = typer.Typer(help="How long personal data is kept (WARROOM_PRIVACY__*).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="show what would go, change nothing")]


def privacy() -> PrivacyService:
    return build_privacy(load_settings(), open_database())


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{what} '{text}': expected YYYY-MM-DD")


def _show(title: str, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(title)
    for key, value in result.items():
        if key != "dry_run":
            typer.echo(f"  {key:<28} {value}")


def audit(
    actor: Annotated[str | None, typer.Option(help="who (a user name, system, cli:<os user>, anonymous)")] = None,
    action: Annotated[str | None, typer.Option(help="an action, or its start: campaign., user., sign_in")] = None,
    target: Annotated[str | None, typer.Option(help="campaign:12, user:asha, ticket:7, person:340...")] = None,
    since: Annotated[str | None, typer.Option(help="first day (YYYY-MM-DD, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="last day, included")] = None,
    limit: Annotated[int, typer.Option(help="at most this many entries, newest first")] = 200,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="write them to this CSV file ('-': standard "
                                                                 "output); the download is recorded")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit log: who did what and when (sign-ins, users, campaigns, tickets, listening in, downloads,
    imports, erasures...), newest first."""
    which = AuditFilter(actor, action, target, _day(since, "--since"), _day(until, "--until"), limit)
    service = AuditService(open_database())
    if csv_file is not None:
        body = run(service.export_csv(which, Actor.cli()))
        if str(csv_file) == "-":
            sys.stdout.write(body)
        else:
            csv_file.write_text(body, encoding="utf-8-sig", newline="")
            typer.echo(f"{body.count(chr(10)) - 1} entries written to {csv_file}", err=True)
        return
    rows = run(service.entries(which))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("nothing recorded that fits")
    for r in rows:
        detail = " ".join(f"{k}={v}" for k, v in r["detail"].items())
        typer.echo(f"{r['at'][:19]}  {r['actor']:<16} {r['action']:<24} {r['target'] or '-':<18} "
                   f"{r['outcome']:<8} {r['address'] or ''} {detail}".rstrip())


@people_app.command("erase")
def erase(
    person: Annotated[str, typer.Argument(help="their phone (any writing) or their directory id")],
    dry_run: DryRunOpt = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Erase a person everywhere: the directory, call records (phones kept to their last four digits),
    operators' notes, voice notes and recordings, Asterisk's CDR files. The audit log records that it was
    done, not who it was."""
    service = privacy()
    if not dry_run and not yes:
        preview = run(service.erase(person, dry_run=True, actor=Actor.cli()))
        _show("would erase:", preview, False)
        typer.confirm("erase it all? this cannot be undone", abort=True)
    result = run(service.erase(person, dry_run=dry_run, actor=Actor.cli()))
    _show("would erase (dry run, nothing changed):" if dry_run else "erased:", result, as_json)


@people_app.command("set-pin")
def set_pin_cmd(
    person: Annotated[str, typer.Argument(help="their phone (any writing) or their directory id")],
    pin: Annotated[str | None, typer.Option(help="the PIN (4 to 8 digits); default: a random one")] = None,
) -> None:
    """Give a member a hotline PIN (printed once: tell it to them; only its hash is kept). Caller ID can be
    spoofed: the hotline reads a booth's instructions only after the member's PIN, and marks tickets from a
    caller who did not give it as unverified."""
    out = run(PinService(open_database()).set(person, Actor.cli(), pin=pin))
    typer.echo(f"{out['name']} (id {out['person_id']}): hotline PIN {out['pin']}")


@people_app.command("clear-pin")
def clear_pin_cmd(
    person: Annotated[str, typer.Argument(help="their phone (any writing) or their directory id")],
) -> None:
    """Take a member's hotline PIN away (the hotline then reads them no instructions)."""
    out = run(PinService(open_database()).clear(person, Actor.cli()))
    typer.echo(f"{out['name']} (id {out['person_id']}): no hotline PIN")


@retention_app.command("apply")
def retention_apply(dry_run: DryRunOpt = False, as_json: JsonOpt = False) -> None:
    """Remove what the retention settings say is due: recordings older than WARROOM_PRIVACY__RECORDINGS_DAYS,
    and, WARROOM_PRIVACY__PHONES_DAYS after WARROOM_PRIVACY__ELECTION_DATE, phones in call records (the last
    four digits stay) and Asterisk's CDR records. The running service does this once a day."""
    result = run(privacy().apply_retention(dry_run=dry_run, actor=Actor.cli()))
    _show("would remove (dry run, nothing changed):" if dry_run else "removed:", result, as_json)
