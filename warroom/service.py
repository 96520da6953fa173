"""The running war-room service: its parts (built by :func:`warroom.compose.build_service`), started and
stopped in order, and HTTP served until stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from adapters.ami import AmiClient
from adapters.ari import AriClient
from ari_handlers.app import StasisApp
from ari_handlers.dispatch import Dispatcher
from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.progressive import ProgressiveFigures
from cluster.figures import FiguresPublisher, RemoteFigures, merge
from cluster.peers import PeerTrunks
from cluster.registry import NodeRegistry
from cluster.relay import EventRelay
from core.tasks import wait_event
from dashboard.live import live_figures
from db import migrate
from db.engine import Database
from dialer.controller import Dialer
from dialer.sync import DirectorySync
from events.asterisk import StasisEnded
from events.bus import EventBus
from hotline.agi import IdentifyServer
from operators.listen import ListenIn
from operators.softphones import Softphones
from outreach.dialing import Broadcaster
from outreach.service import OutreachService
from pollday.service import PollDayService
from privacy.job import RetentionJob
from privacy.service import PrivacyService
from sipguard.service import SipGuard
from trunks.health import TrunkHealth
from trunks.monitor import TrunkMonitor
from warroom.settings import Settings
from web.app import ComponentHealth
from web.services import WebServices

log = logging.getLogger(__name__)


def _keep_out_of_gc() -> None:
    """What start-up built lives as long as the service: left out of the collector's full passes, which
    otherwise walk every module, mapper and setting and stop every thread for 100-200 ms mid-call."""
    gc.collect()
    gc.freeze()


@dataclass
class Service:
    """Every part of one war-room node. ``start`` brings them up (the links reconnect by themselves);
    ``run`` also serves HTTP until stopped."""

    settings: Settings
    bus: EventBus
    db: Database
    ami: AmiClient
    ari: AriClient
    ivr: IvrDeps
    progressive: ProgressiveFigures
    dialer: Dialer
    sync: DirectorySync
    softphones: Softphones
    dispatcher: Dispatcher
    listen: ListenIn
    stasis: StasisApp
    agi: IdentifyServer
    privacy: PrivacyService
    registry: NodeRegistry
    remote: RemoteFigures
    peers: PeerTrunks
    retention: RetentionJob | None = None  # the daily retention pass (None: not run by this service)
    relay: EventRelay | None = None    # with PostgreSQL: events to and from the other processes
    publisher: FiguresPublisher | None = None
    trunk_health: TrunkHealth | None = None   # each trunk's health (the dialer asks it too)
    trunks: TrunkMonitor | None = None        # keeps the trunks' health true from Asterisk's reports
    guard: SipGuard | None = None             # bans addresses that keep failing SIP authentication
    outreach: OutreachService | None = None   # voter outreach: lists, do-not-call, missed calls
    pollday: PollDayService | None = None     # poll day's rounds, reports and alerts
    broadcaster: Broadcaster | None = None    # dials the running outreach campaigns' broadcast calls
    web: WebServices | None = None     # the HTTP side's services and pages' feeds (built with ``app``)
    app: FastAPI = field(default_factory=FastAPI)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _online: list[str] = field(default_factory=list)

    async def health(self) -> dict[str, ComponentHealth]:
        """Each component's state as it is now (the DB is queried, not assumed)."""
        try:
            await asyncio.wait_for(self.db.check(), 5)
            db = ComponentHealth(up=True, detail=self.db.backend)
        except Exception as exc:  # any failure means "down"; the detail (kept inside the service) says which
            db = ComponentHealth(up=False, detail=f"{type(exc).__name__}: {exc}"[:200])
        if self.web_only:  # no Asterisk of its own to be up or down
            return {"db": db}
        return {
            "ami": ComponentHealth(up=self.ami.up, detail=self.ami.detail),
            "ari": ComponentHealth(up=self.ari.up, detail=self.ari.detail),
            "db": db,
        }

    @property
    def web_only(self) -> bool:
        return self.settings.cluster.web_only

    def node_figures(self) -> dict[str, Any]:
        """This node's live figures: lines and calls (dialer), callers waiting for operators, progressive
        calls, the trunks' health and the banned addresses."""
        figures = live_figures(self.dialer.snapshot(), self.ivr.queue.snapshot(), self.ivr.stats.live,
                               len(self.dispatcher.connected_calls()), {"ami": self.ami.up, "ari": self.ari.up},
                               self.progressive)
        figures["trunks"] = self.trunk_health.snapshot() if self.trunk_health else {}
        figures["banned"] = list(self.guard.banned) if self.guard else []
        return figures

    def live_figures(self) -> dict[str, Any]:
        """The war room's live figures: this node's with every other node's (only this node's when alone; a
        web-only process shows the others')."""
        remote = self.remote.fresh()
        if self.web_only:
            return merge(self.registry.name, {}, remote) if remote else self.node_figures()
        return merge(self.registry.name, self.node_figures(), remote)

    def status(self) -> tuple[bool, int, list[str]]:
        """For the heartbeat: is this node's Asterisk up, how many lines are free for calls, which operators'
        softphones are registered to it."""
        free = sum(self.dialer.lines.free(name) for name in self.dialer.lines.trunks)
        return self.ami.up, free if self.ami.up else 0, list(self._online) if self.ami.up else []

    async def start(self) -> None:
        """Bring the schema up to date, then start the links (they reconnect by themselves), the caller
        lookup, the dialer and the directory sync."""
        await asyncio.to_thread(migrate.upgrade, self.db.engine)
        await self.registry.start()  # refuses a set-up that cannot work, before anything else starts
        self.remote.start()
        if self.relay is not None:
            await self.relay.start()
        if self.web_only:
            if self.web is not None:
                self.web.start()
            _keep_out_of_gc()
            return
        for problem in self.ivr.library.problems:
            log.error("IVR script left out:\n%s", problem)
        self.ivr.prompts.check()
        stale = await self.ivr.queue.abandon_stale()
        if stale:
            log.info("%d queue entries from a previous run marked abandoned", stale)
        self.stasis.start()
        if self.web is not None:
            self.web.start()
        await self.agi.start()
        if self.trunks is not None:
            await self.trunks.start()
        if self.guard is not None:
            await self.guard.start()
        await self.ami.start()
        await self.ari.start()
        await self.sync.start()
        await self.dialer.start()
        if self.broadcaster is not None:
            await self.broadcaster.start()
        await self.dispatcher.start()
        if self.pollday is not None:
            self.pollday.start()
        if self.publisher is not None:
            self.publisher.start()
        self._tasks.append(asyncio.create_task(self._keep_softphones(), name="softphones"))
        if self.retention is not None:
            self.retention.start()
        _keep_out_of_gc()

    async def _keep_softphones(self, every: float = 5.0) -> None:
        """Keep Asterisk's operator endpoints equal to the users table (users change from the CLI or the
        admin pages; disabling one removes its endpoint within seconds) and its trunks to the other nodes
        equal to the nodes table; note which softphones are registered here (the heartbeat tells the
        others)."""
        while True:
            self.softphones.changed.clear()
            if self.ami.up:
                try:
                    await self.softphones.sync()
                    await self.peers.sync()
                    self._online = await self.softphones.online()
                except Exception:
                    log.exception("softphones: sync failed; retrying")
            await wait_event(self.softphones.changed, every)  # a browser phone's new secret wakes it at once

    async def stop(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.web is not None:
            self.web.close()
        if self.publisher is not None:
            await self.publisher.stop()
        if self.pollday is not None:
            self.pollday.close()
        if not self.web_only:
            await self.dispatcher.stop()
            if self.broadcaster is not None:
                await self.broadcaster.stop()
            await self.dialer.stop()
            if self.guard is not None:
                await self.guard.stop()
            if self.trunks is not None:
                await self.trunks.stop()
            await self.sync.stop()
            self.stasis.stop()
            await self.agi.close()
            await self.ari.close()
            await self.ami.close()
        if self.relay is not None:
            await self.relay.stop()
        self.remote.stop()
        await self.registry.stop()
        self.db.close()

    async def wind_down(self) -> None:
        """Stopping gracefully: no new calls; the calls in flight (and the callers in our Stasis app) may
        finish for ``stop_seconds``, then what is left is hung up and settled."""
        if self.web_only:
            return  # no calls of its own
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.stop_seconds
        log.info("stopping: no new calls; %d calls in flight, %d in the IVR (waiting up to %.0fs)",
                 len(self.dialer.active), self.ivr.stats.live, self.settings.stop_seconds)
        hung_up = await self.dialer.wind_down(self.settings.stop_seconds)
        left = asyncio.Event()  # a call left our Stasis app

        def on_end(_event: StasisEnded) -> None:
            left.set()

        self.bus.subscribe(StasisEnded, on_end)
        try:
            while self.ivr.stats.live and loop.time() < deadline:
                left.clear()
                await wait_event(left, max(0.0, deadline - loop.time()))
        finally:
            self.bus.unsubscribe(StasisEnded, on_end)
        log.info("stopping: calls settled (%d hung up at the deadline)", hung_up)

    async def run(self) -> None:
        """Start everything and serve HTTP until stopped: the first SIGTERM (or Ctrl-C) winds the calls
        down while HTTP still answers, then stops; a second one stops at once."""
        await self.start()
        http = self.settings.http
        server = GracefulServer(uvicorn.Config(self.app, host=http.host, port=http.port, log_config=None,
                                               log_level=self.settings.log_level.lower(), lifespan="off"),
                                self.wind_down)
        try:
            await server.serve()
        finally:
            await self.stop()


class GracefulServer(uvicorn.Server):
    """uvicorn's server, stopping gracefully: the first signal runs ``wind_down`` (HTTP goes on answering:
    the dashboard shows the calls ending), then the server stops; a second signal stops it at once."""

    def __init__(self, config: uvicorn.Config, wind_down: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self.wind_down = wind_down
        self.winding: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.winding is not None or self._loop is None:
            self.should_exit = True  # asked again: stop now
            return
        self._loop.call_soon_threadsafe(self._begin)

    def _begin(self) -> None:
        if self.winding is None:
            self.winding = asyncio.ensure_future(self.wind_down())
            self.winding.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("winding the calls down failed", exc_info=task.exception())
        self.should_exit = True
