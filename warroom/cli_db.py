"""``warroom db ...``: the database schema; and the database the other commands use."""

from __future__ import annotations

import click
import typer

from db import migrate
from db.engine import Database
from warroom.cli_errors import fail
from warroom.settings import load_settings

db_app = typer.Typer(help="The database (SQLite by default; WARROOM_DATABASE_URL for PostgreSQL).",
                     no_args_is_help=True)


def open_database() -> Database:
    """The configured database, its schema brought up to date first (refused when the database is newer
    than this code); closed when the command ends."""
    db = Database.connect(load_settings().resolved_database_url())
    try:
        migrate.upgrade(db.engine)
    except migrate.NewerDatabase as exc:
        db.close()
        fail(str(exc))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(db.close)
    return db


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply the migrations (creates the database if it does not exist). Refused, changing nothing, when the
    database was upgraded by a newer warroom than this one."""
    db = Database.connect(load_settings().resolved_database_url())
    before = migrate.current(db.engine)
    try:
        migrate.upgrade(db.engine, revision)
    except migrate.NewerDatabase as exc:
        db.close()
        fail(str(exc))
    after = migrate.current(db.engine)
    where = db.engine.url.render_as_string(hide_password=True)
    db.close()
    typer.echo(f"{where}: {before or 'empty'} -> {after}" if before != after else f"{where}: already at {after}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one available."""
    db = Database.connect(load_settings().resolved_database_url())
    typer.echo(f"current: {migrate.current(db.engine) or 'empty'}; newest: {migrate.head()}")
    db.close()
