"""The ``warroom`` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from core.errors import ServiceError
from core.logs import configure as configure_logs
from db import migrate
from ops.asterisk_check import check as asterisk_check
from ops.doctor import report
from sandbox.asterisk import SandboxError
from sandbox.render import RenderError
from warroom.asterisk_config import FREEPBX_INCLUDES, INCLUDES, asterisk_layout, render_own
from warroom.cli_backup import backup_command, restore_command
from warroom.cli_booths import booths_app, demo_data
from warroom.cli_campaign import campaign_app
from warroom.cli_db import db_app
from warroom.cli_directory import directory_app
from warroom.cli_doctor import asterisk_ids, doctor, table
from warroom.cli_errors import fail
from warroom.cli_ivr import ivr_app
from warroom.cli_lines import bans_app, trunks_app
from warroom.cli_outreach import outreach_app
from warroom.cli_phones import phones_app
from warroom.cli_pollday import pollday_app
from warroom.cli_privacy import audit, people_app, retention_app
from warroom.cli_report import report_app
from warroom.cli_service import install_service
from warroom.cli_tickets import instructions_app, tickets_app
from warroom.cli_users import users_app
from warroom.compose import build_sandbox
from warroom.settings import SettingsProblem, load_settings

app = typer.Typer(
    help="Election war-room call center on Asterisk. Settings come from WARROOM_* environment variables "
    "(nested with __, e.g. WARROOM_ASTERISK__AMI_PORT) or the env file named by WARROOM_ENV_FILE "
    "(default ./warroom.env).",
    no_args_is_help=True, add_completion=False,
)
asterisk_app = typer.Typer(help="The sandbox Asterisk (Asterisk 22 in a cached chroot), and the war room's files "
                                "for an existing Asterisk (render, check).", no_args_is_help=True)
app.add_typer(asterisk_app, name="asterisk")
app.add_typer(db_app, name="db")
app.add_typer(directory_app, name="directory")
app.add_typer(outreach_app, name="outreach")
app.add_typer(campaign_app, name="campaign")
app.add_typer(booths_app, name="booths")
app.command("demo-data")(demo_data)
app.add_typer(phones_app, name="phones")
app.add_typer(ivr_app, name="ivr")
app.add_typer(tickets_app, name="tickets")
app.add_typer(pollday_app, name="pollday")
app.add_typer(instructions_app, name="instructions")
app.add_typer(users_app, name="users")
app.add_typer(report_app, name="report")
app.command("audit")(audit)
app.add_typer(people_app, name="people")
app.add_typer(retention_app, name="retention")
app.add_typer(trunks_app, name="trunks")
app.add_typer(bans_app, name="bans")
app.command("doctor")(doctor)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.command("install-service")(install_service)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@asterisk_app.command("up")
def asterisk_up(timeout: Annotated[float, typer.Option(help="seconds to wait for FullyBooted")] = 60.0) -> None:
    """Build the sandbox if needed (about a minute, once), render its config, start it, wait until booted."""
    settings = load_settings()
    sandbox = build_sandbox(settings.asterisk, echo=_echo)
    try:
        built = sandbox.ensure_rootfs()
        seconds = sandbox.up(timeout=timeout)
    except SandboxError as exc:
        fail(str(exc))
    if built:
        typer.echo(f"sandbox built in {built:.1f}s")
    ast = settings.asterisk
    typer.echo(f"asterisk {ast.node} up in {seconds:.2f}s: AMI 127.0.0.1:{ast.ami_port}, "
               f"ARI http://127.0.0.1:{ast.http_port}/ari, SIP udp 127.0.0.1:{ast.sip_port}")


@asterisk_app.command("down")
def asterisk_down(timeout: Annotated[float, typer.Option(help="seconds before it is killed")] = 20.0) -> None:
    """Stop the sandbox Asterisk cleanly."""
    settings = load_settings()
    sandbox = build_sandbox(settings.asterisk, echo=_echo)
    try:
        was_running = sandbox.down(timeout=timeout)
    except SandboxError as exc:
        fail(str(exc))
    typer.echo(f"asterisk {settings.asterisk.node} " + ("stopped" if was_running else "was not running"))


@asterisk_app.command("status")
def asterisk_status(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Say whether the sandbox Asterisk runs and has fully booted (exit 3 when it is not running)."""
    settings = load_settings()
    status = build_sandbox(settings.asterisk).status()
    if as_json:
        typer.echo(json.dumps(status.as_dict()))
    else:
        state = "running" if status.running else "stopped"
        typer.echo(f"{status.node}: {state}" + (f" (pid {status.pid})" if status.pid else "")
                   + f": {status.detail}")
    if not status.running:
        raise typer.Exit(3)


