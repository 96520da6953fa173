"""`warroom serve` against a second sandbox node (side by side with the session's node): /healthz tells
the truth when Asterisk goes down, and the service reconnects by itself when it comes back."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.asterisk import Sandbox, SandboxError
from tests.isolation import node_name
from warroom.compose import build_sandbox, build_service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node2(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Settings, Sandbox]]:
    ast = AsteriskSettings(node=node_name("test2"), ami_port=25038, http_port=28088, sip_port=25060, rtp_start=12000,
                           rtp_end=12999, farm_port=25070, ping_interval=0.5, action_timeout=2.0,
                           reconnect_max=1.0, trunks=[TrunkSettings(port=25070)], agi_port=_free_port())
    settings = with_secrets(Settings(state_dir=tmp_path, asterisk=ast, database_url=f"sqlite:///{tmp_path}/h.db"))
    settings.http.port = _free_port()
    box = build_sandbox(ast)
    try:
        box.down()
        box.up(timeout=60)
    except SandboxError as exc:
        pytest.fail(f"second sandbox node could not start: {exc}", pytrace=False)
    yield settings, box
    box.down()


async def _health(client: httpx.AsyncClient, want: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
    """Poll /healthz until it answers ``want`` (200 when ok, 503 when degraded): the links drop one by one."""
    deadline = asyncio.get_running_loop().time() + timeout
    body: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        try:
            resp = await client.get("/healthz")
            body = resp.json()
            if body == want:
                assert resp.status_code == (200 if want["status"] == "ok" else 503), resp.status_code
                return body
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"/healthz never answered {want} (ok or degraded per part, without the links' error "
                         f"text): last {body}")


async def test_healthz_follows_asterisk_down_and_up(node2: tuple[Settings, Sandbox], sandbox: Sandbox) -> None:
    settings, box = node2
    assert sandbox.status().running and box.status().running  # two nodes side by side
    service = build_service(settings)
    task = asyncio.create_task(service.run())
    base = f"http://{settings.http.host}:{settings.http.port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            ok = {"status": "ok", "components": {"ami": "ok", "ari": "ok", "db": "ok"}}
            await _health(client, ok)
            await asyncio.to_thread(box.down)
            await _health(client, {"status": "degraded", "components": {"ami": "degraded", "ari": "degraded",
                                                                          "db": "ok"}})
            assert sandbox.status().running  # the other node is untouched
            await asyncio.to_thread(box.up, 60)
            await _health(client, ok)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_cli_status_tells_the_truth(node2: tuple[Settings, Sandbox]) -> None:
    settings, box = node2
    env = {"WARROOM_STATE_DIR": str(settings.state_dir), "WARROOM_ASTERISK__NODE": settings.asterisk.node,
           "WARROOM_ASTERISK__AMI_PORT": "25038", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
    cmd = [sys.executable, "-m", "warroom", "asterisk", "status", "--json"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 0 and '"running": true' in res.stdout and '"fully_booted": true' in res.stdout
    box.down()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 3 and '"running": false' in res.stdout
