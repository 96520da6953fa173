"""Short writes a caller waits on, gathered into shared transactions (group commit).

Every request that comes while one transaction is being written goes into the next, and that one runs them
all, in the order they came. SQLite has one writer and a commit costs about the same for one row as for fifty,
so when 500 calls start within two seconds their 500 rows are a handful of transactions, and a key pressed
meanwhile is stored after a short wait rather than behind hundreds of others. The first request after a
quiet moment starts at once: gathering adds no delay when there is no queue.

A batch that fails is run again one request at a time, so a bad request fails alone (the functions must touch
nothing but the database: they may run twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Write = Callable[[Session], Any]
Runner = Callable[..., Awaitable[Any]]  # (fn, *args) -> fn(session, *args)'s result, in one transaction


class Gathered:
    """Group commit over ``run`` (one transaction per call of ``run``): at most ``lanes`` transactions in
    flight (each waits for SQLite's writer in its thread, so the next starts as soon as the writer is free,
    without a trip through the event loop), at most ``max_batch`` writes in each."""

    def __init__(self, run: Runner, max_batch: int = 100, lanes: int = 2) -> None:
        self._run, self.max_batch, self.lanes = run, max_batch, lanes
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._drainers: set[asyncio.Task[None]] = set()
        self.batches = 0  # transactions written (a figure for tests and benchmarks)

    async def write(self, fn: Write) -> Any:
        """``fn(session)``'s result, once the transaction it went into is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((fn, future))
        self._drainers = {t for t in self._drainers if not t.done() and t.get_loop() is loop}
        if len(self._drainers) < self.lanes:
            self._drainers.add(loop.create_task(self._drain(), name="gathered writes"))
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Write, asyncio.Future[Any]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                batch = [(fn, f) for fn, f in batch if not f.done()]  # a waiter cancelled: its write is not made
                if batch:
                    await self._write(batch)
                batch = []
        finally:  # cancelled (the service stops): nobody waits for ever
            me = asyncio.current_task()
            others = [t for t in self._drainers if t is not me and not t.done()]
            for _fn, future in batch + ([] if others else self._pending):
                if not future.done():
                    future.cancel()
            if not others:
                self._pending = []

    async def _write(self, batch: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        if len(batch) > 1:
            try:
                results = await self._run(_all, [fn for fn, _f in batch])
            except Exception as exc:
                log.warning("%d gathered writes failed together (%s); writing them one at a time", len(batch),
                            str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__)
            else:
                for (_fn, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                return
        for fn, future in batch:
            try:
                result = await self._run(fn)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)


def _all(session: Session, fns: list[Write]) -> list[Any]:
    return [fn(session) for fn in fns]
