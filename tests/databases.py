"""Migrated databases for tests, fast: the migrations run once per test process into a template, and each
test gets a copy of it (the migrations themselves are tested in ``tests/unit/test_migrations.py``).

SQLite: a template file, copied. PostgreSQL: a template database, cloned with ``CREATE DATABASE ... TEMPLATE``
(about 0.1 s, where migrating a fresh schema takes over a second).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from db import migrate
from db.engine import make_engine

PG_URL = os.environ.get("WARROOM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


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


@functools.cache
def _admin() -> Engine:
    """This test process's engine on the test PostgreSQL outside any transaction (CREATE/DROP DATABASE need
    that); the test fails, saying so, when PostgreSQL is down."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable ({exc.orig}); scripts/test.sh starts one",
                    pytrace=False)
    return admin


def _url(database: str) -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    return True


@functools.cache
def _pg_template() -> str:
    """This test process's migrated template database (dropped when the process ends). Databases left by
    test processes that were killed (their pid in the name) are dropped first."""
    name = f"warroom_tmpl_{os.getpid()}"
    admin = _admin()
    with admin.connect() as conn:
        left = conn.execute(text("SELECT datname FROM pg_database WHERE datname ~ '^(warroom_tmpl|t)_[0-9]+(_|$)'"))
        for (db,) in left.all():
            pid = int(db.split("_")[2] if db.startswith("warroom_tmpl_") else db.split("_")[1])
            if pid == os.getpid() or not _alive(pid):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_url(name))
    migrate.upgrade(engine)
    engine.dispose()  # a template cannot be copied while anyone is connected to it

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return name


@contextmanager
def migrated_postgres() -> Iterator[Engine]:
    """An engine on a new PostgreSQL database already at the newest schema, dropped afterwards."""
    template = _pg_template()
    name = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    engine = make_engine(_url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
