"""Large imports a batch at a time: the directory's and the outreach lists' (millions of rows, never all in
memory, a transaction per batch)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import TypeVar

from sqlalchemy.orm import Session

Row = TypeVar("Row")


def in_batches(session: Session, rows: Iterable[Row], size: int, dry_run: bool,
               handle: Callable[[list[Row]], None], progress: Callable[[int], None] | None,
               done: Callable[[], None]) -> None:
    """Hand ``rows`` to ``handle`` ``size`` at a time, a transaction per batch (never committed in a dry run:
    rolled back at the end); ``done`` runs in the last batch's transaction, not in a dry run; ``progress``
    hears each batch's size. An import of millions of rows never holds more than a batch."""
    iterator = iter(rows)
    batch = list(islice(iterator, size))
    while True:
        if batch:
            handle(batch)
        following = list(islice(iterator, size))
        if not following and not dry_run:
            done()
        if not dry_run:
            session.commit()
        if progress and batch:
            progress(len(batch))
        if not following:
            break
        batch = following
    if dry_run:
        session.rollback()

