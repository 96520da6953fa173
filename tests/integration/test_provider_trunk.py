"""A real provider trunk: a second sandbox Asterisk plays the provider (``tests/provider/``). The war room
registers with a password, dials through it to the SIPp phones (numbers in the provider's format), takes a
hotline call on a DID and a missed call on another; a wrong password shows as "rejected: 401/403" and the
campaign waits instead of burning its targets; when the provider goes away mid-campaign the calls end
congestion or failed with the reason, and the targets are dialed again once it is back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from accounts.service import add_user
from db import migrate
from db.campaigns import Campaign, Disposition, Target, TargetState
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from events.asterisk import StasisStarted
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.integration.dialer_harness import FAST_RETRY, HOLD, Harness, daytime_clock, make_directory
from tests.integration.doctor_run import run_doctor
from tests.integration.provider_node import PROVIDER_IP, ProviderPorts, provider_node
from tests.isolation import node_name
from tests.waiting import until
from warroom.compose import build_sandbox, build_service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration

ACCOUNT, PASSWORD = "warroom1", "provider-pass-1"
HOTLINE_DID, MISSED_DID = "5551000", "5551001"
PORTS = ProviderPorts(sip=27060, ami=27038, http=27088, rtp_start=13500, farm=27070)
PHONES = {"asha": "+919826011001", "ravi": "+919826011002", "meena": "+919826011003"}
SUPERVISOR = ("sup", "Supervisor-pass-1")
PATIENT_RETRY = parse_retry(["no_answer=2/1s", "busy=3/1s", "congestion=6/2s", "failed=6/2s"])


def national(e164: str) -> str:
    return "0" + e164[3:]


@dataclass
class Lines:
    settings: Settings
    warroom: Sandbox
    provider: Sandbox
    tmp: Path

    def farm(self, behaviours: dict[str, Behaviour], name: str = "farm") -> PhoneFarm:
        farm = PhoneFarm(behaviours, port=PORTS.farm, media_port=17000, workdir=self.tmp / name)
        farm.start()
        return farm


def warroom_settings(sandbox: Sandbox, tmp: Path, password: str) -> Settings:
    trunk = TrunkSettings(name="prov", kind="register", host=PROVIDER_IP, port=PORTS.sip, username=ACCOUNT,
                          password=SecretStr(password), number_format="national", qualify_seconds=1,
                          retry_seconds=2, caller_id="War Room <07554000000>",
                          dids={HOTLINE_DID: "hotline", MISSED_DID: "missed_call:callbacks"})
    ast = AsteriskSettings(node=node_name("trunkwr"), ami_port=26038, http_port=26088, sip_port=26060, rtp_start=13000,
                           rtp_end=13499, farm_port=0, agi_port=26073, ping_interval=1.0, action_timeout=5.0,
                           reconnect_max=2.0, trunks=[trunk], sandbox_cache=sandbox.cache)
    settings = with_secrets(Settings(state_dir=tmp / "state", asterisk=ast,
                                     database_url=f"sqlite:///{tmp / 'wr.db'}"))
    settings.http.metrics_token = SecretStr("metrics-token")
    settings.dialer = settings.dialer.model_copy(update={
        "ring_timeout": 10.0, "min_gap_minutes": 0, "max_per_day": 20, "settle_seconds": 1.0, "poll_interval": 0.5,
        "reconcile_grace": 0.5, "sweep_after_seconds": 10})
    return settings


@pytest.fixture
def lines(sandbox: Sandbox, tmp_path: Path) -> Iterator[Lines]:
    """The provider node and the war room's node (side by side with the session's node), both started."""
    provider = provider_node(sandbox.cache, tmp_path, account=ACCOUNT, password=PASSWORD,
                             dids=[HOTLINE_DID, MISSED_DID], ports=PORTS)
    settings = warroom_settings(sandbox, tmp_path, PASSWORD)
    warroom = build_sandbox(settings.asterisk)
    try:
        for box in (provider, warroom):
            box.down()
            box.up(timeout=60)
    except SandboxError as exc:
        pytest.fail(f"a sandbox node could not start: {exc}", pytrace=False)
    yield Lines(settings, warroom, provider, tmp_path)
    warroom.down()
    provider.down()


@pytest.fixture
async def service(lines: Lines) -> AsyncIterator[Harness]:
    h = await start(lines.settings)
    yield h
    await h.service.stop()


async def start(settings: Settings) -> Harness:
    service = build_service(settings, clock=daytime_clock(), stasis=HOLD)
    migrate.upgrade(service.db.engine)
    people = make_directory(service.db.sessions, PHONES)
    with service.db.sessions.begin() as s:
        add_user(s, SUPERVISOR[0], "supervisor", SUPERVISOR[1])
    await service.start()
    assert await service.ami.wait_up(10), service.ami.detail
    assert await service.ari.wait_up(10), service.ari.detail
    return Harness(service, people)


def campaign(h: Harness, name: str, *, start: bool = True, retry: dict[str, dict[str, int]] = FAST_RETRY) -> int:
    with h.sessions.begin() as s:
        c = create_campaign(s, name=name, mode="ivr", selection=Selection(), trunk="prov", retry=retry)
        if start:
            change_state(s, name, "start")
        return c.id


def trunk(h: Harness) -> dict[str, Any]:
    return dict(h.service.live_figures()["trunks"]["prov"])


async def dashboard(h: Harness) -> tuple[dict[str, Any], str]:
    """What a signed-in supervisor's dashboard is sent (its snapshot), and what Prometheus scrapes."""
    transport = httpx.ASGITransport(app=h.service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warroom") as client:
        page = await client.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        await client.post("/signin", data={"username": SUPERVISOR[0], "password": SUPERVISOR[1],
                                           "csrf_token": csrf.group(1), "next": "/dashboard"})
        snapshot = (await client.get("/api/dashboard")).json()
        metrics = (await client.get("/metrics", headers={"Authorization": "Bearer metrics-token"})).text
    return snapshot, metrics


async def test_register_dial_out_and_take_calls_on_the_dids(lines: Lines, service: Harness) -> None:
    h = service
    await until(lambda: trunk(h)["state"] == "up", 20, "the trunk registered with the provider")
    farm = lines.farm({national(p): Behaviour("answer", hold_ms=1500) for p in PHONES.values()})
    try:
        cid = campaign(h, "through the provider")
        await until(lambda: h.campaign_state(cid) == "completed", 60, "the campaign done through the provider")
        attempts = h.attempts(cid)
        assert {a.disposition for a in attempts} == {Disposition.answered}, [(a.phone, a.detail) for a in attempts]
        assert {c.number for c in farm.calls() if c.answered} == {national(p) for p in PHONES.values()}
    finally:
        farm.stop()

    started: list[StasisStarted] = []
    h.bus.subscribe(StasisStarted, started.append)
    caller = asyncio.create_task(asyncio.to_thread(
        call_in, PHONES["asha"], service=HOTLINE_DID, host=PROVIDER_IP, sip_port=PORTS.sip,
        workdir=lines.tmp / "caller", hold_ms=3000, local_port=27090, media_port=17500))
    await until(lambda: any(e.args[:2] == ("hotline", HOTLINE_DID) for e in started), 30,
                "the DID call in the war room's hotline", caller)
    call = next(e for e in started if e.args[0] == "hotline")
    assert call.args[2] == str(h.people["asha"]), call.args  # the hotline knew the caller
    assert call.caller_number.endswith(PHONES["asha"][-10:])
    await caller

    callbacks = campaign(h, "callbacks", start=False)
    with h.sessions.begin() as s:  # ravi was reached already; his missed call asks for a call back
        s.execute(Target.__table__.update().where(Target.campaign_id == callbacks).values(state=TargetState.done))
    result = await asyncio.to_thread(call_in, PHONES["ravi"], service=MISSED_DID, host=PROVIDER_IP,
                                     sip_port=PORTS.sip, workdir=lines.tmp / "missed", hold_ms=2000,
                                     local_port=27091, media_port=17600, timeout=30)
    assert "answered" not in result.events  # a missed call is never answered: it costs the caller nothing
    await until(lambda: [(t.person_id, t.state) for t in h.targets(callbacks) if t.state == TargetState.queued]
                == [(h.people["ravi"], TargetState.queued)], 15, "ravi queued to be called back")


async def test_wrong_password_is_rejected_and_the_campaign_waits(lines: Lines, tmp_path: Path) -> None:
    settings = warroom_settings(build_sandbox(lines.settings.asterisk), tmp_path / "wrong", "not-the-password")
    lines.warroom.context.update(build_sandbox(settings.asterisk).context)
    await asyncio.to_thread(lines.warroom.up, 60)  # re-rendered with the wrong password and reloaded
    h = await start(settings)
    try:
        await until(lambda: trunk(h)["state"] == "rejected", 20, "the trunk rejected")
        assert "rejected: 401/403" in trunk(h)["why"]
        cid = campaign(h, "waits for the trunk")
        await until(lambda: "rejected: 401/403" in (_waiting(h, cid) or ""), 10, "the campaign saying why it waits")
        snapshot, metrics = await dashboard(h)
        assert "rejected: 401/403" in snapshot["live"]["trunks"]["prov"]["why"]
        row = next(c for c in snapshot["board"]["campaigns"] if c["id"] == cid)
        assert "trunk prov rejected: 401/403" in row["waiting"]
        assert 'warroom_trunk_up{state="rejected",trunk="prov"} 0.0' in metrics
        found = await asyncio.to_thread(run_doctor, settings, tmp_path)
        assert found["exit"] == 1 and found["trunk prov"]["ok"] is False, found
        assert "rejected: 401/403" in found["trunk prov"]["detail"] and "password" in found["trunk prov"]["fix"]
        assert h.attempts(cid) == []  # nothing dialed, nothing burnt
        assert {t.state for t in h.targets(cid)} == {TargetState.queued}

        # the provider is told the password we have: registered on the next retry, and the campaign dials
        farm = lines.farm({national(p): Behaviour("answer", hold_ms=1000) for p in PHONES.values()})
        try:
            lines.provider.context["password"] = "not-the-password"
            await asyncio.to_thread(lines.provider.up, 60)
            await until(lambda: trunk(h)["state"] == "up", 30, "the trunk registered after the fix")
            await until(lambda: h.campaign_state(cid) == "completed", 60, "the campaign done after all")
            assert _waiting(h, cid) is None
            assert {a.disposition for a in h.attempts(cid)} == {Disposition.answered}
        finally:
            farm.stop()
    finally:
        await h.service.stop()


async def test_provider_gone_mid_campaign(lines: Lines, service: Harness) -> None:
    h = service
    await until(lambda: trunk(h)["state"] == "up", 20, "the trunk registered")
    ringing = lines.farm({national(p): Behaviour("noanswer") for p in PHONES.values()}, "ringing")
    try:
        # a failed call is a try used up until the trunk's check (every second here) notices the provider gone:
        # real campaigns wait minutes between congestion tries, the test's seconds-long gaps need more tries
        cid = campaign(h, "provider goes away", retry=PATIENT_RETRY)
        await until(lambda: len(ringing.calls()) == len(PHONES), 20, "every phone ringing through the provider")
    finally:
        ringing.stop()
    await asyncio.to_thread(lines.provider.down)
    await until(lambda: trunk(h)["state"] == "unreachable", 15, "the trunk unreachable")
    await until(lambda: h.open_attempts() == 0, 30, "the calls in flight settled")
    # the calls ringing when the provider went (and any retried before its absence was noticed) ended
    # congestion or failed, each with the reason: the provider's SIP answer, or the trunk being unreachable
    first = h.attempts(cid)
    assert len(first) >= len(PHONES)
    assert {a.disposition for a in first} <= {Disposition.congestion, Disposition.failed}, \
        [(a.disposition, a.detail) for a in first]
    assert all("trunk prov" in (a.detail or "") or a.sip_status for a in first), [a.detail for a in first]
    # while the provider is away nothing more is dialed (a sleep: proving that nothing happens)
    await asyncio.sleep(3)
    assert len(h.attempts(cid)) == len(first)
    assert "unreachable" in (_waiting(h, cid) or "")
    assert {t.state for t in h.targets(cid)} == {TargetState.queued}  # waiting, not burnt

    answering = lines.farm({national(p): Behaviour("answer", hold_ms=1000) for p in PHONES.values()}, "back")
    try:
        await asyncio.to_thread(lines.provider.up, 60)
        await until(lambda: trunk(h)["state"] == "up", 30, "the trunk registered again")
        await until(lambda: h.campaign_state(cid) == "completed", 60, "the campaign done once the provider is back")
        retried = [a for a in h.attempts(cid) if a.disposition is Disposition.answered]
        assert {a.phone for a in retried} == set(PHONES.values())
    finally:
        answering.stop()


def _waiting(h: Harness, campaign_id: int) -> str | None:
    with h.sessions() as s:
        return s.scalar(select(Campaign.waiting).where(Campaign.id == campaign_id))
