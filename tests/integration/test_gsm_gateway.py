"""The GSM gateway preset through real Asterisk: each port of the gateway (a SIM) is a SIPp UAS of its own,
reached with the port's prefix; the campaign's calls spread over the ports, round robin, and a port never
carries two calls at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db import migrate
from db.campaigns import Disposition
from dialer.campaigns import Selection, change_state, create_campaign
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.integration.dialer_harness import FAST_RETRY, HOLD, Harness, daytime_clock, make_directory
from tests.isolation import node_name
from tests.waiting import until
from warroom.compose import build_sandbox, build_service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration

PORTS = {"1": 29071, "2": 29072, "3": 29073}   # the gateway's ports: prefix -> its SIP port
PHONES = {f"p{i}": f"+91982601{i:04d}" for i in range(9)}


@pytest.fixture
def gateway(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Settings, dict[str, PhoneFarm]]]:
    trunk = TrunkSettings(name="gsm", kind="gsm", host="127.0.0.1", port=PORTS["1"], number_format="ten",
                          qualify_seconds=0,  # these SIPp ports answer INVITEs only, not OPTIONS
                          ports=[{"prefix": prefix, "port": port} for prefix, port in PORTS.items()])
    ast = AsteriskSettings(node=node_name("gsmwr"), ami_port=29038, http_port=29088, sip_port=29060, rtp_start=14500,
                           rtp_end=14999, farm_port=0, agi_port=29074, ping_interval=1.0, reconnect_max=2.0,
                           trunks=[trunk], sandbox_cache=sandbox.cache)
    settings = with_secrets(Settings(state_dir=tmp_path / "state", asterisk=ast,
                                     database_url=f"sqlite:///{tmp_path / 'gsm.db'}"))
    settings.dialer = settings.dialer.model_copy(update={
        "ring_timeout": 8.0, "min_gap_minutes": 0, "max_per_day": 20, "settle_seconds": 1.0, "poll_interval": 0.5,
        "reconcile_grace": 0.5})
    box = build_sandbox(ast)
    farms = {prefix: PhoneFarm({}, port=port, media_port=17100 + 100 * int(prefix), workdir=tmp_path / f"port{prefix}",
                               default=Behaviour("answer", hold_ms=1500)) for prefix, port in PORTS.items()}
    try:
        box.down()
        box.up(timeout=60)
        for farm in farms.values():
            farm.start()
    except (SandboxError, RuntimeError) as exc:
        pytest.fail(f"the gateway's test setup could not start: {exc}", pytrace=False)
    yield settings, farms
    for farm in farms.values():
        farm.stop()
    box.down()


def busy_intervals(farm: PhoneFarm) -> list[tuple[int, int]]:
    """(first tick, last tick) of each call the port saw, from its log (ms since the port's SIPp started)."""
    seen: dict[str, list[int]] = {}
    for line in farm.log_path.read_text(errors="replace").splitlines():
        parts = line.split(" ", 5)
        if len(parts) == 6 and parts[0] == "farm":
            seen.setdefault(parts[2], []).append(int(parts[1]))
    return sorted((min(ticks), max(ticks)) for ticks in seen.values())


async def test_calls_spread_over_the_ports_one_at_a_time(gateway: tuple[Settings, dict[str, PhoneFarm]]) -> None:
    settings, farms = gateway
    service = build_service(settings, clock=daytime_clock(), stasis=HOLD)
    migrate.upgrade(service.db.engine)
    people = make_directory(service.db.sessions, PHONES)
    await service.start()
    h = Harness(service, people)
    try:
        assert await service.ami.wait_up(10) and await service.ari.wait_up(10)
        with h.sessions.begin() as s:
            c = create_campaign(s, name="through the gateway", mode="ivr", selection=Selection(), trunk="gsm",
                                retry=FAST_RETRY)
            change_state(s, c.name, "start")
            cid = c.id
        peak = 0

        def done() -> bool:
            nonlocal peak
            lines = service.dialer.snapshot()["lines"]["gsm"]  # type: ignore[index]
            peak = max(peak, lines["outbound"])
            assert len(lines["ports_in_use"]) == len(set(lines["ports_in_use"]))
            return h.campaign_state(cid) == "completed"

        await until(done, 90, "every phone called through the gateway", every=0.05)
        assert {a.disposition for a in h.attempts(cid)} == {Disposition.answered}
        assert peak == len(PORTS)
    finally:
        await service.stop()

    dialed: dict[str, set[str]] = {}
    for prefix, farm in farms.items():
        calls = [c for c in farm.calls() if c.answered]
        dialed[prefix] = {c.number for c in calls}
        assert all(n.startswith(prefix) and len(n) == len(prefix) + 10 for n in dialed[prefix]), dialed
        assert len(calls) >= 2, f"port {prefix} took {len(calls)} calls: round robin spreads them"
        intervals = busy_intervals(farm)
        assert all(end <= start for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False)), \
            f"port {prefix} carried two calls at once: {intervals}"
    assert sum(len(v) for v in dialed.values()) == len(PHONES)
    assert {n[1:] for v in dialed.values() for n in v} == {p[3:] for p in PHONES.values()}
