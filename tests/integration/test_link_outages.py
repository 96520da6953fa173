"""Link outages on one node, mid-campaign: the ARI link half-open for 25 s (a proxy that stops forwarding
without closing), and the database's connections cut five times (PostgreSQL). Every attempt ends in one
terminal state, every answered IVR call has a result, the campaign finishes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from db.campaigns import AttemptState, Disposition
from db.engine import make_engine
from dialer.campaigns import parse_retry
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour
from tests.conftest import PG_URL, FarmFactory, pg_schema
from tests.integration.dialer_harness import FAST_RETRY, Harness, start_harness, stop_harness
from tests.integration.ivr_harness import MEMBERS, booth_directory, booths, calls, write_quick_script
from tests.integration.tcp_proxy import FreezableProxy
from tests.waiting import until
from warroom.settings import IvrSettings, Settings

pytestmark = pytest.mark.integration


def phone(name: str) -> str:
    return MEMBERS[name][0]


def with_scripts(settings: Settings, tmp: Path) -> Settings:
    return settings.model_copy(update={"ivr": IvrSettings(scripts_dir=write_quick_script(tmp / "scripts"))})


def every_attempt_settled_with_results(h: Harness, cid: int) -> None:
    attempts = h.attempts(cid)
    assert attempts and all(a.state is AttemptState.ended and a.disposition is not None for a in attempts), \
        [(a.id, a.state, a.disposition) for a in attempts]
    answered = [a for a in attempts if a.disposition is Disposition.answered]
    assert answered and all(a.result is not None for a in answered), [(a.id, a.result, a.detail) for a in answered]
    assert h.campaign_state(cid) == "completed"
    assert len(h.dialer.active) == 0


async def test_a_call_answered_while_the_ari_link_is_frozen_still_hears_its_script(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    proxy = FreezableProxy("127.0.0.1", settings.asterisk.http_port)
    port = await proxy.start()
    h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True, directory=booth_directory,
                            ari_port=port)
    try:
        # Asha stays on the line a minute, hearing nothing at first; Deepak gives up after 4 s of silence
        phone_farm({phone("Asha"): Behaviour("answer", hold_ms=60_000),
                    phone("Deepak"): Behaviour("answer", hold_ms=4000)})
        proxy.freeze()
        # a call that failed is tried again 30 s later: after the outage
        cid = h.campaign("frozen", selection=booths(h, "Asha", "Deepak"), scripts={"strong": "quick"},
                         retry=parse_retry(["failed=2/30s", "no_answer=1/1s"]), use_alternate=False)
        await until(lambda: len([a for a in h.attempts(cid) if a.answered_at]) >= 2, 20,
                    "both calls answered while the link is frozen")
        await asyncio.sleep(25)  # the outage itself: the link stays half-open this long
        assert calls(h) == [], "nothing reached the IVR while the link was frozen"
        proxy.thaw()
        await until(lambda: h.campaign_state(cid) == "completed", 120, "the campaign to finish")
        every_attempt_settled_with_results(h, cid)
        by_person = {c.person_id: c for c in calls(h)}
        assert by_person[h.people["Asha"]].result is not None  # adopted when the link came back
        assert any("adopting it" in r.getMessage() for r in caplog.records)
        deepak = [a for a in h.attempts(cid) if a.person_id == h.people["Deepak"]]
        assert deepak[0].disposition is Disposition.failed and "script never started" in (deepak[0].detail or "")
        assert len(deepak) >= 2 and deepak[-1].result is not None, "called again, and heard the script"
    finally:
        await stop_harness(h)
        await proxy.close()


async def test_the_database_cut_five_times_mid_campaign(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    app = f"warroom-{uuid.uuid4().hex[:8]}"
    with pg_schema("cut") as schema:
        url = f"{PG_URL}?options=-csearch_path%3D{schema}&application_name={app}"
        h = await start_harness(with_scripts(settings, tmp_path), tmp_path, {}, ivr=True,
                                directory=booth_directory, database_url=url)
        admin = make_engine(PG_URL)
        try:
            phone_farm({phone(n): Behaviour("answer", digits="1", delay_ms=1500, hold_ms=5000)
                        for n in ("Asha", "Bina", "Chetan", "Deepak", "Esha", "Farhan")})
            cid = h.campaign("cut", selection=booths(h, "Asha", "Bina", "Chetan", "Deepak", "Esha", "Farhan"),
                             scripts={s: "quick" for s in ("strong", "weak", "swing")}, retry=FAST_RETRY,
                             use_alternate=False)
            await until(lambda: len(h.attempts(cid)) >= 2, 20, "the campaign under way")
            cut = 0
            for _ in range(5):
                with admin.connect() as conn:
                    cut += len(conn.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :app"),
                        {"app": app}).all())
                await asyncio.sleep(2)
            assert cut >= 5, "the service's connections were cut"
            await until(lambda: h.campaign_state(cid) == "completed", 180, "the campaign to finish")
            every_attempt_settled_with_results(h, cid)
            assert not any("never retrieved" in r.getMessage() for r in caplog.records)
        finally:
            await stop_harness(h)
            admin.dispose()
