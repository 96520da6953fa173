"""``warroom backup`` and ``warroom restore``: the database (a consistent snapshot), recordings, recorded
prompts, the war room's own scripts and its settings, in one archive; secrets only when asked."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ops.backup import Places, backup, restore
from warroom.cli_errors import reported
from warroom.compose import ivr_paths
from warroom.settings import Settings, load_settings

SecretsOpt = Annotated[bool, typer.Option("--with-secrets", help="include the secrets (AMI/ARI secrets, trunk "
                                                                 "passwords, tokens): keep that archive safe")]


def places(settings: Settings) -> Places:
    env_file = Path(os.environ.get("WARROOM_ENV_FILE", "warroom.env"))
    return Places(database_url=settings.resolved_database_url(), state_dir=settings.state_dir,
                  recordings=ivr_paths(settings).recordings, prompts=settings.ivr.prompts_dir,
                  scripts=settings.ivr.scripts_dir, env_file=env_file)


def backup_command(
    output: Annotated[Path | None, typer.Option(help="the archive to write (.tar.gz)")] = None,
    with_secrets: SecretsOpt = False,
) -> None:
    """Back up the war room: the database (SQLite's online backup, or pg_dump: safe while the service runs),
    recordings, recorded prompts, your IVR scripts and the env file. Secrets only with --with-secrets."""
    settings = load_settings()
    target = output or Path(f"warroom-backup-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar.gz")
    with reported():
        manifest = backup(places(settings), target, with_secrets=with_secrets)
    typer.echo(f"{target}: {', '.join(manifest['parts'])} (schema {manifest['schema']}, {manifest['files']} files"
               + (", WITH secrets" if manifest["secrets"] else ", no secrets") + ")")


def restore_command(
    archive: Annotated[Path, typer.Argument(help="a `warroom backup` archive")],
    force: Annotated[bool, typer.Option("--force", help="replace what the database and directories hold")] = False,
    with_secrets: Annotated[bool, typer.Option("--with-secrets", help="restore secrets.json too, if the "
                                                                      "archive has it")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Restore a backup into an empty database (this warroom's WARROOM_DATABASE_URL) and the configured
    directories, then migrate it to this version's schema. Stop the service first."""
    settings = load_settings()
    with reported():
        done = restore(archive, places(settings), force=force, with_secrets=with_secrets)
    if as_json:
        typer.echo(json.dumps(done))
        return
    typer.echo(f"restored {', '.join(done['parts'])}; schema {done['schema']} -> {done['schema_now']}")
    for name in ("recordings", "prompts", "scripts"):
        if name in done:
            typer.echo(f"  {name}: {done[name]['files']} files in {done[name]['to']}")
    if "settings" in done:
        typer.echo(f"  the backed-up settings are in {done['settings']}: compare with yours")
