"""``warroom backup`` / ``warroom restore``: one archive (``.tar.gz``) holding a consistent snapshot of the
database (SQLite's online backup API while the service runs; PostgreSQL's ``pg_dump``), the recordings, the
recorded prompts, the war room's own IVR scripts and the settings, with a manifest. Secrets (the AMI and ARI
secrets, trunk passwords, tokens) stay out unless asked for.

Restoring goes into an empty database (refused otherwise, unless forced), then migrates it to this code's
schema; an archive made by a newer warroom is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from core.errors import Conflict, Invalid
from core.files import private_dir, write_private
from db import migrate
from db.engine import make_engine

FORMAT = 1
SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN")


@dataclass(frozen=True)
class Places:
    """Where things live on this host (from the settings)."""

    database_url: str
    state_dir: Path
    recordings: Path | None = None
    prompts: Path | None = None
    scripts: Path | None = None
    env_file: Path | None = None
    extra: dict[str, Path] = field(default_factory=dict)


# -- backup -------------------------------------------------------------------------------------------
def backup(places: Places, output: Path, *, with_secrets: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Write the archive to ``output`` (0600); returns its manifest."""
    created = now or datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="warroom-backup-") as tmp:
        root = Path(tmp)
        engine = make_engine(places.database_url)
        try:
            revision = migrate.current(engine)
        finally:
            engine.dispose()
        backend = make_url(places.database_url).get_backend_name()
        (root / "database").mkdir()
        if backend == "sqlite":
            _sqlite_snapshot(places.database_url, root / "database" / "warroom.db")
        elif backend == "postgresql":
            _pg_dump(places.database_url, root / "database" / "warroom.pgdump")
        else:
            raise Invalid(f"cannot back up a {backend} database")
        parts = ["database"]
        for name, source in (("recordings", places.recordings), ("prompts", places.prompts),
                             ("scripts", places.scripts)):
            if source is not None and source.is_dir():
                shutil.copytree(source, root / name, symlinks=False)
                parts.append(name)
        if places.env_file is not None and places.env_file.is_file():
            (root / "settings").mkdir()
            write_private(root / "settings" / "warroom.env", settings_text(places.env_file.read_text(), with_secrets))
            parts.append("settings")
        secrets_file = places.state_dir / "secrets.json"
        if with_secrets and secrets_file.is_file():
            (root / "secrets").mkdir()
            write_private(root / "secrets" / "secrets.json", secrets_file.read_text(), 0o600)
            parts.append("secrets")
        manifest = {"format": FORMAT, "created_at": created.isoformat(), "schema": revision, "database": backend,
                    "parts": parts, "secrets": "secrets" in parts,
                    "files": sum(1 for p in root.rglob("*") if p.is_file())}
        (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
        output.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(root / "manifest.json", arcname="manifest.json")
            for part in parts:
                tar.add(root / part, arcname=part)
    return manifest


def settings_text(text: str, with_secrets: bool) -> str:
    """An env file as backed up: lines naming a secret dropped, and trunk passwords blanked, unless asked."""
    if with_secrets:
        return text
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        name = key.strip().upper()
        if sep and any(word in name for word in SECRET_WORDS):
            out.append(f"# {key.strip()}= (a secret: not in this backup)")
            continue
        if sep and name == "WARROOM_ASTERISK__TRUNKS":
            line = f"{key}={_without_passwords(value.strip())}"
        out.append(line)
    return "\n".join(out) + "\n"


def _without_passwords(value: str) -> str:
    quoted = value[:1] in "'\"" and value[-1:] == value[:1]
    try:
        trunks = json.loads(value[1:-1] if quoted else value)
    except ValueError:
        return "[]  # unreadable here: left out of the backup"
    for trunk in trunks if isinstance(trunks, list) else []:
        if isinstance(trunk, dict) and "password" in trunk:
            trunk["password"] = None
    text = json.dumps(trunks)
    return f"'{text}'" if quoted else text


def _sqlite_snapshot(url: str, target: Path) -> None:
    """A consistent copy while the service writes (SQLite's online backup API, page by page)."""
    source = make_url(url).database
    if not source or not Path(source).is_file():
        raise Invalid(f"no SQLite database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=1024)
    finally:
        dst.close()
        src.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as libpq's (the password in the environment, never on the command line)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _pg_dump(url: str, target: Path) -> None:
    dsn, env = _libpq(url)
    proc = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
                           f"--dbname={dsn}"], env=env, capture_output=True, text=True, check=False, timeout=3600)
    if proc.returncode != 0:
        raise Invalid(f"pg_dump failed: {proc.stderr.strip()[-500:]}")


