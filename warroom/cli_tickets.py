"""``warroom tickets ...`` and ``warroom instructions ...``: problems from the booths, and what
headquarters tells them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import select

from db.ivr import IvrRecording
from db.models import Unit
from db.tickets import CATEGORIES, Instruction
from dialer.campaigns import CampaignError, resolve_units
from hotline.lookup import add_instruction
from tickets.service import TicketError, assign, get_ticket, list_tickets, resolve, summary
from warroom.cli_db import sessions
from warroom.compose import ivr_paths
from warroom.settings import load_settings

tickets_app = typer.Typer(help="Problems reported from the booths (hotline voice notes, operators).",
                          no_args_is_help=True)
instructions_app = typer.Typer(help="Instructions from headquarters, read to booth workers on the hotline.",
                               no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _ac_id(ac: int | None) -> int | None:
    if ac is None:
        return None
    with sessions()() as s:
        try:
            return resolve_units(s, [f"ac:{ac}"])[0]
        except CampaignError as exc:
            _fail(str(exc))
    return None


@tickets_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="open / assigned / resolved")] = None,
    ac: Annotated[int | None, typer.Option(help="assembly constituency number")] = None,
    category: Annotated[str | None, typer.Option(help=f"one of {', '.join(CATEGORIES)}")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tickets, newest first."""
    if status and status not in ("open", "assigned", "resolved"):
        _fail(f"status '{status}': one of open, assigned, resolved")
    if category and category not in CATEGORIES:
        _fail(f"category '{category}': one of {', '.join(CATEGORIES)}")
    ac_id = _ac_id(ac)
    with sessions()() as s:
        rows = [summary(t, s.get(Unit, t.booth_id) if t.booth_id else None)
                for t in list_tickets(s, status=status, ac_id=ac_id, category=category)]
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
    paths = ivr_paths(load_settings())
    try:
        with sessions()() as s:
            t = get_ticket(s, ticket)
            out = summary(t, s.get(Unit, t.booth_id) if t.booth_id else None)
            rec = s.get(IvrRecording, t.recording_id) if t.recording_id else None
            out["voice_note"] = ({"file": str(paths.recordings / rec.filename), "seconds": rec.duration}
                                 if rec else None)
    except TicketError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    for key, value in out.items():
        if value is not None:
            typer.echo(f"{key}: {value}")


@tickets_app.command("assign")
def assign_cmd(ticket: int, to: Annotated[str, typer.Argument(help="who works on it")]) -> None:
    """Give a ticket to someone."""
    try:
        with sessions().begin() as s:
            t = assign(s, ticket, to)
            typer.echo(f"ticket #{t.id} assigned to {t.assigned_to}")
    except TicketError as exc:
        _fail(str(exc))


@tickets_app.command("resolve")
def resolve_cmd(ticket: int, note: Annotated[str, typer.Option(help="how it was resolved")]) -> None:
    """Close a ticket, saying how."""
    try:
        with sessions().begin() as s:
            t = resolve(s, ticket, note)
            typer.echo(f"ticket #{t.id} resolved")
    except TicketError as exc:
        _fail(str(exc))


@instructions_app.command("add")
def add(
    text: Annotated[str, typer.Argument(help="what booth workers should hear")],
    unit: Annotated[str | None, typer.Option(help="for booths under this unit (ac:152, booth:152:45...); "
                                                  "all booths if left out")] = None,
    lang: Annotated[str, typer.Option(help="the language the text is in (hi / en)")] = "hi",
    by: Annotated[str | None, typer.Option(help="who gave it")] = None,
) -> None:
    """Add an instruction; the hotline reads each booth the newest that covers it."""
    try:
        with sessions().begin() as s:
            unit_id = resolve_units(s, [unit])[0] if unit else None
            row = add_instruction(s, text, unit_id=unit_id, language=lang, by=by)
            typer.echo(f"instruction {row.id} added for {unit or 'all booths'}")
    except (CampaignError, ValueError) as exc:
        _fail(str(exc))


@instructions_app.command("list")
def list_instructions(as_json: JsonOpt = False) -> None:
    """Instructions, newest first."""
    with sessions()() as s:
        keys: dict[int | None, str] = {uid: key for uid, key in s.execute(
            select(Unit.id, Unit.key).join(Instruction, Instruction.unit_id == Unit.id))}
        rows: list[dict[str, Any]] = [{"id": i.id, "unit": keys.get(i.unit_id), "language": i.language,
                                       "text": i.text, "by": i.created_by, "at": i.created_at.isoformat()}
                for i in s.scalars(select(Instruction).order_by(Instruction.created_at.desc()).limit(100))]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['id']:>4} {r['at'][:16]} {r['unit'] or 'all':<16} {r['language']}  {r['text']}")
