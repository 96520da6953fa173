"""The whole web app over a SQLite file and fakes of the live parts (no Asterisk): what the web unit
tests and the API fuzzing sign in to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.ratelimit import SignInLimiter
from accounts.service import add_user
from dashboard.feed import DashboardFeed
from dashboard.figures import stored_figures
from dashboard.tickets import BoardFilter, ticket_row, tickets_board
from db import migrate
from db.engine import in_thread, make_engine
from db.users import Role
from dialer.rules import CallingRules
from events.bus import EventBus
from operators.listen import SpyMode
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from web.api_campaigns import campaigns_router
from web.app import TEMPLATES, ComponentHealth, create_app
from web.auth import Auth, AuthConfig
from web.console import console_router
from web.console_feed import ConsoleFeed
from web.dashboard import dashboard_router
from web.metrics import metrics_router
from web.pages import pages_router
from web.reports import reports_router

PASSWORDS = {"adm": "Admin-pass-01", "sup": "Super-pass-02", "op": "Operator-pass-03"}
TZ = "Asia/Kolkata"
METRICS_TOKEN = "metrics-token-for-tests"


def fake_live() -> dict[str, Any]:
    """What ``Service.live`` returns, with a call or two in it."""
    return {"lines": {"lines": {"lines": 10, "in_use": 3, "outbound": 2, "inbound": 1, "reserved_inbound": 0}},
            "dialing": 1, "ringing": 1, "answered": 1, "attempts_last_minute": 4, "ended": 10, "answer_rate": 0.6,
            "dispositions": {"answered": 6, "busy": 4}, "max_line_delay": 0.01,
            "queue": {"waiting": 1, "longest_wait": 12.5, "calls": []}, "ivr_calls": 2, "with_operators": 1,
            "links": {"ami": True, "ari": True},
            "progressive": {"answered": 4, "connected": 3, "abandoned": 1, "abandon_rate": 0.25}}


async def _health() -> dict[str, ComponentHealth]:
    return {"db": ComponentHealth(up=True, detail="ok")}


@dataclass
class WebApp:
    app: FastAPI
    auth: Auth
    sessions: sessionmaker[Session]
    engine: Engine
    bus: EventBus
    feed: DashboardFeed
    listened: list[tuple[int, int, str]] = field(default_factory=list)


def build_web_app(tmp_path: Path, live: Callable[[], dict[str, Any]] = fake_live, target_minutes: int = 60,
                  url: str | None = None) -> WebApp:
    engine = make_engine(url or f"sqlite:///{tmp_path / 'web.db'}")
    migrate.upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as s:
        for name, role in (("adm", "admin"), ("sup", "supervisor"), ("op", "operator")):
            add_user(s, name, role, PASSWORDS[name])
    templates = Jinja2Templates(directory=str(TEMPLATES))
    auth = Auth(sessions, templates, AuthConfig(machine_tokens=(("/metrics", METRICS_TOKEN),)),
                limiter=SignInLimiter(attempts=3, window=60))
    staff = auth.require(Role.admin, Role.supervisor)
    bus = EventBus()
    feed = DashboardFeed(bus, live, board=lambda: in_thread(sessions, stored_figures, TZ),
                         tickets=lambda: in_thread(sessions, tickets_board, BoardFilter(), target_minutes),
                         ticket=lambda tid: in_thread(sessions, ticket_row, tid, target_minutes), every=0.2).start()
    web = WebApp(FastAPI(), auth, sessions, engine, bus, feed)

    async def registered(endpoint: str) -> bool:
        return endpoint == "op-op"

    async def listen(supervisor: int, operator: int, mode: SpyMode) -> str:
        if operator != 3:
            raise ValueError(f"operator {operator} is not on a call")
        web.listened.append((supervisor, operator, mode))
        return "spy-1"

    web.app = create_app(_health, auth=auth, routers=[
        pages_router(auth, templates),
        console_router(auth, templates, sessions, ConsoleFeed(bus).start(), registered, ("127.0.0.1", 5060),
                       publish=bus.publish),
        campaigns_router(sessions, CallingRules(), live, guard=staff),
        dashboard_router(auth, templates, sessions, feed, timezone=TZ, target_minutes=target_minutes,
                         publish=bus.publish, listen=listen),
        metrics_router(auth, live, feed.board),
        reports_router(sessions, timezone=TZ, shifts=parse_shifts(DEFAULT_SHIFTS), guard=staff)])
    return web