# -- restore ------------------------------------------------------------------------------------------
@contextmanager
def opened(archive: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The archive unpacked in a private temporary directory, with its manifest."""
    with tempfile.TemporaryDirectory(prefix="warroom-restore-") as tmp, tarfile.open(archive, "r:gz") as tar:
        root = Path(tmp)
        tar.extractall(root, filter="data")
        try:
            manifest = json.loads((root / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise Invalid(f"{archive}: not a warroom backup ({exc})") from exc
        yield root, manifest


def restore(archive: Path, places: Places, *, force: bool = False, with_secrets: bool = False) -> dict[str, Any]:
    """Restore the archive into these places; returns what was restored."""
    with opened(archive) as (root, manifest):
        if manifest.get("format") != FORMAT:
            raise Invalid(f"{archive}: backup format {manifest.get('format')} is not one this warroom reads")
        revision = manifest.get("schema")
        if revision and not migrate.known(revision):
            raise Invalid(f"{archive} was made by a newer warroom (schema {revision}): restore it with that "
                          "version or a newer one")
        done: dict[str, Any] = {"schema": revision, "parts": []}
        _restore_database(root, manifest, places.database_url, force)
        engine = make_engine(places.database_url)
        try:
            migrate.upgrade(engine)
            done["schema_now"] = migrate.current(engine)
        finally:
            engine.dispose()
        done["parts"].append("database")
        for name, target in (("recordings", places.recordings), ("prompts", places.prompts),
                             ("scripts", places.scripts)):
            if not (root / name).is_dir():
                continue
            where = target or places.state_dir / name
            done[name] = {"to": str(where), "files": _merge(root / name, where, force)}
            done["parts"].append(name)
        if (root / "settings" / "warroom.env").is_file():
            kept = places.state_dir / "warroom.env.restored"
            private_dir(places.state_dir)
            write_private(kept, (root / "settings" / "warroom.env").read_text(), 0o600)
            done["settings"] = str(kept)
            done["parts"].append("settings")
        if with_secrets and (root / "secrets" / "secrets.json").is_file():
            private_dir(places.state_dir)
            write_private(places.state_dir / "secrets.json", (root / "secrets" / "secrets.json").read_text(), 0o600)
            done["parts"].append("secrets")
        return done


def _restore_database(root: Path, manifest: dict[str, Any], url: str, force: bool) -> None:
    backend = make_url(url).get_backend_name()
    if manifest.get("database") != backend:
        raise Invalid(f"the backup holds a {manifest.get('database')} database; this warroom uses {backend} "
                      "(WARROOM_DATABASE_URL)")
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables and not force:
        raise Conflict(f"the database already holds {len(tables)} tables: restore into an empty database, or "
                       "--force to replace its contents")
    if backend == "sqlite":
        target = Path(str(make_url(url).database))
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, open(root / "database" / "warroom.db", "rb") as src:
            shutil.copyfileobj(src, out)
        return
    dsn, env = _libpq(url)
    proc = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
                           "--single-transaction", f"--dbname={dsn}", str(root / "database" / "warroom.pgdump")],
                          env=env, capture_output=True, text=True, check=False, timeout=3600)
    if proc.returncode != 0:
        raise Invalid(f"pg_restore failed: {proc.stderr.strip()[-500:]}")


def _merge(source: Path, target: Path, force: bool) -> int:
    """Copy every file of ``source`` under ``target``; a different file already there is kept unless
    ``force``. Returns how many files were written."""
    written = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        dest = target / path.relative_to(source)
        if dest.exists() and not force and dest.read_bytes() != path.read_bytes():
            raise Conflict(f"{dest} exists and differs from the backup's: --force to replace it")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        written += 1
    return written