@asterisk_app.command("cli", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def asterisk_cli(command: Annotated[list[str], typer.Argument(help="an Asterisk CLI command")]) -> None:
    """Run an Asterisk CLI command on the sandbox, e.g. ``warroom asterisk cli core show channels``."""
    settings = load_settings()
    sandbox = build_sandbox(settings.asterisk)
    if not sandbox.status().running:
        fail(f"sandbox {settings.asterisk.node} is not running: run `warroom asterisk up`")
    res = sandbox.rx(" ".join(command))
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    raise typer.Exit(res.returncode)


@asterisk_app.command("render")
def asterisk_render(
    dest: Annotated[Path, typer.Option(help="the existing Asterisk's configuration directory (or a directory to "
                                            "review the files in first)")],
    modules_dir: Annotated[str, typer.Option(help="Asterisk's module directory")] =
        "/usr/lib/x86_64-linux-gnu/asterisk/modules",
) -> None:
    """Write the war room's own files (warroom_*.conf: trunks, dialplan, AMI and ARI users) for an existing
    Asterisk. Nothing else in DEST is touched: the PBX's own pjsip.conf, extensions.conf... stay as they are;
    it prints the lines to add to them once (then `warroom asterisk check`)."""
    settings = load_settings()
    owner = asterisk_ids(settings) if os.geteuid() == 0 else None  # Asterisk must read them; nobody else
    try:
        written = render_own(settings.asterisk, dest, modules_dir=modules_dir, owner=owner)
    except (RenderError, OSError) as exc:
        fail(str(exc))
    for path in written:
        typer.echo(str(path))
    typer.echo("\nadd once, if not there yet (`warroom asterisk check --dest DIR` says which are missing):", err=True)
    for pbx_file, line in INCLUDES.items():
        freepbx = FREEPBX_INCLUDES.get(pbx_file)
        typer.echo(f"  {pbx_file}: {line}" + (f"   (FreePBX: in {freepbx})" if freepbx else ""), err=True)
    typer.echo("then reload: `asterisk -rx 'core reload'` (or `core restart gracefully` for new modules)", err=True)


@asterisk_app.command("check")
def asterisk_check_command(
    dest: Annotated[Path, typer.Option(help="the existing Asterisk's configuration directory")],
    modules_dir: Annotated[Path | None, typer.Option(help="Asterisk's module directory (to see what is "
                                                          "installed)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Say what an existing Asterisk lacks for the war room: our files, the include lines, ARI and HTTP
    enabled, the modules loaded, permissions (exit 1 if anything is missing)."""
    settings = load_settings()
    checks = asterisk_check(dest, asterisk_layout(), asterisk_ids=asterisk_ids(settings), modules_dir=modules_dir)
    typer.echo(json.dumps(report(checks)) if as_json else table(checks))
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command("serve")
def serve(web_only: Annotated[bool, typer.Option(
        "--web-only", help="serve the web side only (no Asterisk, no dialing): several web processes can run "
                           "behind a proxy, on the war room's PostgreSQL")] = False) -> None:
    """Run the service: AMI and ARI links (reconnecting by themselves), the dialer, the IVR and hotline, and
    HTTP with /healthz. One per Asterisk node (WARROOM_ASTERISK__NODE names it); several nodes share one
    PostgreSQL. A first SIGTERM or Ctrl-C starts no new call and lets live calls finish
    (WARROOM_STOP_SECONDS), then exits."""
    from warroom.compose import build_service

    settings = load_settings()
    if web_only:
        settings.cluster.web_only = True
    configure_logs(settings.log_level, settings.log_format)
    service = build_service(settings)
    typer.echo(f"serving on http://{settings.http.host}:{settings.http.port} (healthz at /healthz)", err=True)
    started = time.monotonic()
    try:
        asyncio.run(service.run())
    except KeyboardInterrupt:
        pass
    except (ServiceError, migrate.NewerDatabase) as exc:  # refused at start-up (a second node of that name,
        # SQLite for two nodes, a database newer than this code...)
        fail(str(exc))
    logging.getLogger(__name__).info("stopped after %.0fs", time.monotonic() - started)


def main() -> None:
    try:
        app()
    except SettingsProblem as exc:  # settings that cannot work stop every command, naming the setting
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
