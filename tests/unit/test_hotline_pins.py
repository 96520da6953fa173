"""The hotline trusts no caller ID alone (issue 13, finding 3): a booth's instructions are read only after the
member's PIN (kept as an argon2 hash, locked after wrong guesses), tickets say whether their caller gave it,
and the dialed number cannot shift the Stasis arguments (the dialplan filters it; the app distrusts a count
that is off)."""

from __future__ import annotations

import asyncio
import functools
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ari_handlers import ivr_store as store
from audit.log import Actor
from db import migrate
from db.audit import AuditEntry
from db.engine import Database, make_engine
from db.models import utcnow
from db.security import MemberPin
from db.tickets import Ticket
from hotline.lookup import add_instruction
from hotline.pins import LOCK, MAX_FAILURES, check_pin, generate_pin, pin_problem, set_pin
from hotline.service import PinService
from ivr_scripts.actions import CheckPin, Play, WaitForKey
from ivr_scripts.engine import Engine
from ivr_scripts.library import ScriptLibrary
from ivr_scripts.model import Script
from tests.unit.test_render import _render
from tests.unit.test_tickets_hotline import tree
from warroom.settings import TrunkSettings

SECRET = "Gate 3 opens at six: the spare EVM is with Ramesh."


def test_pin_rules_and_generated_pins() -> None:
    assert pin_problem("4719") is None and pin_problem("04719288") is None
    for bad in ("123", "123456789", "12a4", "١٢٣٤", "1111", "1234", "9876"):
        assert pin_problem(bad), bad
    pins = {generate_pin() for _ in range(50)}
    assert all(pin_problem(p) is None and len(p) == 4 for p in pins) and len(pins) > 30


def test_pins_are_hashed_checked_and_locked_after_wrong_guesses(session_factory: sessionmaker[Session]) -> None:
    now = utcnow()
    with session_factory.begin() as s:
        asha = tree(s)["asha"]
        set_pin(s, asha, "4719", by="sup", at=now)
    with session_factory.begin() as s:
        row = s.get(MemberPin, asha)
        assert row is not None and "4719" not in row.pin_hash and row.pin_hash.startswith("$argon2")
        assert check_pin(s, asha, "4719", now).ok
        assert check_pin(s, asha, "1111", now).why == "wrong"
    for _ in range(MAX_FAILURES - 2):  # one wrong already
        with session_factory.begin() as s:
            assert check_pin(s, asha, "0000", now).why == "wrong"
    with session_factory.begin() as s:
        assert check_pin(s, asha, "0000", now).why == "locked"
        assert check_pin(s, asha, "4719", now).why == "locked", "a locked PIN is not even compared"
        assert check_pin(s, asha, "4719", now + LOCK + timedelta(seconds=1)).ok
        assert check_pin(s, asha + 1, "4719", now).why == "no_pin"


def _engine(info: store.CallInfo) -> Engine:
    return Engine(ScriptLibrary().get("hotline"), "en", info.context)


def _said(actions: list[object]) -> list[str]:
    return [a.prompt.key for a in actions if isinstance(a, Play)]


def test_a_caller_id_alone_never_hears_the_instructions(session_factory: sessionmaker[Session]) -> None:
    """Pressing 2 without a PIN set, or with a wrong PIN, never plays the instructions; they are not even in
    the call's context until the PIN is right (old code: read to anyone calling from the member's number)."""
    with session_factory.begin() as s:
        ids = tree(s)
        add_instruction(s, SECRET, unit_id=ids["ac"], language="en")
    with session_factory() as s:
        info = store.inbound_info(s, phone="+919826012345", person_id=ids["asha"], booth_id=ids["booth"],
                                  language="en", party="PARTY")
    assert SECRET not in str(info.context), "the instructions are not in a call before its PIN"
    e = _engine(info)
    e.start()
    said = _said(e.digit("2"))
    assert "hotline/no_pin/text" in said and "hotline/instructions/text" not in said


def test_the_right_pin_opens_the_instructions_and_marks_the_call_verified(
        session_factory: sessionmaker[Session]) -> None:
    now = utcnow()
    with session_factory.begin() as s:
        ids = tree(s)
        add_instruction(s, SECRET, unit_id=ids["ac"], language="en")
        set_pin(s, ids["asha"], "4719", by="sup", at=now)
    with session_factory.begin() as s:
        info = store.inbound_info(s, phone="+919826012345", person_id=ids["asha"], booth_id=ids["booth"],
                                  language="en", party="PARTY")
        call_id = store.open_call(s, "chan-1", info, "hotline", "en", now)
    e = _engine(info)
    e.start()
    assert _said(e.digit("2")) == ["hotline/pin/text"]
    typed = [a for key in "4719#" for a in e.digit(key)]
    assert isinstance(typed[-1], CheckPin) and typed[-1].digits == "4719" and "4719" not in repr(typed[-1])
    assert all(isinstance(a, WaitForKey) for a in typed[1:-1])
    # a wrong PIN: said so, asked again, nothing read
    with session_factory.begin() as s:
        check, heard = store.check_caller_pin(s, call_id, ids["asha"], "1111", unit_id=info.instructions_unit,
                                              language="en", at=now)
    assert not check.ok and heard == {}
    again = e.pin_checked(check.ok, check.why, heard)
    assert _said(again) == ["hotline/pin/invalid"]
    e.played()
    for key in "4719#":
        actions = e.digit(key)
    assert isinstance(actions[-1], CheckPin)
    with session_factory.begin() as s:
        check, heard = store.check_caller_pin(s, call_id, ids["asha"], actions[-1].digits,
                                              unit_id=info.instructions_unit, language="en", at=now)
    read = e.pin_checked(check.ok, check.why, heard)
    plays = [a for a in read if isinstance(a, Play)]
    assert plays[0].prompt.key == "hotline/instructions/text" and SECRET in plays[0].prompt.text
    with session_factory.begin() as s:
        verified = store.ticket_from_call(s, call_id, "other", None, now)
        info2 = store.inbound_info(s, phone="+919826012345", person_id=ids["asha"], booth_id=ids["booth"],
                                   language="en", party="PARTY")
        other_call = store.open_call(s, "chan-2", info2, "hotline", "en", now)
        unverified = store.ticket_from_call(s, other_call, "other", None, now)
    with session_factory() as s:
        assert s.get(Ticket, verified).reporter_verified is True  # type: ignore[union-attr]
        assert s.get(Ticket, unverified).reporter_verified is False  # type: ignore[union-attr]


