"""The demo's operator desk, piece by piece: the softphone's SIPp scenario and command line, finding the
operator, making them ready from any state, and `warroom phones operator|down` on the command line."""

from __future__ import annotations

import os
import re
import xml.dom.minidom
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from accounts.service import add_user
from db.operators import OperatorState as S
from operators.states import change, status_of
from sandbox.softphone import Softphone, answer_scenario, scenario
from warroom.cli import app
from warroom.demo_operator import Desk, DeskError, find_operator, make_ready, pid_file, softphone_for
from warroom.settings import AsteriskSettings, Settings


def test_the_softphone_rings_answers_and_hangs_up_after_the_hold() -> None:
    text = answer_scenario(ring_ms=1500, hold_ms=20_000)
    doc = xml.dom.minidom.parseString(text.encode("iso-8859-1"))
    recvs = [(e.getAttribute("request") or e.getAttribute("response"), e.getAttribute("timeout"))
             for e in doc.getElementsByTagName("recv")]
    assert recvs[:4] == [("INVITE", ""), ("CANCEL", "1500"), ("ACK", ""), ("BYE", "20000")]
    sent = [line.split()[1] if line.startswith("SIP/2.0") else line.split()[0]
            for line in re.findall(r"<!\[CDATA\[\s*(.*)", text)]
    assert sent == ["180", "200", "BYE", "200", "200", "487"]
    assert "CSeq: [$invite_cseq] INVITE" in text, "a cancelled call's 487 answers the INVITE"


def test_each_registration_waits_before_the_next_and_a_one_off_does_not() -> None:
    assert scenario("op-asha", "secret", 60_000).endswith('  <pause milliseconds="60000"/>\n</scenario>\n')
    assert "pause" not in scenario("op-asha", "secret")


def test_the_softphone_registers_and_answers_in_one_sipp(tmp_path: Path) -> None:
    phone = Softphone("op-asha", "s3cret-Token", sip_port=5060, workdir=tmp_path, port=5100, media_port=7020,
                      every=60)
    cmd = phone.command()
    assert cmd[:2] == ["sipp", "127.0.0.1:5060"]
    assert cmd[cmd.index("-sf") + 1] == "register.xml" and cmd[cmd.index("-oocsf") + 1] == "answer.xml"
    assert cmd[cmd.index("-p") + 1] == "5100" and cmd[cmd.index("-users") + 1] == "1"  # one after another
    assert "-bg" in cmd
    with pytest.raises(ValueError, match="plain tokens"):
        Softphone("op-asha", "bad]secret", sip_port=5060, workdir=tmp_path, port=5100, media_port=7020)
    with pytest.raises(ValueError, match="every 10 to 100 s"):
        Softphone("op-asha", "secret", sip_port=5060, workdir=tmp_path, port=5100, media_port=7020, every=300)


def test_the_desk_is_beside_the_phone_farm(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, asterisk=AsteriskSettings(farm_port=5070, sip_port=5060))
    phone = softphone_for(settings, Desk(3, "asha", "op-asha", "secret"), hold_seconds=15)
    assert (phone.port, phone.media_port, phone.sip_port, phone.hold_ms) == (5100, 7020, 5060, 15_000)
    assert phone.workdir == tmp_path / "phones" / "operator-asha"
    assert pid_file(settings, "asha") == tmp_path / "phones" / "operator-asha.pid"
    assert softphone_for(settings, Desk(3, "asha", "op-asha", "secret"), hold_seconds=15, port=5111).port == 5111


def test_only_an_enabled_operator_gets_a_desk(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        add_user(s, "asha", "operator", "Operator-pass-1")
        add_user(s, "sup", "supervisor", "Supervisor-pass-1")
    with session_factory() as s:
        desk = find_operator(s, "asha")
        assert desk.endpoint == "op-asha" and desk.secret
        with pytest.raises(DeskError, match="warroom users add bina --role operator"):
            find_operator(s, "bina")
        with pytest.raises(DeskError, match="not an enabled operator"):
            find_operator(s, "sup")


@pytest.mark.parametrize("left_in", [S.signed_out, S.paused, S.ready, S.on_call, S.wrap_up])
def test_the_desk_goes_ready_from_whatever_state_it_was_left_in(session_factory: sessionmaker[Session],
                                                                left_in: S) -> None:
    with session_factory.begin() as s:
        user_id = add_user(s, "asha", "operator", "Operator-pass-1").id
        path = {S.signed_out: [], S.paused: [S.paused], S.ready: [S.ready], S.on_call: [S.ready, S.on_call],
                S.wrap_up: [S.ready, S.on_call, S.wrap_up]}[left_in]
        for to in path:
            change(s, user_id, to, by_system=to is not S.paused and to is not S.ready, reason="tea",
                   channel_id="c1")
        assert status_of(s, user_id).state is left_in
    with session_factory.begin() as s:
        make_ready(s, user_id)
    with session_factory() as s:
        assert status_of(s, user_id).state is S.ready


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st")}
    res = CliRunner().invoke(app, list(args), env=env)
    return res.exit_code, res.output


def test_phones_operator_says_how_to_add_a_missing_operator(tmp_path: Path) -> None:
    code, out = _run(tmp_path, "phones", "operator", "nobody")
    assert code == 1 and "warroom users add nobody --role operator --generate-password" in out


def test_phones_down_never_stops_a_process_that_is_not_a_phone(tmp_path: Path) -> None:
    phones = tmp_path / "st" / "phones"
    phones.mkdir(parents=True)
    (phones / "operator-asha.pid").write_text(str(os.getpid()))  # a stale file: the id is ours (pytest) now
    code, out = _run(tmp_path, "phones", "down")
    assert code == 0 and "phones were not running" in out
    assert not (phones / "operator-asha.pid").exists()
