"""``warroom doctor``: check this deployment, a table with a fix for each failure (exit 1 on any)."""

from __future__ import annotations

import asyncio
import json
import logging
import pwd
from typing import Annotated

import typer

from adapters.ami import AmiConfig
from adapters.ari import AriConfig
from ops.doctor import Check, Target, report, run
from warroom.asterisk_config import secret
from warroom.compose import build_sandbox, ivr_paths
from warroom.compose_lines import dial_plans, trunk_watches
from warroom.settings import Settings, load_settings


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    test_number: Annotated[str | None, typer.Option(help="also place a test call to this number (E.164, e.g. "
                                                         "+919826012345) and report answered or the SIP reason")]
        = None,
    trunk: Annotated[str | None, typer.Option(help="the trunk for the test call (default: the first)")] = None,
    skip: Annotated[list[str] | None, typer.Option(help="a check not to run: clock, trunk, database, ARI... "
                                                        "(repeatable)")] = None,
) -> None:
    """Check the deployment: AMI login and permissions, ARI and the Stasis app, FastAGI from Asterisk, each
    trunk (and a test call), the database, disk space, the clock, the time zone, the sounds and recordings
    directories. Prints a fix for every failure; exits 1 if anything failed."""
    settings = load_settings()
    logging.getLogger("trunks").setLevel(logging.ERROR)  # the table says it (not the health's log lines)
    target = build_target(settings, test_number, trunk, frozenset(skip or ()))
    checks = asyncio.run(run(target))
    if as_json:
        typer.echo(json.dumps(report(checks)))
    else:
        typer.echo(table(checks))
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def build_target(settings: Settings, test_number: str | None, trunk: str | None, skip: frozenset[str]) -> Target:
    ast = settings.asterisk
    paths = ivr_paths(settings)
    return Target(
        ami=AmiConfig(ast.host, ast.ami_port, ast.ami_user, secret(ast.ami_secret), action_timeout=5.0,
                      reconnect_max=1.0),
        ari=AriConfig(ast.host, ast.http_port, ast.ari_user, secret(ast.ari_password), ast.ari_app, timeout=5.0),
        database_url=settings.resolved_database_url(), trunks=tuple(trunk_watches(settings)),
        plans=dial_plans(settings), caller_id=settings.dialer.caller_id, agi=(ast.agi_host, ast.agi_port),
        directories={"sounds": paths.sounds, "recordings": paths.recordings}, asterisk_ids=asterisk_ids(settings),
        timezone=settings.dialer.timezone, window=(settings.dialer.window_start, settings.dialer.window_end),
        test_number=test_number, test_trunk=trunk, skip=skip)


def asterisk_ids(settings: Settings) -> tuple[int, int] | None:
    """The user and group Asterisk runs as: the sandbox's, or ``WARROOM_ASTERISK__USER`` on this host."""
    ast = settings.asterisk
    if ast.config_dir is None:
        box = build_sandbox(ast)
        if (box.root / "etc/passwd").exists():
            return box.asterisk_ids()
    try:
        entry = pwd.getpwnam(ast.user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def table(checks: list[Check]) -> str:
    """The checks as a table: check, result, what was found, and the fix for each failure."""
    rows = [("CHECK", "RESULT", "DETAIL", "FIX")] + [(c.check, "ok" if c.ok else "FAIL", c.detail, c.fix)
                                                     for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}" + (f"\n{'':<{widths[0] + widths[1] + 4}}fix: "
                                                                      f"{r[3]}" if r[3] and r[1] == "FAIL" else "")
             for r in rows]
    failed = sum(not c.ok for c in checks)
    lines.append(f"\n{len(checks) - failed} ok, {failed} failed" if failed else f"\nall {len(checks)} checks ok")
    return "\n".join(lines)
