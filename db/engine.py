"""Engine creation: SQLite gets WAL mode, foreign keys and a busy timeout; PostgreSQL is used as is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer ``SELECT 1``."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def transaction(sessions: sessionmaker[Session], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in one transaction (committed when it returns)."""
    with sessions.begin() as session:
        return fn(session, *args, **kwargs)


async def in_thread(sessions: sessionmaker[Session], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """:func:`transaction` in a worker thread, so the event loop never waits on the database."""
    return await asyncio.to_thread(transaction, sessions, fn, *args, **kwargs)
