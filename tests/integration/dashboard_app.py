"""The supervisors' web app over a test harness (the same routers and feed the service wires), served by
uvicorn on a free port for a real browser."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from accounts.service import UserService
from dashboard.live import live_figures
from db.engine import Database
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from tests.integration.dialer_harness import Harness
from tests.integration.ivr_harness import wait_for
from web.app import ComponentHealth, create_app
from web.auth import Auth
from web.services import web_services

TZ = "Asia/Kolkata"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def harness_live(h: Harness) -> Callable[[], dict[str, Any]]:
    """What ``Service.live_figures`` returns, from the harness's parts."""
    def live() -> dict[str, Any]:
        return live_figures(h.dialer.snapshot(),
                            h.ivr.queue.snapshot() if h.ivr else {"waiting": 0, "longest_wait": 0.0, "calls": []},
                            h.ivr.stats.live if h.ivr else 0,
                            len(h.dispatcher.connected_calls()) if h.dispatcher else 0,
                            {"ami": h.ami.up, "ari": h.ari.up}, h.progressive)
    return live


async def _health() -> dict[str, ComponentHealth]:
    return {}


async def serve_dashboard(h: Harness, target_minutes: int = 60) -> tuple[str, Callable[[], Awaitable[None]]]:
    """Start the app; returns its base URL and a coroutine function that stops it."""
    db = Database(h.sessions.kw["bind"])
    services = web_services(db, h.bus, live_figures=harness_live(h), timezone=TZ, target_minutes=target_minutes,
                            shifts=parse_shifts(DEFAULT_SHIFTS), defaults=h.dialer.config.rules, wake=h.dialer.wake)
    services.start()
    app = create_app(services, health=_health, auth=Auth(UserService(db)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started, 10, "the web server")

    async def stop() -> None:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        services.close()

    return f"http://127.0.0.1:{port}", stop
