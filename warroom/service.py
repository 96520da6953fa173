"""Service start-up: build every component from the settings, wire them, run until stopped."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from sqlalchemy import Engine

from adapters.ami import AmiClient
from adapters.ari import AriClient
from db.engine import make_engine, ping
from events.bus import EventBus
from warroom.compose import build_ami, build_ari
from warroom.settings import Settings
from web.app import ComponentHealth, create_app

log = logging.getLogger(__name__)


class Service:
    """The running war-room service: AMI, ARI, database and HTTP, built from one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.engine: Engine = make_engine(settings.resolved_database_url())
        self.ami: AmiClient = build_ami(settings.asterisk, self.bus)
        self.ari: AriClient = build_ari(settings.asterisk, self.bus)
        self.app = create_app(health=self.health)

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

    async def run(self) -> None:
        """Start the Asterisk links (they reconnect by themselves) and serve HTTP until stopped."""
        await self.ami.start()
        await self.ari.start()
        http = self.settings.http
        server = uvicorn.Server(uvicorn.Config(self.app, host=http.host, port=http.port,
                                               log_level=self.settings.log_level.lower(), lifespan="off"))
        try:
            await server.serve()
        finally:
            await self.ari.close()
            await self.ami.close()
            self.engine.dispose()
