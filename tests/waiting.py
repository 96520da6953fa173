"""The suite's one way to wait: until a condition holds, or fail saying what never happened."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def until(predicate: Callable[[], object], timeout: float, what: str = "the condition",
                alongside: asyncio.Future[Any] | None = None, every: float = 0.2) -> None:
    """Poll ``predicate`` (a plain or an async function) every ``every`` seconds; fail after ``timeout``,
    or at once if ``alongside`` (a running helper, such as a SIPp caller) has failed."""
    deadline = time.monotonic() + timeout
    while not await _holds(predicate):
        if alongside is not None and alongside.done() and alongside.exception() is not None:
            raise AssertionError(f"waiting for {what}, but the helper failed") from alongside.exception()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)


async def _holds(predicate: Callable[[], object]) -> bool:
    value = predicate()
    return bool(await value) if inspect.isawaitable(value) else bool(value)
