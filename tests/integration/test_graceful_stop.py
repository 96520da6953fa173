"""``warroom serve`` stopped by SIGTERM (as systemd stops it) in the middle of a campaign: no new call is
started, the calls in progress finish and are settled, HTTP answers meanwhile, and it exits 0; its log
lines are JSON objects when asked (the journal)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from db import migrate
from db.campaigns import Attempt, AttemptState, Disposition, Target
from db.engine import Database
from dialer.campaigns import Selection, change_state, create_campaign
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.integration.dashboard_app import free_port
from tests.integration.dialer_harness import make_directory
from tests.integration.doctor_run import doctor_env
from tests.isolation import node_name
from warroom.compose import build_sandbox
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration

FARM_PORT = 31070
PHONES = {f"p{i}": f"+91982602{i:04d}" for i in range(8)}


def afternoon_zone() -> str:
    """A time zone where it is about noon now (the calling window is open whatever the real hour)."""
    offset = 12 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


@pytest.fixture
def node(sandbox: Sandbox, tmp_path: Path) -> Iterator[Settings]:
    ast = AsteriskSettings(node=node_name("stopwr"), ami_port=31038, http_port=31088, sip_port=31060, rtp_start=15500,
                           rtp_end=15999, farm_port=0, agi_port=31073, trunks=[TrunkSettings(name="lines", lines=3,
                                                                                            port=FARM_PORT)],
                           sandbox_cache=sandbox.cache)
    settings = with_secrets(Settings(state_dir=tmp_path / "state", asterisk=ast,
                                     database_url=f"sqlite:///{tmp_path / 'stop.db'}"))
    box = build_sandbox(ast)
    farm = PhoneFarm({}, port=FARM_PORT, media_port=17800, workdir=tmp_path / "farm",
                     default=Behaviour("answer", hold_ms=15000))  # long: all three lines busy at once
    try:
        box.down()
        box.up(timeout=60)
        farm.start()
    except (SandboxError, RuntimeError) as exc:
        pytest.fail(f"the sandbox could not start: {exc}", pytrace=False)
    yield settings
    farm.stop()
    box.down()


def test_sigterm_lets_the_calls_finish_then_exits(node: Settings, tmp_path: Path) -> None:
    db = Database.connect(node.resolved_database_url())
    migrate.upgrade(db.engine)
    make_directory(db.sessions, PHONES)
    with db.sessions.begin() as s:
        create_campaign(s, name="stopped midway", mode="ivr", selection=Selection())
        change_state(s, "stopped midway", "start")
    port = free_port()
    env = doctor_env(node, WARROOM_DIALER__TIMEZONE=afternoon_zone(), WARROOM_LOG_FORMAT="json",
                     WARROOM_STOP_SECONDS="30", WARROOM_HTTP__PORT=str(port), WARROOM_DIALER__MIN_GAP_MINUTES="0")
    log = tmp_path / "serve.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "warroom", "serve"], env=env, stderr=err,
                                stdout=subprocess.DEVNULL, cwd=tmp_path)
    try:
        def live() -> int:
            with db.sessions() as s:
                return int(s.scalar(select(func.count()).select_from(Attempt)
                                    .where(Attempt.state == AttemptState.answered)) or 0)

        deadline = time.monotonic() + 60
        while live() < 3:  # every line carries an answered call
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        with db.sessions() as s:  # the calls dialed, and any targets claimed ahead but not dialed yet
            started = set(s.scalars(select(Attempt.id)))
        os.kill(proc.pid, signal.SIGTERM)
        stopped_at = datetime.now(UTC)
        time.sleep(0.5)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200  # still answering
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    with db.sessions() as s:
        attempts = list(s.scalars(select(Attempt)))
    assert {a.id for a in attempts} <= started, "no call was started after SIGTERM"
    assert all(a.created_at < stopped_at for a in attempts)
    # those claimed ahead and never dialed were given back (no attempt left, the try not used)
    with db.sessions() as s:
        assert int(s.scalar(select(func.sum(Target.tries))) or 0) == len(attempts)
    db.close()
    assert {(a.state, a.disposition) for a in attempts} == {(AttemptState.ended, Disposition.answered)}
    assert all((a.talk_seconds or 0) >= 4 for a in attempts), "the calls went on to their end"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    said = [entry["message"] for entry in lines]
    assert any(m.startswith("stopping: no new calls") for m in said), said[-20:]
    assert any(m.startswith("stopping: calls settled (0 hung up") for m in said), said[-20:]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
