"""``warroom install-service``: systemd units for this installation (the service; the sandbox Asterisk)."""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops.units import UnitSpec, install_units, render_units
from warroom.compose import build_sandbox, ivr_paths
from warroom.compose_lines import asterisk_conf_dir
from warroom.settings import REPO_ROOT, load_settings

UNITS = REPO_ROOT / "config" / "systemd"


def warroom_command() -> str:
    """The `warroom` command of this virtualenv (absolute, as systemd needs)."""
    script = Path(sys.executable).parent / "warroom"
    return str(script) if script.exists() else f"{sys.executable} -m warroom"


def install_service(
    dest: Annotated[Path, typer.Option(help="where unit files go")] = Path("/etc/systemd/system"),
    user: Annotated[str | None, typer.Option(help="the user the service runs as (default: warroom; root with "
                                                  "--sandbox)")] = None,
    env_file: Annotated[Path, typer.Option(help="the settings file the units read")] = Path("/etc/warroom/warroom.env"),
    state_dir: Annotated[Path | None, typer.Option(help="the service's state (default: WARROOM_STATE_DIR, else "
                                                        "/var/lib/warroom)")] = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="also a unit for the sandbox Asterisk (for a server "
                                                            "without an Asterisk of its own)")] = False,
    supplementary: Annotated[str, typer.Option(help="extra groups of the service's user, e.g. asterisk (to "
                                                    "write its configuration and read recordings)")] = "",
) -> None:
    """Write systemd units: warroom.service (db upgrade, then serve; JSON logs to the journal; a stop lets
    live calls finish) and, with --sandbox, warroom-asterisk.service."""
    settings = load_settings()
    who = user or ("root" if sandbox else "warroom")
    try:
        group = pwd.getpwnam(who).pw_name if who == "root" else who
    except KeyError:
        group = who
    state = state_dir or (settings.state_dir if os.environ.get("WARROOM_STATE_DIR") else Path("/var/lib/warroom"))
    paths = ivr_paths(settings)
    conf_dir, _owner = asterisk_conf_dir(settings, build_sandbox(settings.asterisk))
    spec = UnitSpec(warroom=warroom_command(), user=who, group=group, state_dir=state, env_file=env_file,
                    writable=(conf_dir, paths.sounds, paths.recordings), stop_seconds=settings.stop_seconds,
                    supplementary=supplementary, sandbox=sandbox, node=settings.asterisk.node)
    for path in install_units(render_units(UNITS, spec), dest):
        typer.echo(str(path))
    try:
        pwd.getpwnam(who)
    except KeyError:
        typer.echo(f"the user {who} does not exist yet: useradd --system --home {state} --shell "
                   f"/usr/sbin/nologin {who}", err=True)
    typer.echo(f"then: mkdir -p {state} && chown {who}: {state}; put the settings in {env_file} (0640);\n"
               "systemctl daemon-reload && systemctl enable --now "
               + ("warroom-asterisk warroom" if sandbox else "warroom"), err=True)
