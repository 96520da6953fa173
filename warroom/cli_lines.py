"""``warroom trunks ...`` (the phone lines as configured; passwords kept in the secrets file) and
``warroom bans ...`` (addresses banned from SIP)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from audit.log import Actor
from sipguard.service import BanService
from warroom.cli_db import open_database
from warroom.cli_errors import fail, run
from warroom.settings import load_settings, store_trunk_password

trunks_app = typer.Typer(help="The trunks (phone lines) the war room dials out on and takes calls from.",
                         no_args_is_help=True)
bans_app = typer.Typer(help="Addresses banned from SIP after failing to authenticate (a PJSIP ACL).",
                       no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@trunks_app.command("list")
def trunks_list(as_json: JsonOpt = False) -> None:
    """Each trunk as configured (passwords are never shown: only whether one is set)."""
    rows = []
    for t in load_settings().asterisk.trunks:
        rows.append({"name": t.name, "kind": t.kind, "lines": t.lines, "inbound_reserved": t.inbound_reserved,
                     "host": t.host, "port": t.port, "username": t.username, "password_set": t.password is not None,
                     "registers": t.registers, "dial_prefix": t.dial_prefix, "number_format": t.number_format,
                     "caller_id": t.caller_id, "codecs": t.codecs, "dids": t.dids,
                     "ports": [p.model_dump() for p in t.ports], "qualify_seconds": t.qualify})
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        auth = f"user {r['username']}, password {'set' if r['password_set'] else 'MISSING'}" if r["username"] else \
            "by address"
        typer.echo(f"{r['name']:<12} {r['kind']:<8} {r['lines']:>3} lines  {r['host']}:{r['port']}  {auth}  "
                   f"numbers {r['dial_prefix']}{r['number_format']}")


@trunks_app.command("set-password")
def trunks_set_password(name: Annotated[str, typer.Argument(help="the trunk's name")]) -> None:
    """Keep a trunk's password in the secrets file (0600), asked for without echo."""
    settings = load_settings()
    if name not in {t.name for t in settings.asterisk.trunks}:
        fail(f"no trunk '{name}' in the settings (WARROOM_ASTERISK__TRUNKS)")
    password = str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    if not password or any(c in password for c in ";\r\n"):
        fail("a password must not be empty nor hold ';' or a line break")
    path = store_trunk_password(settings.state_dir, name, password)
    typer.echo(f"password of trunk {name} kept in {path}; render the configuration again "
               "(`warroom asterisk render` or `warroom asterisk up`)")


def bans() -> BanService:
    return BanService(open_database())


@bans_app.command("list")
def bans_list(as_json: JsonOpt = False) -> None:
    """The bans in force."""
    rows = run(bans().list())
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no address is banned")
    for r in rows:
        typer.echo(f"{r['address']:<40} until {r['until']}  {r['reason']}")


@bans_app.command("add")
def bans_add(address: str, hours: Annotated[float, typer.Option(help="how long")] = 24.0,
             reason: Annotated[str, typer.Option(help="why")] = "banned by hand") -> None:
    """Ban an address by hand (the running service applies it within seconds)."""
    ban_id = run(bans().add(address, hours, reason, Actor.cli()))
    typer.echo(f"{address} banned (ban {ban_id})")


@bans_app.command("lift")
def bans_lift(address: str) -> None:
    """Lift the ban on an address (the running service applies it within seconds)."""
    run(bans().lift(address, Actor.cli()))
    typer.echo(f"{address} may connect again")
