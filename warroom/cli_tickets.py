"""``warroom tickets ...`` and ``warroom instructions ...``: problems from the booths, and what
headquarters tells them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from audit.log import Actor
from db.tickets import CATEGORIES
from hotline.service import InstructionService
from tickets.service import TicketService
from warroom.cli_db import open_database
from warroom.cli_errors import run
from warroom.compose import ivr_paths
from warroom.settings import load_settings

tickets_app = typer.Typer(help="Problems reported from the booths (hotline voice notes, operators).",
                          no_args_is_help=True)
instructions_app = typer.Typer(help="Instructions from headquarters, read to booth workers on the hotline.",
                               no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def tickets() -> TicketService:
    """Tickets over the configured database (voice notes where the settings say recordings are)."""
    return TicketService(open_database(), recordings_dir=ivr_paths(load_settings()).recordings)


@tickets_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="open / assigned / resolved")] = None,
    ac: Annotated[int | None, typer.Option(help="assembly constituency number")] = None,
    category: Annotated[str | None, typer.Option(help=f"one of {', '.join(CATEGORIES)}")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tickets, newest first."""
    rows = run(tickets().list(status=status, ac=ac, category=category))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no tickets")
    for r in rows:
        booth = f"booth {r['booth_number']} {r['booth']}" if r["booth"] else "no booth"
        typer.echo(f"#{r['id']:<5} {r['status']:<9} {r['category']:<18} {booth:<30} {r['created_at'][:16]}"
                   + (f"  -> {r['assigned_to']}" if r["assigned_to"] else ""))


@tickets_app.command("show")
def show(ticket: int, as_json: JsonOpt = False) -> None:
    """One ticket, with the file of its voice note."""
    out = run(tickets().get(ticket))
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    for key, value in out.items():
        if value is not None:
            typer.echo(f"{key}: {value}")


@tickets_app.command("assign")
def assign_cmd(ticket: int, to: Annotated[str, typer.Argument(help="the user name of who works on it")]) -> None:
    """Give a ticket to a user (by user name)."""
    out = run(tickets().assign(ticket, to, Actor.cli()))
    typer.echo(f"ticket #{out['id']} assigned to {out['assigned_to']}")


@tickets_app.command("resolve")
def resolve_cmd(ticket: int, note: Annotated[str, typer.Option(help="how it was resolved")]) -> None:
    """Close a ticket, saying how."""
    out = run(tickets().resolve(ticket, note, actor=Actor.cli()))
    typer.echo(f"ticket #{out['id']} resolved")


@instructions_app.command("add")
def add(
    text: Annotated[str, typer.Argument(help="what booth workers should hear")],
    unit: Annotated[str | None, typer.Option(help="for booths under this unit (ac:152, booth:152:45...); "
                                                  "all booths if left out")] = None,
    lang: Annotated[str, typer.Option(help="the language the text is in (hi / en)")] = "hi",
    by: Annotated[str | None, typer.Option(help="who gave it")] = None,
) -> None:
    """Add an instruction; the hotline reads each booth the newest that covers it."""
    row = run(InstructionService(open_database()).add(text, unit=unit, language=lang, by=by,
                                                              actor=Actor.cli()))
    typer.echo(f"instruction {row['id']} added for {unit or 'all booths'}")


@instructions_app.command("list")
def list_instructions(as_json: JsonOpt = False) -> None:
    """Instructions, newest first."""
    rows = run(InstructionService(open_database()).list())
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        retired = f" (retired {r['retired_at'][:10]})" if r.get("retired_at") else ""
        typer.echo(f"{r['id']:>4} {r['at'][:16]} {r['unit'] or 'all':<16} {r['language']}  {r['text']}{retired}")


@instructions_app.command("retire")
def retire(instruction: Annotated[int, typer.Argument(help="the instruction's number (see `list`)")]) -> None:
    """Stop reading an instruction on the hotline (it is kept; the next newest is read instead)."""
    row = run(InstructionService(open_database()).retire(instruction, Actor.cli()))
    typer.echo(f"instruction {row['id']} retired")
