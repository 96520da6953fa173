"""Shared fixtures. Integration tests run against a real sandbox Asterisk on node ``test``.

The test node has its own ports (so a running demo on node1 is left alone) and its own state directory
(fresh generated secrets). If the sandbox cannot be built or started, every integration test fails with
the reason: nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.engine import Database, make_engine
from sandbox.asterisk import Sandbox, SandboxError
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.databases import PG_URL, migrated_postgres, migrated_sqlite
from tests.isolation import node_name
from warroom.compose import build_sandbox
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

TEST_PORTS = {"ami_port": 15038, "http_port": 18088, "sip_port": 15060, "rtp_start": 11000,
              "rtp_end": 11999, "farm_port": 15070, "agi_port": 14573}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the test node (secrets generated in a temporary state directory)."""
    state = tmp_path_factory.mktemp("state")
    ast = AsteriskSettings(node=node_name("test"), action_timeout=10.0, ping_interval=1.0, reconnect_max=2.0,
                           trunks=[TrunkSettings(name="lines", lines=10, port=TEST_PORTS["farm_port"])],
                           **TEST_PORTS)
    return with_secrets(Settings(state_dir=state, asterisk=ast,
                                 database_url=f"sqlite:///{Path(state) / 'test.db'}"))


@pytest.fixture(scope="session")
def sandbox(settings: Settings) -> Iterator[Sandbox]:
    """The real Asterisk 22 sandbox, up for the whole session."""
    box = build_sandbox(settings.asterisk)
    if os.geteuid() != 0:
        pytest.fail("integration tests need root to run the Asterisk sandbox (chroot); run them as root")
    try:
        box.down()  # a node left over from an interrupted run
        box.up(timeout=90)
    except SandboxError as exc:
        pytest.fail(f"the Asterisk sandbox could not start: {exc}", pytrace=False)
    yield box
    box.down()


FarmFactory = Callable[[dict[str, Behaviour]], PhoneFarm]


@pytest.fixture
def phone_farm(settings: Settings, tmp_path: Path) -> Iterator[FarmFactory]:
    """Start a SIPp phone farm on the test trunk with a behaviour per number: ``phone_farm({number: ...})``.
    Every farm started is stopped after the test."""
    farms: list[PhoneFarm] = []

    def start(behaviours: dict[str, Behaviour]) -> PhoneFarm:
        farm = PhoneFarm(behaviours, port=settings.asterisk.farm_port, media_port=16000,
                         workdir=tmp_path / f"farm{len(farms)}")
        farm.start()
        farms.append(farm)
        return farm

    yield start
    for farm in farms:
        farm.stop()


# -- databases: every DB test runs on SQLite and on PostgreSQL ------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: a fresh SQLite file, or a private database in the test PostgreSQL."""
    if request.param == "sqlite":
        engine = migrated_sqlite(tmp_path / "test.db")
        yield engine
        engine.dispose()
        return
    with migrated_postgres() as engine:
        yield engine


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A private, empty schema in the test PostgreSQL, dropped afterwards (the test fails if it is down)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable ({exc.orig}); scripts/test.sh starts one",
                    pytrace=False)
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(db_engine: Engine) -> Iterator[Database]:
    """:class:`Database` over the test database (what services take)."""
    db = Database(db_engine)
    yield db
    db.close()


@pytest.fixture
def session_factory(database: Database) -> sessionmaker[Session]:
    return database.sessions
