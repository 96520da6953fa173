"""The whole web app over a SQLite file and fakes of the live parts (no Asterisk): what the web unit
tests and the API fuzzing sign in to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.ratelimit import SignInLimiter
from accounts.service import UserService, add_user
from ari_handlers.dispatch import TransferError
from dashboard.feed import DashboardFeed
from db import migrate
from db.engine import Database, make_engine
from db.models import utcnow
from dialer.rules import CallingRules
from events.bus import EventBus
from ivr_scripts.library import ScriptLibrary
from operators.listen import ListenError, SpyMode
from operators.pacing_service import PacingService
from outreach.recordings import Messages
from outreach.service import OutreachConfig, OutreachService
from pollday.service import PollDayService
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from speech.prompts import PromptStore
from speech.synth import EspeakSynthesizer
from tests.databases import migrated_sqlite
from web.app import ComponentHealth, create_app
from web.auth import Auth, AuthConfig
from web.services import PagesConfig, PhoneServer, WebServices, web_services

PASSWORDS = {"adm": "Admin-pass-01", "sup": "Super-pass-02", "op": "Operator-pass-03"}
TZ = "Asia/Kolkata"
METRICS_TOKEN = "metrics-token-for-tests"


def fake_live() -> dict[str, Any]:
    """What ``Service.live_figures`` returns, with a call or two in it."""
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
    services: WebServices
    listened: list[tuple[int, int, str]] = field(default_factory=list)
    phones_changed: list[int] = field(default_factory=list)  # one entry per new browser phone secret


def build_web_app(tmp_path: Path, live: Callable[[], dict[str, Any]] = fake_live, target_minutes: int = 60,
                  url: str | None = None, stream_check: float = 15.0, limiter: SignInLimiter | None = None,
                  idle: timedelta | None = None) -> WebApp:
    if url:
        engine = make_engine(url)
        migrate.upgrade(engine)
    else:
        engine = migrated_sqlite(tmp_path / "web.db")
    db = Database(engine)
    with db.sessions.begin() as s:
        for name, role in (("adm", "admin"), ("sup", "supervisor"), ("op", "operator")):
            add_user(s, name, role, PASSWORDS[name])
    users = UserService(db, limiter=limiter or SignInLimiter(attempts=3, window=60, free=3))
    auth = Auth(users, AuthConfig(machine_tokens=(("/metrics", METRICS_TOKEN),), stream_check=stream_check,
                                  idle=idle))
    bus = EventBus()
    listened: list[tuple[int, int, str]] = []
    changed: list[int] = []

    async def registered(endpoint: str) -> bool:
        return endpoint == "op-op"

    async def transfer(operator: int, supervisor: int) -> str:
        raise TransferError("you are not on a connected call")

    async def listen(supervisor: int, operator: int, mode: SpyMode) -> str:
        if operator != 3:
            raise ListenError(f"operator {operator} is not on a call")
        listened.append((supervisor, operator, mode))
        return "spy-1"

    library = ScriptLibrary([tmp_path / "scripts"])
    prompts = PromptStore(EspeakSynthesizer(), tmp_path / "sounds", str(tmp_path / "sounds"))
    pages = PagesConfig(work_dir=tmp_path / "imports", library=library, make_prompt=prompts.made)
    outreach = OutreachService(
        db, OutreachConfig(tmp_path / "dnd.bin", CallingRules(), recordings_dir=tmp_path / "asterisk-recordings"),
        messages=Messages(tmp_path / "outreach" / "recordings", tmp_path / "outreach" / "names",
                          tmp_path / "outreach" / "cache", EspeakSynthesizer()))
    services = web_services(db, bus, live_figures=live, timezone=TZ, target_minutes=target_minutes,
                            shifts=parse_shifts(DEFAULT_SHIFTS), defaults=CallingRules(), registered=registered,
                            sip_server=("127.0.0.1", 5060), listen=listen, transfer=transfer, feed_every=0.2,
                            users=users, pages=pages, check_scripts=library.campaign_problems,
                            phone_server=PhoneServer(8089), phones_changed=lambda: changed.append(1),
                            pacing=PacingService(db, dict, window=timedelta(minutes=30), timezone=TZ, clock=utcnow),
                            pollday=PollDayService(db, bus), outreach=outreach)
    services.start()
    app = create_app(services, health=_health, auth=auth)
    return WebApp(app, auth, db.sessions, engine, bus, services.dashboard_feed, services, listened, changed)
