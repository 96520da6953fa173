"""The Database object: one transaction per call, off the loop in its own threads, run again when the
connection was lost, never when the statement itself failed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db.engine import Database, lost_connection


class Lost(Exception):
    """Stands for the driver's error when the server terminated the connection."""


def _lost(message: str = "terminating connection due to administrator command") -> OperationalError:
    return OperationalError("SELECT 1", {}, Lost(message))


def test_lost_connection_is_told_from_other_errors() -> None:
    assert lost_connection(_lost())
    assert lost_connection(_lost("connection refused: is the server running?"))
    invalidated = OperationalError("SELECT 1", {}, Lost("anything"), connection_invalidated=True)
    assert lost_connection(invalidated)
    assert not lost_connection(OperationalError("SELECT 1", {}, Lost("database is locked")))
    assert not lost_connection(IntegrityError("INSERT", {}, Lost("UNIQUE constraint failed")))
    assert not lost_connection(ValueError("terminating connection"))


def test_a_transaction_whose_connection_was_lost_runs_again(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'x.db'}", retry_seconds=5)
    calls: list[int] = []

    def work(session: Session) -> int:
        calls.append(1)
        if len(calls) < 3:
            raise _lost()
        return int(session.execute(text("SELECT 41 + 1")).scalar_one())

    assert db.transaction(work) == 42
    assert len(calls) == 3
    db.close()


def test_other_errors_are_raised_at_once(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'x.db'}")
    calls: list[int] = []

    def work(session: Session) -> None:
        calls.append(1)
        raise OperationalError("SELECT", {}, Lost("no such table: nothing"))

    with pytest.raises(OperationalError):
        db.transaction(work)
    assert calls == [1]
    db.close()


def test_a_lost_connection_that_stays_lost_gives_up_after_the_retry_time(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'x.db'}", retry_seconds=0.5)
    calls: list[int] = []

    def work(session: Session) -> None:
        calls.append(1)
        raise _lost()

    with pytest.raises(OperationalError):
        db.transaction(work)
    assert 2 <= len(calls) <= 6
    db.close()


async def test_run_works_in_the_databases_own_threads(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'x.db'}", workers=2)

    def where(session: Session) -> str:
        session.execute(text("SELECT 1"))
        return threading.current_thread().name

    name = await db.run(where)
    assert name.startswith("db") and name != threading.current_thread().name
    db.close()
