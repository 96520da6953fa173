"""Backup, then restore into an empty state directory and an empty database: the same directory export, the
same campaigns and the same recordings; secrets only when asked; a restore never overwrites by surprise.
On SQLite (while a connection writes) and PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from core.errors import Conflict
from db import migrate
from db.campaigns import Campaign
from db.engine import Database, make_engine
from dialer.campaigns import Selection, campaign_summary, change_state, create_campaign, progress
from directory.demo import DemoSpec, load_demo
from directory.exporter import export_rows, write_csv
from directory.status import StatusRules
from ops.backup import Places, backup, restore, settings_text
from tests.conftest import PG_URL
from warroom.settings import ensure_secrets

ENV = ("WARROOM_DIALER__TIMEZONE=Asia/Kolkata\nWARROOM_ASTERISK__AMI_SECRET=ami-secret-1\n"
       "WARROOM_ASTERISK__TRUNKS='[{\"name\": \"prov\", \"kind\": \"register\", \"username\": \"wr\", "
       "\"password\": \"trunk-pass-1\"}]'\nWARROOM_HTTP__METRICS_TOKEN=metrics-token-1\n")


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases: where the war room ran, and where it is restored."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a' / 'warroom.db'}", f"sqlite:///{tmp_path / 'b' / 'warroom.db'}"
        return
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    names = [f"wr_bk_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable ({exc.orig})", pytrace=False)
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _places(root: Path, url: str) -> Places:
    return Places(database_url=url, state_dir=root / "state", recordings=root / "recordings",
                  prompts=root / "prompts", scripts=root / "scripts", env_file=root / "warroom.env")


def _world(url: str) -> dict[str, Any]:
    """What must survive: the directory's export, the campaigns with their progress."""
    db = Database.connect(url)
    try:
        out = io.StringIO()
        write_csv(export_rows_of(db), out)
        with db.sessions() as s:
            campaigns = [campaign_summary(c, progress(s, c.id))
                         for c in s.scalars(select(Campaign).order_by(Campaign.id))]
        return {"export": out.getvalue(), "campaigns": campaigns}
    finally:
        db.close()


def export_rows_of(db: Database) -> Iterator[list[str]]:
    with db.sessions() as s:
        yield from list(export_rows(s))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_backup_then_restore_into_an_empty_state_gives_the_same_war_room(urls: tuple[str, str],
                                                                       tmp_path: Path) -> None:
    source_url, target_url = urls
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(exist_ok=True)
    b.mkdir(exist_ok=True)
    db = Database.connect(source_url)
    migrate.upgrade(db.engine)
    load_demo(db.sessions, DemoSpec(districts=1, acs=2, booths_per_ac=4), StatusRules(party="PARTY"))
    with db.sessions.begin() as s:
        create_campaign(s, name="booth readiness", mode="ivr", selection=Selection(statuses=("swing",)))
        change_state(s, "booth readiness", "start")
    for name, data in {"2026/11/ticket-12.wav": b"RIFF-voice-1", "ivr-call-7-q2.wav": b"RIFF-voice-2"}.items():
        (a / "recordings" / name).parent.mkdir(parents=True, exist_ok=True)
        (a / "recordings" / name).write_bytes(data)
    (a / "scripts").mkdir()
    (a / "scripts" / "ours.yaml").write_text("name: ours\n")
    (a / "warroom.env").write_text(ENV)
    secrets = ensure_secrets(a / "state")
    before = _world(source_url)
    archive = tmp_path / "backup.tar.gz"

    if source_url.startswith("sqlite"):  # a connection writing while the snapshot is taken
        with db.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("UPDATE people SET name = 'written meanwhile' WHERE id = 1")
            manifest = backup(_places(a, source_url), archive)
            conn.exec_driver_sql("ROLLBACK")
    else:
        manifest = backup(_places(a, source_url), archive)
    db.close()
    assert manifest["parts"] == ["database", "recordings", "scripts", "settings"] and not manifest["secrets"]
    assert manifest["schema"] == migrate.head()
    assert (archive.stat().st_mode & 0o777) == 0o600
    with tarfile.open(archive) as tar:
        everything = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    for secret in (b"ami-secret-1", b"trunk-pass-1", b"metrics-token-1", secrets["ami_secret"].encode()):
        assert secret not in everything

    done = restore(archive, _places(b, target_url))
    assert done["parts"] == ["database", "recordings", "scripts", "settings"]
    assert _world(target_url) == before
    assert _files(b / "recordings") == _files(a / "recordings")
    assert (b / "scripts" / "ours.yaml").read_text() == "name: ours\n"
    assert "WARROOM_DIALER__TIMEZONE=Asia/Kolkata" in (b / "state" / "warroom.env.restored").read_text()
    assert not (b / "state" / "secrets.json").exists()

    with pytest.raises(Conflict, match="already holds"):
        restore(archive, _places(b, target_url))  # never over a database in use


def test_secrets_only_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    stored = ensure_secrets(tmp_path / "state")
    archive = tmp_path / "with.tar.gz"
    places = Places(database_url=url, state_dir=tmp_path / "state")
    assert backup(places, archive, with_secrets=True)["secrets"] is True
    target = Places(database_url=f"sqlite:///{tmp_path / 'b.db'}", state_dir=tmp_path / "restored")
    restore(archive, target, with_secrets=True)
    assert ensure_secrets(tmp_path / "restored") == stored
    assert ((tmp_path / "restored" / "secrets.json").stat().st_mode & 0o777) == 0o600


def test_settings_lose_their_secrets_in_a_backup() -> None:
    kept = settings_text(ENV, with_secrets=False)
    assert "ami-secret-1" not in kept and "trunk-pass-1" not in kept and "metrics-token-1" not in kept
    assert '"username": "wr"' in kept and "WARROOM_DIALER__TIMEZONE=Asia/Kolkata" in kept
    assert settings_text(ENV, with_secrets=True) == ENV
