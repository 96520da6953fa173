"""Apply Alembic migrations programmatically (``warroom db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


class NewerDatabase(RuntimeError):
    """The database was migrated by a newer warroom than this one: this code must not touch it."""


def known(revision: str) -> bool:
    """Whether this code knows the schema revision (an older or the newest one of its own)."""
    try:
        return ScriptDirectory.from_config(alembic_config_no_engine()).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for revisions it cannot find
        return False


def refuse_newer(engine: Engine) -> str | None:
    """The database's revision; :class:`NewerDatabase` when this code does not know it (the code is older
    than the database: upgrading or running it could damage the data)."""
    revision = current(engine)
    if revision is not None and not known(revision):
        raise NewerDatabase(f"the database is at schema revision '{revision}', which this version of warroom does "
                            f"not know (its newest is '{head()}'): it was upgraded by a newer warroom. Install "
                            "that version (or a newer one); do not run this one against it.")
    return revision


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest); refuses a database newer than
    this code (:class:`NewerDatabase`)."""
    refuse_newer(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config_no_engine()).get_current_head()


def alembic_config_no_engine() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg
