"""The service's own web app (as ``warroom serve`` builds it) over a test harness, served by uvicorn on a
free port for a real browser."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import uvicorn

from tests.integration.dialer_harness import Harness
from tests.waiting import until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve_dashboard(h: Harness) -> tuple[str, Callable[[], Awaitable[None]]]:
    """Serve the harness's service app; returns its base URL and a coroutine function that stops it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(h.service.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 10, "the web server")

    async def stop() -> None:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)

    return f"http://127.0.0.1:{port}", stop
