"""The FastAGI caller lookup: idle connections cannot stall the service, too many are refused, only
Asterisk's address is served, and a real exchange sets the channel variables."""

from __future__ import annotations

import asyncio
import socket
import time

from hotline.agi import AgiLimits, IdentifyServer
from hotline.lookup import Caller
from tests.waiting import until


def _lookup(raw: str) -> Caller:
    return Caller("+919826012345", person_id=7, booth_id=12, status="weak", language="en") if raw.endswith(
        "9826012345") else Caller(None)


async def _ask(port: int, caller_id: str = "09826012345") -> dict[str, str]:
    """One FastAGI exchange as Asterisk does it: the environment, then answer every command with 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"agi_network: yes\nagi_network_script: identify\nagi_callerid: {caller_id}\n\n".encode())
    await writer.drain()
    got: dict[str, str] = {}
    while line := (await asyncio.wait_for(reader.readline(), 5)).decode().strip():
        if line.startswith("SET VARIABLE"):
            _, _, name, value = line.split(" ", 3)
            got[name.strip('"')] = value.strip('"')
        writer.write(b"200 result=1\n")
        await writer.drain()
    writer.close()
    return got


async def test_idle_connections_do_not_stall_the_service_and_lookups_go_on() -> None:
    server = IdentifyServer("127.0.0.1", 0, _lookup, AgiLimits(workers=2, max_connections=8, read_timeout=3))
    await server.start()
    idle = []
    try:
        for _ in range(8):  # more idle connections than the default thread pool has threads here
            sock = socket.create_connection(("127.0.0.1", server.port))
            idle.append(sock)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.wait_for(asyncio.to_thread(lambda: None), 2)  # the loop's default pool is free
        assert time.monotonic() - started < 1.0
        # the cap is reached: a ninth is closed at once rather than queued behind the idle ones
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
        assert server.refused >= 1
    finally:
        for sock in idle:
            sock.close()
    # once the idle ones time out or close, lookups are served again
    await until(lambda: server.connections == 0, 10, "the idle connections to be let go")
    got = await _ask(server.port)
    assert got == {"WARROOM_MEMBER": "7", "WARROOM_BOOTH": "12", "WARROOM_STATUS": "weak", "WARROOM_LANG": "en",
                   "WARROOM_LOOKUP": "KNOWN"}
    assert (await _ask(server.port, "0000"))["WARROOM_LOOKUP"] == "UNKNOWN"
    await server.close()


async def test_only_asterisks_address_is_served() -> None:
    server = IdentifyServer("127.0.0.1", 0, _lookup, AgiLimits(allow=("10.9.8.7",)))
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: identify\nagi_callerid: 09826012345\n\n")
        assert await asyncio.wait_for(reader.read(), 2) == b"", "closed without a word"
        assert server.refused == 1 and server.served == 0
        assert server.allowed("10.9.8.7") and not server.allowed("127.0.0.1") and not server.allowed("bogus")
    finally:
        await server.close()
