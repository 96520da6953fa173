"""The database: engine creation (SQLite gets WAL mode, foreign keys and a busy timeout; PostgreSQL a
pre-ping pool) and :class:`Database`, the one way to run database work, on or off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.gather import Gathered

T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
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


def private_file(path: Path) -> None:
    """The SQLite file readable by its owner only (0600) from the start; its WAL and shared-memory files
    are created by SQLite with the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for name in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        if name.exists() and name.stat().st_mode & 0o077:
            os.chmod(name, 0o600)


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer ``SELECT 1``."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def transaction(sessions: sessionmaker[Session], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in one transaction (committed when it returns)."""
    with sessions.begin() as session:
        return fn(session, *args, **kwargs)


# what PostgreSQL and psycopg say when the server went away or is coming back
LOST_CONNECTION = ("terminating connection", "server closed the connection", "connection refused",
                   "connection is closed", "the database system is", "consuming input failed",
                   "connection timed out", "could not connect", "connection failed")


def lost_connection(exc: BaseException) -> bool:
    """True when ``exc`` says the connection to the database was lost (a server restart, a failover, a
    terminated backend, a refused connect while it comes back): the transaction did not happen and may
    be run again. Errors in the statement itself, and SQLite's (a local file), are never retried."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    said = str(exc.orig).lower()
    return any(m in said for m in LOST_CONNECTION)


class Priority(IntEnum):
    """Who goes first for SQLite's one writer: the dialer's claims for free lines, then the steps a caller
    waits on (an IVR answer, a PIN), then the rest."""

    CLAIM = 0
    CALLER = 1
    OTHER = 2


class Turns:
    """SQLite's writing transactions, one at a time, the most urgent first.

    SQLite has one writer: a writer that finds the lock taken sleeps in growing steps (up to 100 ms) and
    tries again, so under load most of a transaction's time is spent sleeping while the lock is free. Our
    transactions take turns here instead, from their first write (when the driver begins the transaction;
    reads before it run side by side, as WAL allows) to their end; one waiting goes before those of a
    lower :class:`Priority`. Re-entrant: a transaction may run another inline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._waiting = [0] * len(Priority)  # transactions waiting, by priority

    def acquire(self, priority: Priority = Priority.OTHER) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            self._waiting[priority] += 1
            try:
                self._cond.wait_for(lambda: self._owner is None and not any(self._waiting[:priority]))
            finally:
                self._waiting[priority] -= 1
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._cond:
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._cond.notify_all()

    @contextlib.contextmanager
    def turn(self, priority: Priority = Priority.OTHER) -> Iterator[None]:
        self.acquire(priority)
        try:
            yield
        finally:
            self.release()


class _Turn:
    """This thread's transaction: the turns it takes, its priority and whether it holds its turn."""

    def __init__(self, turns: Turns, priority: Priority) -> None:
        self.turns, self.priority, self.taken = turns, priority, False


_this_thread = threading.local()


def turns_of(engine: Engine) -> Turns:
    """The turns of an SQLite engine: one for every :class:`Database` on it (tests and the web app can
    build several on one engine), made with the engine's listener at first use."""
    turns: Turns | None = getattr(engine, "_warroom_turns", None)
    if turns is None:
        turns = Turns()
        engine._warroom_turns = turns  # type: ignore[attr-defined]  # the engine carries its own
        event.listen(engine, "before_cursor_execute", _before_execute)
    return turns


# the statements the driver begins a transaction for (sqlite3's implicit BEGIN): a read, even one that
# starts with WITH (our recursive unit-tree queries), runs beside the writer, as WAL allows
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _before_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
    """A statement of one of our transactions: its first write waits for the transaction's turn."""
    turn: _Turn | None = getattr(_this_thread, "turn", None)
    if turn is None or turn.taken or not statement.lstrip()[:7].upper().startswith(_WRITES):
        return
    turn.turns.acquire(turn.priority)
    turn.taken = True


class Database:
    """The service's database: the engine, its sessions and a bounded pool of worker threads of its own.

    ``run`` does one transaction off the event loop (the loop never waits on the database, and the
    database never waits behind other work in asyncio's default thread pool); ``transaction`` does it in
    the calling thread. A transaction whose connection was lost is run again, with a growing pause, for
    up to ``retry_seconds``: a PostgreSQL restart or failover costs a delay, not a lost step.
    """

    def __init__(self, engine: Engine, *, workers: int = 8, caller_workers: int = 2,
                 retry_seconds: float = 30.0) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.retry_seconds = retry_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
        self._urgent_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-urgent")
        self._caller_pool = ThreadPoolExecutor(max_workers=caller_workers, thread_name_prefix="db-caller")
        self._turns = turns_of(engine) if engine.url.get_backend_name() == "sqlite" else None
        self._gathered = Gathered(self._run_caller_transaction)

    @classmethod
    def connect(cls, url: str, **kwargs: Any) -> Database:
        """A database on ``url`` (see :func:`make_engine`)."""
        return cls(make_engine(url), **kwargs)

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def transaction(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(session, *args, **kwargs)`` in one transaction, committed when it returns; run again if the
        connection was lost (``fn`` must touch nothing but the database)."""
        return self._transaction(Priority.OTHER, fn, *args, **kwargs)

    def _transaction(self, priority: Priority, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        deadline = time.monotonic() + self.retry_seconds
        pause = 0.1
        while True:
            try:
                if self._turns is None:
                    return transaction(self.sessions, fn, *args, **kwargs)
                return self._in_turn(priority, fn, *args, **kwargs)
            except DBAPIError as exc:
                if not lost_connection(exc) or time.monotonic() + pause > deadline:
                    raise
                log.warning("database connection lost (%s); running %s again in %.1fs",
                            str(exc.orig or exc).strip().splitlines()[0][:120], getattr(fn, "__name__", fn), pause)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _in_turn(self, priority: Priority, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        assert self._turns is not None
        outer, turn = getattr(_this_thread, "turn", None), _Turn(self._turns, priority)
        _this_thread.turn = turn
        try:
            return transaction(self.sessions, fn, *args, **kwargs)
        finally:
            _this_thread.turn = outer
            if turn.taken:
                turn.turns.release()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`transaction` in the database's worker threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool,
                                          functools.partial(self._transaction, Priority.OTHER, fn, *args, **kwargs))

    async def run_urgent(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`run` ahead of the rest: in a thread of its own, and first in line for SQLite's one writer
        (the dialer's claims for free lines; keep these few and short)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._urgent_pool,
                                          functools.partial(self._transaction, Priority.CLAIM, fn, *args, **kwargs))

    async def run_for_caller(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`run` for a short write a caller is waiting on (an IVR answer stored, a PIN checked): in
        threads of its own, not queued behind background work, next after the dialer's claims for SQLite's
        one writer, and gathered with the others that come meanwhile into one transaction
        (:mod:`db.gather`; ``fn`` may run twice, so it must touch nothing but the database)."""
        result: T = await self._gathered.write(functools.partial(_call, fn, args, kwargs))
        return result

    async def _run_caller_transaction(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._caller_pool,
                                          functools.partial(self._transaction, Priority.CALLER, fn, *args))

    def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1``."""
        ping(self.engine)

    async def check(self) -> None:
        """:meth:`ping` in the database's threads, once (a health check reports, it does not retry)."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self.ping)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._urgent_pool.shutdown(wait=False, cancel_futures=True)
        self._caller_pool.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], session: Session) -> T:
    return fn(session, *args, **kwargs)
