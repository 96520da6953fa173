"""``warroom users ...``: who may sign in to the consoles, with which role."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from accounts.service import UserService, new_password
from audit.log import Actor
from warroom.cli_db import open_database
from warroom.cli_errors import run

users_app = typer.Typer(help="Users of the consoles: admin, supervisor, operator.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
GenerateOpt = Annotated[bool, typer.Option("--generate-password", help="make a strong password and print it once")]


def users() -> UserService:
    return UserService(open_database())


def _password(generate: bool) -> str:
    if generate:
        return new_password()
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="lower-case letters, digits, . _ -")],
    role: Annotated[str, typer.Option(help="admin, supervisor or operator")],
    name: Annotated[str | None, typer.Option(help="the name shown on screens")] = None,
    lang: Annotated[str, typer.Option(help="interface language: en or hi")] = "en",
    generate_password: GenerateOpt = False,
) -> None:
    """Add a user (asks for the password unless --generate-password)."""
    password = _password(generate_password)
    user = run(users().add(username, role, password, name, lang, Actor.cli()))
    typer.echo(f"user {user['username']} ({user['role']}) added")
    if generate_password:
        typer.echo(f"password: {password}")


@users_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Every user with role and state (never passwords)."""
    rows = run(users().list())
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no users yet: `warroom users add NAME --role admin`")
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        typer.echo(f"{r['username']:<20} {r['role']:<11} {state:<9} {r['name']}")


@users_app.command("disable")
def disable(username: str) -> None:
    """Disable a user: their sessions end at once."""
    run(users().disable(username, Actor.cli()))
    typer.echo(f"user {username} disabled")


@users_app.command("enable")
def enable(username: str) -> None:
    """Enable a disabled user again."""
    run(users().enable(username, Actor.cli()))
    typer.echo(f"user {username} enabled")


@users_app.command("set-password")
def set_password_cmd(username: str, generate_password: GenerateOpt = False) -> None:
    """A new password (their sessions end, their softphone gets a new secret)."""
    password = _password(generate_password)
    run(users().set_password(username, password, Actor.cli()))
    typer.echo(f"password of {username} changed" + (f": {password}" if generate_password else ""))
    typer.echo("their sessions ended and their softphone has a new secret (shown on their console)")


@users_app.command("new-sip-secret")
def new_sip_secret(username: str) -> None:
    """A new softphone secret for the user (the running service applies it within seconds; the old one
    stops working; the user reads the new one on their console)."""
    run(users().rotate_sip_secret(username, Actor.cli()))
    typer.echo(f"softphone op-{username}: new secret (shown on their console)")


@users_app.command("home")
def home(username: str, node: Annotated[str, typer.Argument(help="a node's name, or 'none'")]) -> None:
    """The node an operator's softphone registers to (with several nodes; progressive calls for them are
    dialed there, and callers on other nodes reach them over the trunk between nodes)."""
    run(users().set_home(username, None if node == "none" else node))
    typer.echo(f"{username}'s softphone registers to " + ("any node" if node == "none" else f"node {node}"))
