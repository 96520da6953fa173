"""Voter outreach through the real Asterisk: a call to a missed-call number (a DID on the lines trunk) is
refused unanswered after its number is taken; it is logged with the number's purpose, the caller added to the
outreach list with consent "missed call" and a call back queued within the calling rules; a second call the
same day is over the call-back cap, and a withheld number is ignored and counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db import migrate
from db.outreach import Contact, ListEntry, MissedCall, OutreachList
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.caller import call_in
from tests.integration.dialer_harness import daytime_clock
from tests.isolation import node_name
from tests.waiting import until
from warroom.compose import build_sandbox, build_service
from warroom.feature_settings import OutreachSettings
from warroom.service import Service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration

MISSED_DID = "5559000"
CALLER = "+919826055501"


def outreach_settings(sandbox: Sandbox, tmp: Path) -> Settings:
    trunk = TrunkSettings(name="lines", lines=4, host="127.0.0.1", port=32070, dids={MISSED_DID: "missed_call"})
    ast = AsteriskSettings(node=node_name("outreachwr"), ami_port=32038, http_port=32088, sip_port=32060,
                           rtp_start=16000, rtp_end=16499, farm_port=0, agi_port=32073, ping_interval=1.0,
                           action_timeout=5.0, reconnect_max=2.0, trunks=[trunk], sandbox_cache=sandbox.cache)
    return with_secrets(Settings(state_dir=tmp / "state", asterisk=ast, database_url=f"sqlite:///{tmp / 'wr.db'}",
                                 outreach=OutreachSettings(callbacks_per_day=1, missed_call_refuse="busy",
                                                           missed_call_purposes={MISSED_DID: "join"})))


@pytest.fixture(scope="module")
def node(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Path]]:
    tmp = tmp_path_factory.mktemp("outreach")
    settings = outreach_settings(sandbox, tmp)
    box = build_sandbox(settings.asterisk)
    try:
        box.down()
        box.up(timeout=60)
    except SandboxError as exc:
        pytest.fail(f"the outreach node could not start: {exc}", pytrace=False)
    yield settings, tmp
    box.down()


@pytest.fixture
async def service(node: tuple[Settings, Path]) -> AsyncIterator[Service]:
    settings, _ = node
    service = build_service(settings, clock=daytime_clock())
    migrate.upgrade(service.db.engine)
    await service.start()
    assert await service.ami.wait_up(10), service.ami.detail
    assert await service.ari.wait_up(10), service.ari.detail
    yield service
    await service.stop()


def missed(service: Service) -> list[tuple[str | None, str]]:
    with service.db.sessions() as s:
        return [(m.phone, m.outcome) for m in s.scalars(select(MissedCall).order_by(MissedCall.id))]


async def test_missed_call_refused_logged_added_and_called_back(node: tuple[Settings, Path],
                                                                service: Service) -> None:
    _, tmp = node

    async def ring(number: str, name: str) -> list[str]:
        result = await asyncio.to_thread(call_in, number, service=MISSED_DID, sip_port=32060, workdir=tmp / name,
                                         hold_ms=2000, local_port=32090, media_port=16600, timeout=20)
        return result.events

    events = await ring(CALLER, "first")
    assert "answered" not in events  # never answered: the missed call costs the caller nothing
    await until(lambda: missed(service) == [(CALLER, "queued")], 10, "the missed call logged, a call back queued")
    with service.db.sessions() as s:
        call = s.scalars(select(MissedCall)).one()
        assert (call.did, call.purpose) == (MISSED_DID, "join")
        assert call.callback_at is not None and abs((call.callback_at - call.at).total_seconds()) < 1  # in the window
        contact = s.scalar(select(Contact).where(Contact.phone == CALLER))
        assert contact is not None and contact.consent_source == "missed call"
        listed = s.scalar(select(OutreachList.name).join(ListEntry, ListEntry.list_id == OutreachList.id)
                          .where(ListEntry.contact_id == contact.id))
        assert listed == "missed calls: join"

    assert "answered" not in await ring(CALLER, "second")
    await until(lambda: missed(service)[-1:] == [(CALLER, "capped")], 10, "a second call back today refused (cap 1)")
    assert "answered" not in await ring("anonymous", "withheld")
    await until(lambda: missed(service)[-1:] == [(None, "withheld")], 10, "a withheld number ignored and counted")
    assert service.outreach is not None
    assert await service.outreach.missed_figures() == {"queued": 1, "capped": 1, "withheld": 1}
