"""Events between the war room's processes: PostgreSQL LISTEN/NOTIFY.

The events dashboards and consoles need (attempts, campaigns, tickets, operators, screen pops, each node's
live figures) are sent on one channel when they happen on this process's bus, and every process republishes
what the others sent on its own bus, so a page shows the whole war room whichever process serves it. A
payload is JSON (compressed when large: NOTIFY carries under 8000 bytes). The link reconnects by itself;
what is lost meanwhile is mended by the next figures (the pages also re-read the database every second).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import re
import zlib
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

from adapters.link import Backoff
from events.bus import EventBus
from events.types import (
    AttemptChanged,
    CampaignChanged,
    NodeFigures,
    OperatorCall,
    OperatorStateChanged,
    ScreenPop,
    TicketChanged,
)

log = logging.getLogger(__name__)
CHANNEL = "warroom_events"
RELAYED: dict[str, type] = {cls.__name__: cls for cls in (
    AttemptChanged, CampaignChanged, TicketChanged, OperatorStateChanged, OperatorCall, ScreenPop, NodeFigures)}
LIMIT = 7900  # NOTIFY payloads must stay under 8000 bytes


def encode(node: str, event: Any) -> str:
    """``event`` as a NOTIFY payload from ``node`` (compressed when large); raises ValueError if too big."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    text = json.dumps({"n": node, "t": type(event).__name__, "f": fields}, default=_plain, separators=(",", ":"))
    if len(text.encode()) <= LIMIT:
        return text
    packed = "z" + base64.b64encode(zlib.compress(text.encode(), 9)).decode()
    if len(packed) > LIMIT:
        raise ValueError(f"{type(event).__name__} too large to relay ({len(text)} bytes)")
    return packed


def decode(payload: str) -> tuple[str, object] | None:
    """(sending node, event) from a payload; None for anything this process does not know."""
    try:
        text = zlib.decompress(base64.b64decode(payload[1:])).decode() if payload.startswith("z") else payload
        body = json.loads(text)
        cls = RELAYED[body["t"]]
        fields = dict(body["f"])
        if "at" in fields:
            fields["at"] = datetime.fromisoformat(fields["at"])
        return str(body["n"]), cls(**fields)
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        log.warning("relay: a payload that is not one of ours (%s)", exc)
        return None


def channel_for(conninfo: str) -> str:
    """The channel of the war room whose tables ``conninfo`` reaches: NOTIFY channels are per database, so
    war rooms in separate schemas of one database (``options=-csearch_path=...``) each get their own."""
    options = " ".join(parse_qs(urlsplit(conninfo).query).get("options", []))
    found = re.search(r"search_path\s*=\s*([A-Za-z0-9_]+)", options)
    return f"{CHANNEL}_{found.group(1).lower()}"[:63] if found else CHANNEL


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot relay {type(value).__name__}")


class EventRelay:
    """Relays this process's events to the others and theirs to this one (``conninfo``: a libpq URL)."""

    def __init__(self, conninfo: str, node: str, bus: EventBus, *, reconnect_max: float = 10.0,
                 channel: str | None = None) -> None:
        self.conninfo, self.node, self.bus = conninfo, node, bus
        self.channel = channel or channel_for(conninfo)
        self.backoff = Backoff(0.5, reconnect_max)
        self.up = False
        self.sent = self.received = 0
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._relaying = False

    async def start(self) -> None:
        for cls in RELAYED.values():
            self.bus.subscribe(cls, self._outgoing)
        self._tasks = [asyncio.create_task(self._listen(), name="relay-listen"),
                       asyncio.create_task(self._send(), name="relay-send")]

    async def stop(self) -> None:
        for cls in RELAYED.values():
            self.bus.unsubscribe(cls, self._outgoing)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _outgoing(self, event: object) -> None:
        if self._relaying:
            return  # it came from another process: do not send it back
        try:
            payload = encode(self.node, event)
        except ValueError as exc:
            log.warning("relay: %s", exc)
            return
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            log.warning("relay: the queue is full; an event is dropped (the link is down?)")

    def _incoming(self, payload: str) -> None:
        got = decode(payload)
        if got is None or got[0] == self.node:
            return
        self.received += 1
        self._relaying = True
        try:
            self.bus.publish(got[1])
        finally:
            self._relaying = False

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {self.channel}")
                    self.up = True
                    self.backoff.reset()
                    async for notify in conn.notifies():
                        self._incoming(notify.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("relay: listening link lost (%s)", str(exc).strip()[:120])
            self.up = False
            await asyncio.sleep(self.backoff.next())

    async def _send(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    while True:
                        payload = await self._queue.get()
                        batch = [payload]
                        while not self._queue.empty() and len(batch) < 100:
                            batch.append(self._queue.get_nowait())
                        async with conn.pipeline():
                            for item in batch:
                                await conn.execute("SELECT pg_notify(%s, %s)", (self.channel, item))
                        self.sent += len(batch)
            except (psycopg.Error, OSError) as exc:
                log.warning("relay: sending link lost (%s)", str(exc).strip()[:120])
            await asyncio.sleep(1.0)
