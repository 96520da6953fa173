"""``warroom db ...``: the database schema."""

from __future__ import annotations

import typer
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.engine import make_engine
from warroom.settings import load_settings

db_app = typer.Typer(help="The database (SQLite by default; WARROOM_DATABASE_URL for PostgreSQL).",
                     no_args_is_help=True)


def sessions() -> sessionmaker[Session]:
    """Sessions on the configured database, its schema brought up to date first (for CLI commands)."""
    engine = make_engine(load_settings().resolved_database_url())
    migrate.upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply the migrations (creates the database if it does not exist)."""
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url())
    before = migrate.current(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current(engine)
    where = engine.url.render_as_string(hide_password=True)
    typer.echo(f"{where}: {before or 'empty'} -> {after}" if before != after else f"{where}: already at {after}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one available."""
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url())
    typer.echo(f"current: {migrate.current(engine) or 'empty'}; newest: {migrate.head()}")
