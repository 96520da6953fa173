"""core.tasks: a loop's wait between passes never loses the cancellation that stops it."""

from __future__ import annotations

import asyncio

from core.tasks import wait_event


async def test_the_wait_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True


async def test_a_cancel_that_comes_as_the_event_is_set_stops_the_loop() -> None:
    """On Python 3.11 ``asyncio.wait_for(event.wait(), t)`` returns normally here, the loop waits again,
    and the component's stop() (cancel, then wait for the task) never returns: a unit test hung so."""
    event = asyncio.Event()
    passes = 0

    async def loop() -> None:
        nonlocal passes
        while True:
            await wait_event(event, 10)
            event.clear()
            passes += 1

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)  # waiting
    event.set()
    task.cancel()  # stop() arrives in the same moment
    done, _ = await asyncio.wait({task}, timeout=2)
    if not done:
        task.cancel()
    assert done and task.cancelled(), "the cancellation was lost: the loop is still running"
    assert passes == 0
