"""FastAGI: the dialplan asks who a hotline caller is before the call enters our Stasis app.

``AGI(agi://127.0.0.1:4573/identify)`` connects here; we answer with channel variables
``WARROOM_MEMBER``, ``WARROOM_BOOTH``, ``WARROOM_STATUS`` and ``WARROOM_LANG`` (empty for an unknown
number). The AGI protocol is pyst2's; each connection is served in a worker thread (pyst2 is blocking,
and the lookup is one short database query), so the event loop only accepts.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import IO, Any

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


class IdentifyServer:
    """Listen for FastAGI connections; ``lookup(caller_id)`` says who the caller is."""

    def __init__(self, host: str, port: int, lookup: Callable[[str], Caller]) -> None:
        self.host, self.port, self.lookup = host, port, lookup
        self.served = 0
        self._sock: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(64)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._accept(), name="fastagi")
        log.info("FastAGI caller lookup on %s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._sock:
            self._sock.close()

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sock is not None
        while True:
            conn, _addr = await loop.sock_accept(self._sock)
            task = loop.run_in_executor(None, self._serve, conn)
            task.add_done_callback(_log_failure)

    def _serve(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        conn.settimeout(10)
        with conn, conn.makefile("r", encoding="utf-8", newline="\n") as rfile, \
                conn.makefile("w", encoding="utf-8", newline="\n") as wfile:
            try:
                agi = SocketAGI(rfile, wfile)
                script = agi.env.get("agi_network_script", "")
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
            except (AGIException, OSError) as exc:
                log.warning("FastAGI: %s", exc)


def _log_failure(future: Any) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("FastAGI connection failed", exc_info=exc)
