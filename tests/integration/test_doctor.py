"""``warroom doctor`` against a healthy sandbox deployment and against each broken part: a wrong AMI secret,
the Stasis app not registered (the service stopped), the database not migrated or newer than the code, a
recordings directory Asterisk cannot write, a test call that is not answered. (A rejected trunk:
``test_provider_trunk.py``.) The clock check is skipped here by name: this machine's kernel clock is not
disciplined by NTP (the check itself is unit-tested)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import migrate
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.integration.dialer_harness import HOLD, daytime_clock
from tests.integration.doctor_run import run_doctor
from tests.isolation import node_name
from warroom.compose import build_sandbox, build_service, ivr_paths
from warroom.service import Service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration

FARM_PORT = 30070
HEALTHY = ("AMI login", "AMI permissions", "ARI", "ARI Stasis app", "FastAGI from Asterisk", "trunk lines",
           "test call on lines", "database", "sounds directory", "recordings directory", "time zone")


@pytest.fixture
def node(sandbox: Sandbox, tmp_path: Path) -> Iterator[Settings]:
    ast = AsteriskSettings(node=node_name("doctorwr"), ami_port=30038, http_port=30088, sip_port=30060, rtp_start=15000,
                           rtp_end=15499, farm_port=0, agi_port=30073, ping_interval=1.0, reconnect_max=2.0,
                           trunks=[TrunkSettings(name="lines", port=FARM_PORT)], sandbox_cache=sandbox.cache)
    settings = with_secrets(Settings(state_dir=tmp_path / "state", asterisk=ast,
                                     database_url=f"sqlite:///{tmp_path / 'doctor.db'}"))
    box = build_sandbox(ast)
    farm = PhoneFarm({"+919000000002": Behaviour("busy")}, port=FARM_PORT, media_port=17700,
                     workdir=tmp_path / "farm", default=Behaviour("answer", hold_ms=500))
    try:
        box.down()
        box.up(timeout=60)
        farm.start()
    except (SandboxError, RuntimeError) as exc:
        pytest.fail(f"the doctor's sandbox could not start: {exc}", pytrace=False)
    yield settings
    farm.stop()
    box.down()


async def start_service(settings: Settings) -> Service:
    service = build_service(settings, clock=daytime_clock(), stasis=HOLD)
    migrate.upgrade(service.db.engine)
    await service.start()
    assert await service.ami.wait_up(10) and await service.ari.wait_up(10)
    return service


def doctor(settings: Settings, tmp: Path, *args: str, **env: str) -> dict[str, dict[str, object]]:
    return run_doctor(settings, tmp, "--skip", "clock", *args, **env)


async def test_a_healthy_deployment_then_each_broken_part(node: Settings, tmp_path: Path) -> None:
    service = await start_service(node)
    try:
        await _while_the_service_runs(node, tmp_path)
    finally:
        await service.stop()
    # the service gone: its Stasis app and its FastAGI service with it
    gone = await asyncio.to_thread(doctor, node, tmp_path)
    assert gone["exit"] == 1 and gone["ARI Stasis app"]["ok"] is False and gone["ARI"]["ok"] is True
    assert "start the service" in str(gone["ARI Stasis app"]["fix"])
    assert gone["FastAGI from Asterisk"]["ok"] is False


async def _while_the_service_runs(node: Settings, tmp_path: Path) -> None:
    found = await asyncio.to_thread(doctor, node, tmp_path, "--test-number", "+919000000001")
    assert found["exit"] == 0 and found["ok"] is True, found
    assert all(found[name]["ok"] for name in HEALTHY), found
    assert "answered" in str(found["test call on lines"]["detail"])

    busy = await asyncio.to_thread(doctor, node, tmp_path, "--test-number", "+919000000002")
    assert busy["exit"] == 1 and "SIP 486" in str(busy["test call on lines"]["detail"]), busy["test call on lines"]

    wrong = await asyncio.to_thread(doctor, node, tmp_path, WARROOM_ASTERISK__AMI_SECRET="not-the-secret")
    assert wrong["exit"] == 1 and wrong["AMI login"]["ok"] is False
    assert "login refused" in str(wrong["AMI login"]["detail"]) and "secret" in str(wrong["AMI login"]["fix"])
    assert wrong["ARI"]["ok"] is True  # the rest still says what it can

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    unmigrated = await asyncio.to_thread(doctor, node, tmp_path, WARROOM_DATABASE_URL=f"sqlite:///{empty}")
    assert unmigrated["database"]["ok"] is False and "not migrated" in str(unmigrated["database"]["detail"])
    assert unmigrated["database"]["fix"] == "run `warroom db upgrade`"
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    ahead = await asyncio.to_thread(doctor, node, tmp_path, WARROOM_DATABASE_URL=f"sqlite:///{newer}")
    assert "newer than this warroom" in str(ahead["database"]["detail"])

    recordings = ivr_paths(node).recordings
    st = recordings.stat()
    os.chown(recordings, 0, 0)
    os.chmod(recordings, 0o755)
    try:
        locked = await asyncio.to_thread(doctor, node, tmp_path)
    finally:
        os.chown(recordings, st.st_uid, st.st_gid)
        os.chmod(recordings, st.st_mode & 0o7777)
    assert locked["exit"] == 1 and locked["recordings directory"]["ok"] is False
    assert "Asterisk (uid" in str(locked["recordings directory"]["detail"]) and "cannot write" in \
        str(locked["recordings directory"]["detail"])

