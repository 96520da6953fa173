"""The ban list's counting and ACL, security events typed, the doctor's own judgements (clock, directories,
the table), the softphones' networks, and the database refused when it is newer than the code."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from adapters import ami_events
from audit.log import Actor
from core.errors import Invalid, NotFound
from db import migrate
from db.engine import Database
from events.asterisk import SecurityFailure
from operators.softphones import Access, Phone, render
from ops.doctor import Check, _clock, _database, allowed
from sipguard.counter import FailureCounter, GuardRules, acl_text
from sipguard.service import BanService
from warroom.cli_doctor import table

AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_security_events_are_typed_with_the_address() -> None:
    event = ami_events.parse_event("ChallengeResponseFailed", {
        "EventTV": "2026-11-30T11:30:00.000+0530", "Severity": "Error", "Service": "PJSIP", "AccountID": "op-asha",
        "RemoteAddress": "IPV4/UDP/203.0.113.7/5062", "Timestamp": "1764438417.0"})
    assert isinstance(event, SecurityFailure)
    assert (event.kind, event.address, event.port, event.account, event.service) == \
        ("ChallengeResponseFailed", "203.0.113.7", 5062, "op-asha", "PJSIP")
    v6 = ami_events.parse_event("InvalidAccountID", {"RemoteAddress": "IPV6/UDP/2001:db8::7/5060"})
    assert isinstance(v6, SecurityFailure) and v6.address == "2001:db8::7"
    assert ami_events.parse_event("SuccessfulAuth", {"RemoteAddress": "IPV4/UDP/203.0.113.7/5062"}) is None


def test_n_failures_within_the_window_earn_a_ban_but_never_for_exempt_addresses() -> None:
    counter = FailureCounter(GuardRules(max_failures=3, window=timedelta(minutes=10),
                                        never_ban=("127.0.0.1/32", "10.0.0.0/8")))
    assert counter.failed("203.0.113.7", "InvalidPassword", AT) is None
    assert counter.failed("203.0.113.7", "InvalidPassword", AT + timedelta(minutes=11)) is None  # the first expired
    assert counter.failed("203.0.113.7", "InvalidAccountID", AT + timedelta(minutes=12)) is None
    assert counter.failed("203.0.113.7", "InvalidPassword", AT + timedelta(minutes=13)) == \
        ["InvalidPassword", "InvalidAccountID", "InvalidPassword"]
    for n in range(10):
        assert counter.failed("10.1.2.3", "InvalidPassword", AT + timedelta(seconds=n)) is None
    assert counter.watched == 0


def test_the_ban_list_as_a_pjsip_acl() -> None:
    assert "[warroom-bans]" not in acl_text([])
    text = acl_text(["203.0.113.7", "2001:db8::7", "203.0.113.7"])
    assert "[warroom-bans]\ntype = acl\ndeny = 2001:db8::7/128\ndeny = 203.0.113.7/32\n" in text


async def test_bans_are_kept_audited_extended_and_lifted(database: Database) -> None:
    bans = BanService(database, clock=lambda: AT)
    await bans.add("203.0.113.7", 2, "a scanner", Actor.cli())
    await bans.add("203.0.113.7", 5, "again", Actor.cli())  # extends the ban in force, no second one
    [row] = await bans.list()
    assert row["address"] == "203.0.113.7" and row["until"] == (AT + timedelta(hours=5)).isoformat()
    with pytest.raises(Invalid):
        await bans.add("not-an-address", 1, "", Actor.cli())
    await bans.lift("203.0.113.7", Actor("admin"))
    assert await bans.list() == []
    with pytest.raises(NotFound):
        await bans.lift("203.0.113.7", Actor("admin"))
    with database.sessions() as s:
        actions = [r[0] for r in s.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    assert actions == ["sip.ban", "sip.ban", "sip.unban"]


def test_softphones_only_from_the_operators_networks() -> None:
    conf = render([Phone("op-asha", "Asha", "s3cret")], access=Access("transport-udp", ("192.168.1.0/24",)))
    assert "deny = 0.0.0.0/0.0.0.0\ndeny = ::/0\npermit = 192.168.1.0/24\n" in conf
    assert "transport = transport-udp" in conf and "s3cret" not in conf
    tls = render([Phone("op-asha", "Asha", "s3cret")], access=Access("", ()))
    assert "transport =" not in tls and "deny" not in tls  # over TLS the phone's own transport is used


def test_the_clock_check() -> None:
    assert _clock(True, "error 2 ms").ok
    unsynced = _clock(False, "error 16000 ms")
    assert not unsynced.ok and "not synchronised" in unsynced.detail and "chrony" in unsynced.fix
    assert not _clock(None, "cannot ask").ok


def test_who_may_write_a_directory(tmp_path: Path) -> None:
    d = tmp_path / "recordings"
    d.mkdir()
    os.chown(d, 4242, 4343)
    os.chmod(d, 0o2770)
    assert allowed(d, 4242, 1, write=True) and allowed(d, 7, 4343, write=True)
    assert not allowed(d, 7, 8, write=False)
    os.chmod(d, 0o755)
    assert not allowed(d, 7, 4343, write=True) and allowed(d, 7, 4343, write=False)


def test_database_check_and_refusing_a_newer_database(db_engine: Engine, tmp_path: Path) -> None:
    url = db_engine.url.render_as_string(hide_password=False)
    assert _database(url).ok
    assert migrate.refuse_newer(db_engine) == migrate.head()
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_newer'"))
    with pytest.raises(migrate.NewerDatabase, match="upgraded by a newer warroom"):
        migrate.upgrade(db_engine)
    check = _database(url)
    assert not check.ok and "newer than this warroom" in check.detail


def test_the_doctor_table_gives_a_fix_for_each_failure() -> None:
    out = table([Check("AMI login", True, "logged in"), Check("database", False, "not migrated",
                                                               "run `warroom db upgrade`")])
    assert "AMI login  ok      logged in" in out and "fix: run `warroom db upgrade`" in out
    assert out.endswith("1 ok, 1 failed")


def test_db_upgrade_refuses_a_database_newer_than_the_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from warroom.cli import app

    env = {"WARROOM_STATE_DIR": str(tmp_path), "WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    first = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert first.exit_code == 0 and migrate.head() in first.output
    engine = migrate_engine(tmp_path / "w.db")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_newer'"))
    engine.dispose()
    res = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert res.exit_code == 1 and "upgraded by a newer warroom" in res.output
    assert CliRunner().invoke(app, ["campaign", "list"], env=env).exit_code == 1  # every command refuses it


def migrate_engine(path: Path) -> Engine:
    from db.engine import make_engine

    return make_engine(f"sqlite:///{path}")


def test_a_missed_call_queues_the_caller_for_a_call_back(session_factory: sessionmaker[Session]) -> None:
    from db.campaigns import Target, TargetState
    from db.models import Person
    from dialer.callbacks import call_back
    from dialer.campaigns import Selection, create_campaign
    from tests.unit.test_dialer_unit import _people

    with session_factory.begin() as s:
        ids = _people(s, ["+919826055501", "+919826055502"])
        create_campaign(s, name="callbacks", mode="ivr", selection=Selection())
        s.execute(Target.__table__.update().values(state=TargetState.done))
        stranger = Person(name="not in the campaign", phone="+919826055503")
        s.add(stranger)
    with session_factory.begin() as s:
        assert "queued in campaign" in call_back(s, "callbacks", "09826055501")  # as the network sends it
        assert "added to campaign" in call_back(s, "callbacks", "+919826055503")
        assert call_back(s, "callbacks", "+919826099999") == "caller not in the directory"
        assert call_back(s, "nope", "+919826055501") == "no campaign 'nope'"
    with session_factory() as s:
        queued = {t.person_id for t in s.query(Target).filter(Target.state == TargetState.queued)}
    assert ids["+919826055501"] in queued and ids["+919826055502"] not in queued and len(queued) == 2


def test_trunks_list_never_shows_a_password(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from warroom.cli import app

    env = {"WARROOM_STATE_DIR": str(tmp_path), "WARROOM_TRUNK_PROV_PASSWORD": "very-secret-1",
           "WARROOM_ASTERISK__TRUNKS": '[{"name": "prov", "kind": "register", "username": "wr", "host": "10.0.0.2"},'
                                       ' {"name": "gw", "kind": "register", "username": "x", "host": "10.0.0.3"}]'}
    res = CliRunner().invoke(app, ["trunks", "list"], env=env)
    assert res.exit_code == 0 and "very-secret-1" not in res.output
    assert "user wr, password set" in res.output and "user x, password MISSING" in res.output
    bad = CliRunner().invoke(app, ["trunks", "list"], env={**env, "WARROOM_ASTERISK__TRUNKS": '[{"lines": 0}]'})
    assert bad.exit_code != 0
