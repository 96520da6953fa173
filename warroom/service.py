"""Service start-up: build every component from the settings, wire them, run until stopped."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from accounts.service import UserService
from adapters.ami import AmiClient
from adapters.ari import AriClient
from ari_handlers.app import StasisApp
from ari_handlers.dispatch import AgentLeg, Dispatcher
from ari_handlers.progressive import Pacing, ProgressiveCall, ProgressiveFigures
from ari_handlers.routes import ivr_factories
from dashboard.live import live_figures
from db import migrate
from db.engine import Database, make_engine, ping, transaction
from dialer.controller import Dialer
from dialer.sync import DirectorySync
from events.bus import EventBus
from hotline.agi import IdentifyServer
from hotline.lookup import Caller, identify
from operators.listen import ListenIn
from reports.shifts import parse_shifts
from warroom.compose import build_ami, build_ari, build_ivr, build_softphones, calling_rules, dialer_config
from warroom.settings import Settings
from web.app import ComponentHealth, create_app
from web.auth import Auth, AuthConfig
from web.services import web_services

log = logging.getLogger(__name__)


class Service:
    """The running war-room service: AMI, ARI, database, dialer and HTTP, built from one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.engine: Engine = make_engine(settings.resolved_database_url())
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.ami: AmiClient = build_ami(settings.asterisk, self.bus)
        self.ari: AriClient = build_ari(settings.asterisk, self.bus)
        self.ivr = build_ivr(settings, self.ari, self.sessions, publish=self.bus.publish)
        self.pacing = Pacing(self.sessions, self.ivr.queue, settings.dialer.operator_ratio)
        self.progressive = ProgressiveFigures()
        self.dialer = Dialer(self.ami, self.bus, self.sessions, dialer_config(settings),
                             operator_room=self.pacing.room)
        self.sync = DirectorySync(self.sessions, on_change=self.dialer.wake)
        self.softphones = build_softphones(settings, self.ami, self.ari, self.sessions)
        self.dispatcher = Dispatcher(self.ari, self.bus, self.sessions, self.ivr.queue, self.softphones,
                                     wrap_seconds=settings.http.wrap_up_seconds, library=self.ivr.library,
                                     party=settings.directory.party)
        self.listen = ListenIn(self.ami, self.ari, self.sessions, self.softphones, self.dispatcher.connected_calls)
        self.stasis = StasisApp(self.ari, self.bus, {**ivr_factories(self.ivr), "agent": AgentLeg,
                                                     "operator": self._progressive_call})
        ast = settings.asterisk
        self.agi = IdentifyServer(ast.agi_host, ast.agi_port, self._identify)
        self._tasks: list[asyncio.Task[None]] = []
        http = settings.http
        token = http.metrics_token.get_secret_value() if http.metrics_token else None
        self.db = Database(self.engine)
        self.auth = Auth(UserService(self.db), AuthConfig(
            secure_cookie=http.secure_cookie, machine_tokens=(("/metrics", token),) if token else ()))
        self.web = web_services(
            self.db, self.bus, live_figures=self.live_figures, timezone=settings.dialer.timezone,
            target_minutes=http.ticket_target_minutes, shifts=parse_shifts(settings.reports.shifts),
            defaults=calling_rules(settings), check_scripts=self.ivr.library.campaign_problems,
            wake=self.dialer.wake, registered=self.softphones.registered, sip_server=(ast.host, ast.sip_port),
            listen=self.listen.start)
        self.app = create_app(self.web, health=self.health, auth=self.auth)

    async def health(self) -> dict[str, ComponentHealth]:
        """Each component's state as it is now (the DB is queried, not assumed)."""
        try:
            await asyncio.wait_for(asyncio.to_thread(ping, self.engine), 5)
            db = ComponentHealth(up=True, detail=self.engine.url.get_backend_name())
        except Exception as exc:  # any failure means "down"; the detail says which
            db = ComponentHealth(up=False, detail=f"{type(exc).__name__}: {exc}"[:200])
        return {
            "ami": ComponentHealth(up=self.ami.up, detail=self.ami.detail),
            "ari": ComponentHealth(up=self.ari.up, detail=self.ari.detail),
            "db": db,
        }

    def live_figures(self) -> dict[str, Any]:
        """The live figures: lines and calls (dialer), callers waiting for operators, progressive calls."""
        return live_figures(self.dialer.snapshot(), self.ivr.queue.snapshot(), self.ivr.stats.live,
                            len(self.dispatcher.connected_calls()), {"ami": self.ami.up, "ari": self.ari.up},
                            self.progressive)

    def _progressive_call(self, ari: AriClient, channel_id: str, args: list[str]) -> ProgressiveCall:
        return ProgressiveCall(ari, channel_id, args, self.ivr, self.progressive,
                               abandon_seconds=self.settings.dialer.abandon_seconds)

    def _identify(self, raw: str) -> Caller:
        return transaction(self.sessions, identify, raw, self.settings.ivr.default_language)

    async def start(self) -> None:
        """Bring the schema up to date, then start the links (they reconnect by themselves), the caller
        lookup, the dialer and the directory sync."""
        await asyncio.to_thread(migrate.upgrade, self.engine)
        for problem in self.ivr.library.problems:
            log.error("IVR script left out:\n%s", problem)
        self.ivr.prompts.check()
        stale = await self.ivr.queue.abandon_stale()
        if stale:
            log.info("%d queue entries from a previous run marked abandoned", stale)
        self.web.start()
        await self.agi.start()
        await self.ami.start()
        await self.ari.start()
        await self.sync.start()
        await self.dialer.start()
        await self.dispatcher.start()
        self._tasks.append(asyncio.create_task(self._keep_softphones(), name="softphones"))

    async def _keep_softphones(self, every: float = 5.0) -> None:
        """Keep Asterisk's operator endpoints equal to the users table (users change from the CLI or the
        admin pages; disabling one removes its endpoint within seconds)."""
        while True:
            if self.ami.up:
                try:
                    await self.softphones.sync()
                except Exception:
                    log.exception("softphones: sync failed; retrying")
            await asyncio.sleep(every)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.web.close()
        await self.dispatcher.stop()
        await self.dialer.stop()
        await self.sync.stop()
        await self.agi.close()
        await self.ari.close()
        await self.ami.close()
        self.db.close()

    async def run(self) -> None:
        """Start everything and serve HTTP until stopped."""
        await self.start()
        http = self.settings.http
        server = uvicorn.Server(uvicorn.Config(self.app, host=http.host, port=http.port,
                                               log_level=self.settings.log_level.lower(), lifespan="off"))
        try:
            await server.serve()
        finally:
            await self.stop()
