"""The supervisors' web app over a test harness (the same routers and feed the service wires), served by
uvicorn on a free port for a real browser."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from fastapi.templating import Jinja2Templates

from dashboard.feed import DashboardFeed
from dashboard.figures import stored_figures
from dashboard.live import live_figures
from dashboard.tickets import BoardFilter, ticket_row, tickets_board
from db.engine import in_thread
from db.users import Role
from events.types import CampaignChanged
from tests.integration.dialer_harness import Harness
from tests.integration.ivr_harness import wait_for
from web.api_campaigns import campaigns_router
from web.app import TEMPLATES, ComponentHealth, create_app
from web.auth import Auth
from web.dashboard import dashboard_router
from web.pages import pages_router

TZ = "Asia/Kolkata"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def harness_live(h: Harness) -> Callable[[], dict[str, Any]]:
    """What ``Service.live`` returns, from the harness's parts."""
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
    templates = Jinja2Templates(directory=str(TEMPLATES))
    auth = Auth(h.sessions, templates)
    feed = DashboardFeed(h.bus, harness_live(h), board=lambda: in_thread(h.sessions, stored_figures, TZ),
                         tickets=lambda: in_thread(h.sessions, tickets_board, BoardFilter(), target_minutes),
                         ticket=lambda tid: in_thread(h.sessions, ticket_row, tid, target_minutes)).start()

    def changed(campaign_id: int, state: str) -> None:
        h.bus.publish(CampaignChanged(campaign_id, state))
        h.dialer.wake()

    app = create_app(_health, auth=auth, routers=[
        pages_router(auth, templates),
        campaigns_router(h.sessions, h.dialer.config.rules, harness_live(h),
                         guard=auth.require(Role.admin, Role.supervisor), publish=changed),
        dashboard_router(auth, templates, h.sessions, feed, timezone=TZ, target_minutes=target_minutes,
                         publish=h.bus.publish)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started, 10, "the web server")

    async def stop() -> None:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)

    return f"http://127.0.0.1:{port}", stop
