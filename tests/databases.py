"""Migrated SQLite databases for tests, fast: the migrations run once per test process into a template file,
and each test gets a copy of it (the migrations themselves are tested in ``tests/unit/test_migrations.py``)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Engine

from db import migrate
from db.engine import make_engine


@functools.cache
def _template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="warroom-test-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:  # everything in the main file, none left in the write-ahead log
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def migrated_sqlite(path: Path) -> Engine:
    """An engine on a new SQLite database at ``path`` already at the newest schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_template(), path)
    return make_engine(f"sqlite:///{path}")