def test_a_locked_pin_ends_the_asking_at_once(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = tree(s)
        set_pin(s, ids["asha"], "4719", by="sup", at=utcnow())
        info = store.inbound_info(s, phone=None, person_id=ids["asha"], booth_id=ids["booth"], language="en",
                                  party="PARTY")
    e = _engine(info)
    e.start()
    e.digit("2")
    for key in "12#":
        e.digit(key)
    assert _said(e.pin_checked(False, "locked")) == ["hotline/pin_failed/text"]


def test_pin_service_sets_a_pin_audited_without_it(database: Database) -> None:
    with database.sessions.begin() as s:
        ids = tree(s)
    out = asyncio.run(PinService(database).set("+91 98260 12345", Actor("sup", user_id=2)))
    assert out["person_id"] == ids["asha"] and pin_problem(out["pin"]) is None
    with database.sessions() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "person.pin_set")).all()
        assert out["pin"] not in str(entry.detail) and entry.target == f"person:{ids['asha']}"
        row = s.get(MemberPin, ids["asha"])
        assert row is not None and check_pin(s, ids["asha"], out["pin"], utcnow()).ok


def test_the_cli_sets_a_pin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from warroom.cli import app as cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(make_engine(url))
    database = Database.connect(url)
    with database.sessions.begin() as s:
        ids = tree(s)
    monkeypatch.setenv("WARROOM_DATABASE_URL", url)
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["people", "set-pin", str(ids["asha"]), "--pin", "4719"])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli, ["people", "set-pin", str(ids["asha"]), "--pin", "1234"])
    assert bad.exit_code == 1 and "run" in bad.output
    with database.sessions() as s:
        assert check_pin(s, ids["asha"], "4719", utcnow()).ok


def test_no_stasis_argument_carries_the_dialed_number_unfiltered(tmp_path: Path) -> None:
    """A comma in ``${EXTEN}`` would shift the arguments after it (the member, booth... the lookup found):
    every ``${EXTEN}`` (and the DID from the To header) given to Stasis or Goto is filtered."""
    out, _settings = _render(tmp_path, trunks=[TrunkSettings(name="bsnl", dids={"07554000000": "hotline",
                                                                               "07554000001": "missed_call:x"})])
    text = (out / "warroom_extensions.conf").read_text()
    checked = 0
    for line in text.splitlines():
        if "Stasis(" in line or "Goto(${" in line:
            bare = re.sub(r"\$\{FILTER\([^,]+,\$\{(EXTEN|WARROOM_DID)\}\)\}", "", line)
            assert "${EXTEN}" not in bare and "${WARROOM_DID}" not in bare, line
            checked += 1
    assert checked >= 5 and "hotline,${FILTER(0-9+,${EXTEN})}," in text


@functools.cache
def _hotline() -> Script:
    """Loaded once: the property runs 150 calls through the same script."""
    return ScriptLibrary().get("hotline")


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.sampled_from(list("0123456789*#")), max_size=40),
       events=st.lists(st.sampled_from(["played", "timeout"]), max_size=40))
def test_no_key_sequence_reaches_the_instructions_without_a_right_pin(keys: list[str], events: list[str]) -> None:
    """Whatever a caller presses, and whenever prompts end or time out, the instructions are never played
    while every PIN check says no."""
    from ivr_scripts.context import sample_context

    ctx = {**sample_context("en"), "instructions": None}
    ctx["caller"] = {"phone_last4": "1234", "known": True, "has_pin": True, "verified": False}
    e = Engine(_hotline(), "en", ctx)
    actions = list(e.start())
    seen: list[object] = list(actions)
    for i, key in enumerate(["2", *keys]):  # 2: the instructions (the PIN is asked)
        more = e.digit(key)
        if events:
            more += e.played() if events[i % len(events)] == "played" else e.timeout()
        while any(isinstance(a, CheckPin) for a in more):
            more = [a for a in more if not isinstance(a, CheckPin)] + e.pin_checked(False, "wrong")
        seen += more
        if e.phase in ("queued", "closing", "done"):
            break
    said = _said(seen)
    assert "hotline/instructions/text" not in said and "hotline/pin/text" in said
