"""ARI adapter: the REST interface (httpx) and the Stasis application's event websocket (websockets).

The websocket reconnects with back-off. ARI does not replay events missed while it was down, so each
(re)connection is published as ``LinkState("ari", True)``: handlers reconcile their calls then.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from events.bus import EventBus
from events.types import AriEvent, LinkState

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


class AriClient:
    """REST calls plus one event websocket for one Stasis application."""

    def __init__(self, config: AriConfig, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.up = False
        self.detail = "not started"
        self.closing = False
        self._base = f"http://{config.host}:{config.port}/ari"
        self._http = httpx.AsyncClient(base_url=self._base, auth=(config.username, config.password),
                                       timeout=config.timeout)
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._up_event = asyncio.Event()

    async def start(self) -> None:
        """Start the websocket loop (returns at once)."""
        self.closing = False
        self._task = asyncio.create_task(self._run(), name="ari-websocket")

    async def wait_up(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._up_event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self.closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._http.aclose()
        self._set(False, "closed")

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

    def _set(self, up: bool, detail: str) -> None:
        self.detail = detail
        changed = up != self.up
        self.up = up
        if up:
            self._up_event.set()
        else:
            self._up_event.clear()
        if changed or up:  # every (re)connection is published: handlers reconcile on it
            log.info("ARI link %s: %s", "up" if up else "down", detail)
            self.bus.publish(LinkState("ari", up, detail))

    async def _run(self) -> None:
        delay = self.config.reconnect_min
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
                    delay = self.config.reconnect_min
                    self._set(True, "websocket connected")
                    async for raw in ws:
                        self._dispatch(raw)
                detail = "websocket closed by Asterisk"
            except (OSError, WebSocketException, TimeoutError) as exc:
                detail = f"websocket: {exc!r}"[:200]
            finally:
                self._ws = None
            if self.closing:
                break
            self._set(False, detail)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max)

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            log.warning("ARI sent a frame that is not JSON: %r", raw[:200])
            return
        if isinstance(body, dict) and "type" in body:
            self.bus.publish(AriEvent(str(body["type"]), body))
