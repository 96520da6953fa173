"""Writes a caller waits on, gathered into shared transactions (db.gather) on a real SQLite database: those
that come while one is written go into the next transaction together, a bad one fails alone, nothing is
written twice or lost, and a cancelled waiter's write is not made."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.engine import Database
from db.gather import Gathered


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database.connect(f"sqlite:///{tmp_path / 'g.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE rows (n INTEGER PRIMARY KEY)"))
    yield database
    database.close()


def insert(session: Session, n: int) -> int:
    session.execute(text("INSERT INTO rows (n) VALUES (:n)"), {"n": n})
    return n * 10


async def turns(n: int = 5) -> None:
    """Let the tasks just made run their first steps."""
    for _ in range(n):
        await asyncio.sleep(0)


def stored(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT n FROM rows ORDER BY n"))]


async def test_writes_that_come_meanwhile_share_one_transaction(db: Database) -> None:
    gate = threading.Event()

    def first(session: Session) -> int:
        gate.wait(5)  # the first write is in its transaction while the others come
        return insert(session, 0)

    first_write = asyncio.ensure_future(db.run_for_caller(first))
    await asyncio.sleep(0.05)
    rest = [asyncio.ensure_future(db.run_for_caller(insert, n)) for n in range(1, 51)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await first_write == 0
    assert await asyncio.gather(*rest) == [n * 10 for n in range(1, 51)]  # each its own result, in order
    assert stored(db) == list(range(51))
    assert db._gathered.batches == 2  # the first alone, then the fifty that came meanwhile, together


async def test_a_bad_write_fails_alone_and_the_others_are_stored_once(db: Database) -> None:
    await db.run_for_caller(insert, 7)
    gate = threading.Event()

    def slow(session: Session) -> int:
        gate.wait(5)
        return insert(session, 1)

    head = asyncio.ensure_future(db.run_for_caller(slow))
    await asyncio.sleep(0.05)
    writes = [asyncio.ensure_future(db.run_for_caller(insert, n)) for n in (2, 7, 3)]  # 7 is there already
    await asyncio.sleep(0.05)
    gate.set()
    await head
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert results[0] == 20 and results[2] == 30
    assert isinstance(results[1], IntegrityError)
    assert stored(db) == [1, 2, 3, 7]


async def test_a_cancelled_waiters_write_is_not_made(db: Database) -> None:
    gate = threading.Event()

    def slow(session: Session, n: int) -> int:
        gate.wait(5)
        return insert(session, n)

    heads = []
    for n in (1, 4):  # one after the other: both lanes busy
        heads.append(asyncio.ensure_future(db.run_for_caller(slow, n)))
        await asyncio.sleep(0.05)
    assert len(db._gathered._drainers) == 2
    dropped = asyncio.ensure_future(db.run_for_caller(insert, 2))
    kept = asyncio.ensure_future(db.run_for_caller(insert, 3))
    await asyncio.sleep(0.01)
    dropped.cancel()
    gate.set()
    await asyncio.gather(*heads)
    assert await kept == 30
    assert stored(db) == [1, 3, 4]


async def test_stopping_the_gathering_fails_no_waiter_silently() -> None:
    started = asyncio.Event()

    async def never(fn: Any, *args: Any) -> Any:
        started.set()
        await asyncio.sleep(3600)

    gathered = Gathered(never, lanes=2)
    waiters = [asyncio.ensure_future(gathered.write(lambda s: None)) for _ in range(5)]
    await started.wait()
    await asyncio.sleep(0.01)
    assert len(gathered._drainers) == 2
    for drainer in gathered._drainers:
        drainer.cancel()
    done = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in done)


async def test_batches_are_at_most_max_batch() -> None:
    sizes: list[int] = []
    release = asyncio.Event()

    async def run(fn: Any, *args: Any) -> Any:
        if args:  # several at once: fn is the list runner
            sizes.append(len(args[0]))
            return [None] * len(args[0])
        sizes.append(1)
        await release.wait()
        return None

    gathered = Gathered(run, max_batch=4, lanes=1)
    first = asyncio.ensure_future(gathered.write(lambda s: None))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(gathered.write(lambda s: None)) for _ in range(10)]
    release.set()
    await asyncio.gather(first, *rest)
    assert sizes == [1, 4, 4, 2]


async def test_a_second_lane_takes_what_comes_while_the_first_is_written() -> None:
    sizes: list[int] = []
    release = asyncio.Event()

    async def run(fn: Any, *args: Any) -> Any:
        sizes.append(len(args[0]) if args else 1)
        await release.wait()
        return [None] * len(args[0]) if args else None

    gathered = Gathered(run, lanes=2)
    first = asyncio.ensure_future(gathered.write(lambda s: None))
    await turns()
    rest = [asyncio.ensure_future(gathered.write(lambda s: None)) for _ in range(6)]
    await turns()
    assert sizes == [1, 6]  # the second lane did not wait for the first transaction
    more = [asyncio.ensure_future(gathered.write(lambda s: None)) for _ in range(3)]
    await turns()
    assert sizes == [1, 6] and len(gathered._drainers) == 2  # both lanes busy: these gather
    release.set()
    await asyncio.gather(first, *rest, *more)
    assert sizes == [1, 6, 3]  # the lane that freed first took them
