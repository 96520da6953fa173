"""The sandbox PBX and the service's AMI user hold no more power than they need."""

from __future__ import annotations

import pwd
from pathlib import Path

import pytest

from adapters.ami import AmiError, Originate
from events.bus import EventBus
from sandbox.asterisk import HOST_USER, Sandbox
from warroom.compose import build_ami
from warroom.settings import Settings

pytestmark = pytest.mark.integration


def test_the_sandbox_asterisk_runs_as_a_host_user_of_its_own(sandbox: Sandbox) -> None:
    status = sandbox.status()
    assert status.running and status.pid is not None
    uid = next(int(line.split()[1]) for line in Path(f"/proc/{status.pid}/status").read_text().splitlines()
               if line.startswith("Uid:"))
    assert pwd.getpwuid(uid).pw_name == HOST_USER, f"Asterisk runs as {pwd.getpwuid(uid).pw_name} on the host"
    assert sandbox.asterisk_ids()[0] == uid  # the chroot's asterisk user is that same uid


async def test_the_ami_user_has_no_shell_and_no_cli(sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    ami = build_ami(settings.asterisk, EventBus())
    await ami.start()
    try:
        assert await ami.wait_up(10), ami.detail
        marker = sandbox.host_path(f"/tmp/warroom-pwned-{tmp_path.name}")
        shell = Originate(channel="Local/s@warroom-maint", channel_id="t-shell", action_id="t-shell-a",
                          timeout=5, application="System", data=f"touch /tmp/{marker.name}")
        with pytest.raises(AmiError, match="Forbidden|denied|refused"):
            await ami.originate(shell, timeout=10)
        with pytest.raises(AmiError, match="Permission denied"):
            await ami.action({"Action": "Command", "Command": "core show uptime"})
        assert not marker.exists()
        assert await ami.channels() is not None  # what the service does need still works
    finally:
        await ami.close()
