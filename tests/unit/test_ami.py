"""AmiClient against a fake AMI server: timeouts, no re-sent actions, dead-link detection, back-off."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from adapters.ami import AmiClient, AmiConfig, AmiError
from events.asterisk import HungUp, LinkState
from events.bus import EventBus
from tests.waiting import until


@dataclass
class FakeAmi:
    """Speaks just enough AMI: Login, Ping, and whatever ``replies`` says for other actions."""

    secret: str = "s3cret"
    answer_pings: bool = True
    booted: bool = True  # says FullyBooted right after a login, as a booted Asterisk does
    silent_actions: set[str] = field(default_factory=set)
    received: list[dict[str, str]] = field(default_factory=list)
    logins: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        self.drop_all()
        await self.server.wait_closed()

    def drop_all(self) -> None:
        for w in self.writers:
            w.close()
        self.writers.clear()

    def send_event(self, **headers: str) -> None:
        for w in self.writers:
            w.write(("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        buf = b""
        try:
            while chunk := await reader.read(4096):
                buf += chunk
                while b"\r\n\r\n" in buf:
                    block, buf = buf.split(b"\r\n\r\n", 1)
                    action = dict(line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line)
                    self.received.append(action)
                    self._reply(writer, action)
        except ConnectionError:
            pass

    def _reply(self, writer: asyncio.StreamWriter, action: dict[str, str]) -> None:
        name, aid = action.get("Action", ""), action.get("ActionID", "")
        if name == "Login":
            self.logins += 1
            ok = action.get("Secret") == self.secret
            resp = "Success" if ok else "Error"
            msg = "Authentication accepted" if ok else "Authentication failed"
            writer.write(f"Response: {resp}\r\nActionID: {aid}\r\nMessage: {msg}\r\n\r\n".encode())
            if ok and self.booted:
                writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
        elif name == "Ping":
            if self.answer_pings:
                writer.write(f"Response: Success\r\nActionID: {aid}\r\nPing: Pong\r\n\r\n".encode())
        elif name in self.silent_actions:
            return
        elif name == "Fail":
            writer.write(f"Response: Error\r\nActionID: {aid}\r\nMessage: nope\r\n\r\n".encode())
        else:
            writer.write(f"Response: Success\r\nActionID: {aid}\r\nMessage: ok\r\n\r\n".encode())


async def _client(port: int, bus: EventBus, secret: str = "s3cret", **kw: float) -> AmiClient:
    cfg = AmiConfig("127.0.0.1", port, "warroom", secret, action_timeout=kw.get("timeout", 0.5),
                    ping_interval=kw.get("ping", 0.2), reconnect_min=0.05, reconnect_max=0.2,
                    boot_wait=kw.get("boot_wait", 10.0))
    client = AmiClient(cfg, bus)
    await client.start()
    return client


async def test_action_round_trip_and_events() -> None:
    fake, bus = FakeAmi(), EventBus()
    port = await fake.start()
    seen: list[HungUp] = []
    bus.subscribe(HungUp, seen.append)
    client = await _client(port, bus)
    try:
        assert await client.wait_up(3)
        reply = await client.action({"Action": "Status", "ActionID": "ours-1"})
        assert not isinstance(reply, list) and reply["Message"] == "ok"
        assert fake.received[-1]["ActionID"] == "ours-1"
        fake.send_event(Event="Hangup", Uniqueid="1.2", Cause="16")
        await until(lambda: any(e.channel_id == "1.2" for e in seen), 5, every=0.02)
        assert seen[-1].cause == 16  # typed: the Q.850 cause as a number
        with pytest.raises(AmiError, match="refused: nope"):
            await client.action({"Action": "Fail"})
    finally:
        await client.close()
        await fake.stop()


async def test_action_times_out_instead_of_hanging() -> None:
    fake, bus = FakeAmi(silent_actions={"Originate"}), EventBus()
    port = await fake.start()
    client = await _client(port, bus, timeout=0.3)
    try:
        assert await client.wait_up(3)
        with pytest.raises(AmiError, match="no reply to Originate"):
            await client.action({"Action": "Originate", "Channel": "PJSIP/1@x"})
    finally:
        await client.close()
        await fake.stop()


async def test_unanswered_originate_is_not_resent_after_reconnect() -> None:
    fake, bus = FakeAmi(silent_actions={"Originate"}), EventBus()
    port = await fake.start()
    states: list[LinkState] = []
    bus.subscribe(LinkState, states.append)
    client = await _client(port, bus, timeout=5.0)
    try:
        assert await client.wait_up(3)
        pending = asyncio.create_task(client.action({"Action": "Originate", "Channel": "PJSIP/1@x"}))
        await until(lambda: any(a.get("Action") == "Originate" for a in fake.received), 5, every=0.02)
        fake.drop_all()
        with pytest.raises(AmiError, match="link down"):
            await pending
        await until(lambda: fake.logins >= 2, 5, every=0.02)
        await until(lambda: client.up, 5, every=0.02)
        fake.send_event(Event="FullyBooted", Status="Fully Booted")  # panoramisk re-sends on this
        await asyncio.sleep(0.3)
        originates = [a for a in fake.received if a.get("Action") == "Originate"]
        assert len(originates) == 1, "an Originate was sent again after the reconnect"
        assert [s.up for s in states][:3] == [True, False, True]
    finally:
        await client.close()
        await fake.stop()


async def test_dead_link_found_by_ping_deadline() -> None:
    fake, bus = FakeAmi(), EventBus()
    port = await fake.start()
    client = await _client(port, bus, timeout=0.2, ping=0.1)
    try:
        assert await client.wait_up(3)
        fake.answer_pings = False  # TCP stays open, Asterisk "hangs"
        await until(lambda: not client.up, 3, every=0.02)
        assert "link down" in client.detail or "connection lost" in client.detail
        fake.answer_pings = True
        await until(lambda: client.up, 3, every=0.02)
        assert fake.logins >= 2
    finally:
        await client.close()
        await fake.stop()


async def test_refused_login_is_down_and_retried_with_backoff() -> None:
    fake, bus = FakeAmi(secret="right"), EventBus()
    port = await fake.start()
    client = await _client(port, bus, secret="wrong")
    try:
        await until(lambda: fake.logins >= 3, 5, every=0.02)
        assert not client.up
        assert "login refused" in client.detail
        with pytest.raises(AmiError, match="down"):
            await client.action({"Action": "Ping"})
    finally:
        await client.close()
        await fake.stop()


async def test_unreachable_server_reports_why() -> None:
    fake = FakeAmi()
    port = await fake.start()
    await fake.stop()  # nothing listens there now
    client = await _client(port, EventBus())
    try:
        await until(lambda: "cannot connect" in client.detail, 3, every=0.02)
        assert not client.up
    finally:
        await client.close()


async def test_the_link_is_up_once_asterisk_has_fully_booted() -> None:
    """An Asterisk still booting takes logins before its channel drivers are loaded: no action (no Originate)
    goes out until it says FullyBooted."""
    fake, bus = FakeAmi(booted=False), EventBus()
    port = await fake.start()
    client = await _client(port, bus)
    try:
        await until(lambda: fake.logins == 1, 3, every=0.02)
        assert not await client.wait_up(0.5), "up before Asterisk had booted"
        assert "booting" in client.detail
        with pytest.raises(AmiError):
            await client.action({"Action": "Status"})
        fake.send_event(Event="FullyBooted", Privilege="system,all", Status="Fully Booted")
        assert await client.wait_up(3)
        assert client.detail == "logged in"
    finally:
        await client.close()
        await fake.stop()


async def test_without_a_fully_booted_event_the_link_comes_up_after_the_boot_wait(
        caplog: pytest.LogCaptureFixture) -> None:
    fake, bus = FakeAmi(booted=False), EventBus()
    port = await fake.start()
    client = await _client(port, bus, boot_wait=0.3)
    try:
        assert await client.wait_up(3)
        assert "never said it had fully booted" in client.detail
        assert "no FullyBooted event" in caplog.text and "'system' class" in caplog.text
    finally:
        await client.close()
        await fake.stop()
