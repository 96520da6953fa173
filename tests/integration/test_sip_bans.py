"""SIP exposed to a network: a SIPp client guessing an operator's password is banned after N tries (its
next REGISTER refused even with the right password), while the operator's softphone, with the right
password from an allowed network, still registers; a softphone outside the operators' networks is refused;
the ban shows on the dashboard's figures and in the audit log, and ends when lifted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.service import add_user
from audit.log import Actor
from db import migrate
from db.audit import AuditEntry
from db.sip_bans import SipBan
from db.users import User
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.sip_register import register
from sipguard.service import BanService
from tests.integration.dialer_harness import HOLD, daytime_clock
from tests.isolation import node_name
from tests.waiting import until
from warroom.compose import build_sandbox, build_service
from warroom.feature_settings import SipGuardSettings
from warroom.service import Service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration

SIP_PORT = 28060
ATTACKER, OUTSIDER, OPERATOR = "127.0.0.66", "127.0.0.200", "127.0.0.1"


@pytest.fixture
def guarded(sandbox: Sandbox, tmp_path: Path) -> Iterator[Settings]:
    ast = AsteriskSettings(node=node_name("guardwr"), ami_port=28038, http_port=28088, sip_port=SIP_PORT,
                           rtp_start=14000, rtp_end=14499, farm_port=0, agi_port=28073, ping_interval=1.0,
                           reconnect_max=2.0, trunks=[TrunkSettings(name="lines", port=28070)],
                           operator_networks=["127.0.0.0/25"], sandbox_cache=sandbox.cache)
    settings = with_secrets(Settings(state_dir=tmp_path / "state", asterisk=ast,
                                     database_url=f"sqlite:///{tmp_path / 'guard.db'}",
                                     sip_guard=SipGuardSettings(max_failures=3, never_ban=["127.0.0.1/32"])))
    box = build_sandbox(ast)
    try:
        box.down()
        box.up(timeout=60)
    except SandboxError as exc:
        pytest.fail(f"the sandbox node could not start: {exc}", pytrace=False)
    yield settings
    box.down()


@pytest.fixture
async def service(guarded: Settings) -> AsyncIterator[Service]:
    service = build_service(guarded, clock=daytime_clock(), stasis=HOLD)
    migrate.upgrade(service.db.engine)
    with service.db.sessions.begin() as s:
        add_user(s, "asha", "operator", "Operator-pass-1")
    await service.start()
    assert await service.ami.wait_up(10), service.ami.detail
    yield service
    await service.stop()


async def test_a_password_guesser_is_banned_while_the_operator_still_registers(service: Service,
                                                                                tmp_path: Path) -> None:
    with service.db.sessions() as s:
        user = s.scalar(select(User).where(User.username == "asha"))
        assert user is not None
        endpoint, secret = user.sip_username, user.sip_secret
    await until(lambda: service.softphones.configured(endpoint), 20, "the operator's endpoint in Asterisk")

    async def reg(password: str, ip: str, port: int) -> int | None:
        return await asyncio.to_thread(register, endpoint, password, server="127.0.0.1", port=SIP_PORT,
                                       local_ip=ip, local_port=port, workdir=tmp_path / f"{ip}-{port}")

    assert await reg(secret, OPERATOR, 28100) == 200
    # the right password from outside the operators' networks does not register: Asterisk answers as if the
    # password were wrong (it never tells a stranger which accounts exist)
    assert await reg(secret, OUTSIDER, 28101) == 401
    for n in range(3):
        assert await reg(f"guess{n}", ATTACKER, 28110 + n) == 401
    await until(lambda: service.guard is not None and service.guard.banned == [ATTACKER], 10, "the guesser banned")
    assert await reg(secret, ATTACKER, 28120) in (403, None)  # refused before any password is looked at
    assert await reg(secret, OPERATOR, 28121) == 200           # the operator is not affected

    assert service.live_figures()["banned"] == [ATTACKER]      # what the dashboard shows
    with service.db.sessions() as s:
        ban = s.scalar(select(SipBan))
        assert ban is not None and ban.address == ATTACKER and ban.failures == 3
        assert "ChallengeResponseFailed" in ban.reason
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "sip.ban"))
        assert entry is not None and entry.target == f"address:{ATTACKER}" and entry.actor == "system"

    await BanService(service.db).lift(ATTACKER, Actor("admin"))
    await until(lambda: service.guard is not None and service.guard.banned == [], 15, "the ban lifted")
    assert await reg(secret, ATTACKER, 28130) == 200
