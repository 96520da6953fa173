"""Two war-room nodes on one PostgreSQL: the session's sandbox node ``test`` and a second node ``test2``
(its own Asterisk, ports and phone farm), each with its own service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.campaigns import Attempt
from db.models import utcnow
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.cdr import read_cdr
from tests.conftest import PG_URL
from tests.integration.dialer_harness import HOLD, Harness, harness_settings
from tests.isolation import node_name
from warroom.compose import build_sandbox, build_service
from warroom.feature_settings import ClusterSettings
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

NODE2_PORTS = {"ami_port": 25038, "http_port": 28088, "sip_port": 25060, "rtp_start": 12000, "rtp_end": 12999,
               "farm_port": 25070, "agi_port": 24573}
QUICK_CLUSTER = ClusterSettings(lease_seconds=6, heartbeat_seconds=1, max_call_seconds=60)


@pytest.fixture
def node2(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Sandbox]]:
    """The second sandbox node, up for one test."""
    state = tmp_path_factory.mktemp("state2")
    ast = AsteriskSettings(node=node_name("test2"), action_timeout=10.0, ping_interval=1.0, reconnect_max=2.0,
                           trunks=[TrunkSettings(name="lines", lines=10, port=NODE2_PORTS["farm_port"])],
                           **NODE2_PORTS)
    settings = with_secrets(Settings(state_dir=state, asterisk=ast))
    box = build_sandbox(ast)
    try:
        box.down()
        box.up(timeout=90)
    except SandboxError as exc:
        pytest.fail(f"the second sandbox node could not start: {exc}", pytrace=False)
    yield settings, box
    box.down()


def pg_url(schema: str, app: str = "warroom-test") -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}&application_name={app}"


def node_settings(settings: Settings, tmp: Path, url: str, *, lines: int = 4) -> Settings:
    """A node's settings in a cluster test: the harness's quick timings, the shared PostgreSQL, short leases."""
    s = harness_settings(settings, tmp, lines=lines, database_url=url)
    return s.model_copy(update={"cluster": QUICK_CLUSTER})


async def start_node(settings: Settings, *, ivr: bool = False) -> Harness:
    """A node's service (answered calls held silently unless ``ivr``), on the real clock: campaigns in these
    tests keep a time zone where it is daytime now (:func:`daytime_zone`)."""
    service = build_service(settings, clock=utcnow, stasis=None if ivr else HOLD)
    await service.start()
    assert await service.ami.wait_up(10), f"{settings.asterisk.node}: AMI did not come up: {service.ami.detail}"
    return Harness(service, {})


def migrated(url: str) -> sessionmaker[Session]:
    from db.engine import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


def daytime_zone() -> str:
    """A time zone where it is about 13:00 now (calls are allowed there, whatever the hour here)."""
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


def spawn_node(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """``warroom serve`` for a node in a process of its own (so a test can kill -9 it)."""
    ast, d, c = settings.asterisk, settings.dialer, settings.cluster
    env = {**os.environ, "WARROOM_STATE_DIR": str(settings.state_dir), "WARROOM_ASTERISK__NODE": ast.node,
           "WARROOM_DATABASE_URL": settings.database_url, "WARROOM_ENV_FILE": str(log.with_suffix(".env")),
           "WARROOM_ASTERISK__TRUNKS": json.dumps([{"name": "lines", "lines": ast.trunks[0].lines,
                                                    "port": ast.farm_port}]),
           "WARROOM_HTTP__PORT": str(_free_port()), "WARROOM_DIALER__MIN_GAP_MINUTES": "0",
           "WARROOM_DIALER__RING_TIMEOUT": str(d.ring_timeout), "WARROOM_DIALER__POLL_INTERVAL": "0.5",
           "WARROOM_CLUSTER__LEASE_SECONDS": str(c.lease_seconds),
           "WARROOM_CLUSTER__HEARTBEAT_SECONDS": str(c.heartbeat_seconds),
           "WARROOM_CLUSTER__MAX_CALL_SECONDS": str(c.max_call_seconds)}
    for key, value in {"AMI_PORT": ast.ami_port, "HTTP_PORT": ast.http_port, "SIP_PORT": ast.sip_port,
                       "RTP_START": ast.rtp_start, "RTP_END": ast.rtp_end, "FARM_PORT": ast.farm_port,
                       "AGI_PORT": ast.agi_port}.items():
        env[f"WARROOM_ASTERISK__{key}"] = str(value)
    with open(log, "wb") as out:  # the child keeps its own copy of the file
        return subprocess.Popen([sys.executable, "-m", "warroom", "serve"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def overlapping_calls(sessions: sessionmaker[Session], boxes: list[Sandbox]) -> list[tuple[str, Any, Any]]:
    """Calls to one phone that were up at the same moment, by Asterisk's own records on every node."""
    with sessions() as s:
        phone_of = dict(s.execute(select(Attempt.channel_id, Attempt.phone)).all())
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for box in boxes:
        for r in read_cdr(box.log_dir()):
            if r.uniqueid in phone_of and r.start and r.end:
                spans.setdefault(phone_of[r.uniqueid], []).append((r.start, r.end))
    out = []
    for phone, times in spans.items():
        times.sort()
        for (s1, e1), (s2, e2) in zip(times, times[1:], strict=False):
            if s2 < e1:
                out.append((phone, (s1, e1), (s2, e2)))
    return out
