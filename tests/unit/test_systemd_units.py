"""The systemd units `warroom install-service` writes: systemd accepts them, the service stops gracefully
(SIGTERM, time for the calls to finish) and logs JSON to the journal."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ops.units import UnitSpec, install_units, render_units
from warroom.cli_service import UNITS, warroom_command


def test_units_are_valid_and_stop_gracefully(tmp_path: Path) -> None:
    spec = UnitSpec(warroom=warroom_command(), user="root", group="root", state_dir=tmp_path / "state",
                    env_file=tmp_path / "warroom.env", writable=(tmp_path / "asterisk",), stop_seconds=90,
                    supplementary="", sandbox=True, node="node1")
    units = render_units(UNITS, spec)
    assert set(units) == {"warroom.service", "warroom-asterisk.service"}
    service = units["warroom.service"]
    for line in ("KillSignal=SIGTERM", "TimeoutStopSec=135", "Environment=WARROOM_LOG_FORMAT=json",
                 f"ExecStartPre={spec.warroom} db upgrade", f"ExecStart={spec.warroom} serve",
                 f"ReadWritePaths={tmp_path / 'state'} -{tmp_path / 'asterisk'}", "Requires=warroom-asterisk.service",
                 "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert line in service, line
    written = install_units(units, tmp_path / "units")
    res = subprocess.run(["systemd-analyze", "verify", *map(str, written)], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    plain = render_units(UNITS, UnitSpec(warroom="/usr/bin/true", user="warroom", group="warroom",
                                         state_dir=Path("/var/lib/warroom"), env_file=Path("/etc/warroom/warroom.env"),
                                         writable=(), stop_seconds=120, supplementary="asterisk"))
    assert set(plain) == {"warroom.service"} and "SupplementaryGroups=asterisk" in plain["warroom.service"]
    assert "ProtectHome=read-only" in plain["warroom.service"] and "Requires=" not in plain["warroom.service"]
