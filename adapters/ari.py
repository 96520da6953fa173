"""ARI adapter: the REST interface (httpx) and the Stasis application's event websocket (websockets).

Events are published typed (:mod:`events.asterisk`, parsed in :mod:`adapters.ari_events`). The websocket
reconnects with back-off. ARI does not replay events missed while it was down, so each reconnection
(a ``LinkState("ari", False)`` then ``True``) is when handlers reconcile their calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from adapters.ari_events import EVENTS_READ, parse_event
from adapters.link import Backoff, LinkStatus
from events.bus import EventBus

log = logging.getLogger(__name__)


class AriError(RuntimeError):
    """An ARI request failed or timed out."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AriConfig:
    host: str
    port: int
    username: str
    password: str
    app: str
    timeout: float = 5.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0


HTTP_CONNECTIONS = 64  # REST requests in flight at once (more wait their turn in the client); see http.conf


class AriClient:
    """REST calls plus one event websocket for one Stasis application."""

    def __init__(self, config: AriConfig, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.link = LinkStatus("ari", bus)
        self.backoff = Backoff(config.reconnect_min, config.reconnect_max)
        self.closing = False
        self._base = f"http://{config.host}:{config.port}/ari"
        # as many connections as are kept open: under a burst of calls, connections beyond the kept ones
        # would each be opened and closed for one request (and Asterisk counts each in its session limit)
        self._http = httpx.AsyncClient(base_url=self._base, auth=(config.username, config.password),
                                       timeout=config.timeout,
                                       limits=httpx.Limits(max_connections=HTTP_CONNECTIONS,
                                                           max_keepalive_connections=HTTP_CONNECTIONS))
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self.events_seen: Counter[str] = Counter()  # websocket events received, by type

    @property
    def up(self) -> bool:
        return self.link.up

    @property
    def detail(self) -> str:
        return self.link.detail

    async def start(self) -> None:
        """Start the websocket loop (returns at once)."""
        self.closing = False
        self._task = asyncio.create_task(self._run(), name="ari-websocket")

    async def wait_up(self, timeout: float) -> bool:
        """Wait until the websocket is connected; False on timeout."""
        return await self.link.wait_up(timeout)

    async def close(self) -> None:
        self.closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._http.aclose()
        self.link.set(False, "closed")

    async def request(self, method: str, path: str, **params: Any) -> Any:
        """Call ``/ari{path}``; query parameters as keywords (``variables`` goes in the JSON body)."""
        body = params.pop("json", None)
        query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items() if v is not None}
        try:
            resp = await self._http.request(method, path, params=query, json=body)
        except httpx.HTTPError as exc:
            raise AriError(f"ARI {method} {path}: {exc!r}") from exc
        if resp.status_code >= 400:
            raise AriError(f"ARI {method} {path}: {resp.status_code} {resp.text.strip()[:200]}",
                           resp.status_code)
        if not resp.content:
            return None
        return resp.json()

    async def _run(self) -> None:
        url = (f"ws://{self.config.host}:{self.config.port}/ari/events?app={quote(self.config.app)}"
               f"&subscribeAll=false")
        auth = httpx.BasicAuth(self.config.username, self.config.password)
        header = next(auth.auth_flow(httpx.Request("GET", url))).headers["Authorization"]
        while not self.closing:
            try:
                async with connect(url, additional_headers={"Authorization": header},
                                   open_timeout=self.config.timeout, ping_interval=5,
                                   ping_timeout=self.config.timeout, max_size=2**24) as ws:
                    self._ws = ws
                    self.backoff.reset()
                    await self._filter_events()
                    self.link.set(True, "websocket connected")
                    async for raw in ws:
                        self._dispatch(raw)
                detail = "websocket closed by Asterisk"
            except (OSError, WebSocketException, TimeoutError) as exc:
                detail = f"websocket: {exc!r}"[:200]
            finally:
                self._ws = None
            if self.closing:
                break
            self.link.set(False, detail)
            await asyncio.sleep(self.backoff.next())

    async def _filter_events(self) -> None:
        """Ask Asterisk for the events the service reads only (a call's ChannelVarset events were a quarter of
        the websocket's traffic). The application keeps it until Asterisk restarts; it is asked again on every
        connection. An Asterisk that cannot filter sends everything, as before."""
        try:
            await self.request("PUT", f"/applications/{quote(self.config.app)}/eventFilter",
                               json={"allowed": [{"type": name} for name in sorted(EVENTS_READ)]})
        except AriError as exc:
            log.info("ARI: the application's events are not filtered (%s)", exc)

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            log.warning("ARI sent a frame that is not JSON: %r", raw[:200])
            return
        if isinstance(body, dict):
            self.events_seen[str(body.get("type", ""))] += 1
        event = parse_event(body)
        if event is not None:
            self.bus.publish(event)
