"""FastAGI: the dialplan asks who a hotline caller is before the call enters our Stasis app.

``AGI(agi://<agi_host>:<port>/identify)`` connects here; we answer with channel variables
``WARROOM_MEMBER``, ``WARROOM_BOOTH``, ``WARROOM_STATUS`` and ``WARROOM_LANG`` (empty for an unknown
number). The AGI protocol is pyst2's, which blocks, so each connection is served in a small pool of
threads of the server's own: an idle or slow connection can hold one of those threads for at most the
read timeout, and never the event loop's default pool, which the database and everything else share.
Connections beyond the cap, and any from an address that is not Asterisk's, are closed at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

from asterisk.agi import AGI, AGIException

from hotline.lookup import Caller

log = logging.getLogger(__name__)


class _Quiet:
    """pyst2 chatters on stderr about every line; we log instead."""

    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class SocketAGI(AGI):
    """pyst2's AGI over a FastAGI socket. Its own ``__init__`` installs a SIGHUP handler, which only the
    main thread may do and which means nothing for a socket, so it is not called."""

    def __init__(self, rfile: IO[str], wfile: IO[str]) -> None:
        self.stdin, self.stdout, self.stderr = rfile, wfile, _Quiet()
        self._got_sighup = False
        self.env: dict[str, str] = {}
        self._get_agi_env()


@dataclass(frozen=True)
class AgiLimits:
    """How much the caller lookup takes on: threads, connections at once, seconds per read, who may ask."""

    workers: int = 4
    max_connections: int = 32
    read_timeout: float = 5.0
    allow: Sequence[str] = ("127.0.0.1",)  # Asterisk's addresses (single addresses or networks)


class IdentifyServer:
    """Listen for FastAGI connections on ``bind``:``port``; ``lookup(caller_id)`` says who the caller is."""

    def __init__(self, bind: str, port: int, lookup: Callable[[str], Caller], limits: AgiLimits = AgiLimits()) -> None:
        self.bind, self.port, self.lookup, self.limits = bind, port, lookup, limits
        self.served = 0
        self.refused = 0
        self._allow = [ipaddress.ip_network(a, strict=False) for a in limits.allow]
        self._pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="fastagi")
        self._open = 0
        self._sock: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.bind, self.port))
        sock.listen(64)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._accept(), name="fastagi")
        log.info("FastAGI caller lookup on %s:%d (for %s)", self.bind, self.port, ", ".join(self.limits.allow))

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._sock:
            self._sock.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def connections(self) -> int:
        """Lookups being served (or waiting for a thread) now."""
        return self._open

    def allowed(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._allow)

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sock is not None
        while True:
            conn, addr = await loop.sock_accept(self._sock)
            if not self.allowed(str(addr[0])):
                self.refused += 1
                log.warning("FastAGI: connection from %s refused (not Asterisk's address)", addr[0])
                conn.close()
                continue
            if self._open >= self.limits.max_connections:
                self.refused += 1
                log.warning("FastAGI: %d lookups at once already; connection from %s closed", self._open, addr[0])
                conn.close()
                continue
            self._open += 1
            future = loop.run_in_executor(self._pool, self._serve, conn)
            future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[None]) -> None:
        self._open -= 1
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            log.error("FastAGI connection failed", exc_info=exc)

    def _serve(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        conn.settimeout(self.limits.read_timeout)
        with conn, conn.makefile("r", encoding="utf-8", newline="\n") as rfile, \
                conn.makefile("w", encoding="utf-8", newline="\n") as wfile:
            try:
                agi = SocketAGI(rfile, wfile)
                if not agi.env:
                    return  # connected and closed (or timed out) without asking anything
                script = agi.env.get("agi_network_script", "")
                if script == "ping":  # `warroom doctor`: Asterisk reached us
                    agi.set_variable("WARROOM_PONG", "1")
                    return
                if script != "identify":
                    log.warning("FastAGI: unknown script %r", script)
                    agi.set_variable("WARROOM_LOOKUP", "UNKNOWN_SCRIPT")
                    return
                caller_id = agi.env.get("agi_callerid", "")
                caller = self.lookup(caller_id)
                values = {"WARROOM_MEMBER": caller.person_id, "WARROOM_BOOTH": caller.booth_id,
                          "WARROOM_STATUS": caller.status, "WARROOM_LANG": caller.language,
                          "WARROOM_LOOKUP": "KNOWN" if caller.known else "UNKNOWN"}
                for name, value in values.items():
                    agi.set_variable(name, "" if value is None else str(value))
                self.served += 1
                log.info("FastAGI: caller %s is %s", caller_id[-4:], f"person {caller.person_id}"
                         if caller.known else "unknown")
            except (AGIException, OSError, UnicodeDecodeError, ValueError) as exc:
                log.warning("FastAGI: %s", exc)
