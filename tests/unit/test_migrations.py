"""Migrations build the schema on an empty SQLite and an empty PostgreSQL database, and match the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from db import migrate
from db.schema import metadata


def test_upgrade_from_empty_matches_models(db_engine: Engine) -> None:
    assert migrate.current(db_engine) == migrate.head()
    tables = set(inspect(db_engine).get_table_names())
    assert {"units", "committees", "people", "memberships", "candidates", "elections", "booth_results",
            "change_feed", "campaigns", "campaign_targets", "attempts"} <= tables
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    migrate.upgrade(db_engine)  # idempotent
    assert migrate.current(db_engine) == migrate.head()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    from db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
