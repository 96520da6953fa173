"""Trunks as a provider sees them: settings that cannot work are refused naming the setting; numbers in each
trunk's format; a GSM gateway's ports round robin, one call each; each trunk's health from Asterisk's
events; a campaign waits (saying why) while its trunks are down and uses the next trunk it allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from adapters import ami_events
from db.campaigns import Campaign, Disposition, TargetState
from db.engine import Database
from dialer import claims
from dialer.controller import Dialer, DialerConfig
from dialer.dialplans import DialPlan, GatewayPort, format_number
from dialer.lines import LineBook, Trunk
from dialer.rules import CallingRules
from dialer.trunk_choice import AllUp, choose, trunk_names
from events.asterisk import ContactChanged, HangupCause, OriginateReason, RegistrationChanged
from events.bus import EventBus
from tests.fake_ami import FakeAmi
from tests.unit.test_dialer_unit import NOON_IST, World, _people
from tests.waiting import until
from trunks.health import TrunkHealth, TrunkWatch
from warroom.settings import Settings, SettingsProblem, describe, with_secrets
from warroom.trunk_settings import TrunkSettings

AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


# -- settings ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("trunk", "names"), [
    ({"host": ""}, "asterisk.trunks.0.host: missing"),
    ({"dial_prefix": "9a"}, "asterisk.trunks.0.dial_prefix: '9a': a prefix is digits"),
    ({"lines": 4, "inbound_reserved": 5}, "inbound_reserved (5) is more than lines (4)"),
    ({"password": "secret"}, "password is set without username"),
    ({"kind": "register"}, "kind register needs username"),
    ({"kind": "gsm"}, "kind gsm needs ports"),
    ({"kind": "gsm", "lines": 3, "ports": [{"prefix": "1"}, {"prefix": "2"}]}, "lines (3) must equal the number"),
    ({"codecs": ["speex"]}, "asterisk.trunks.0.codecs"),
    ({"dids": {"5551000": "nowhere"}}, "DID 5551000 -> 'nowhere'"),
    ({"addresses": ["provider.example"]}, "is not an address or network"),
    ({"caller_id": "War Room; <1>"}, "asterisk.trunks.0.caller_id"),
])
def test_a_trunk_that_cannot_work_is_refused_naming_the_setting(trunk: dict[str, object], names: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"asterisk": {"trunks": [{"name": "prov", **trunk}]}})
    assert names in describe(caught.value)
    assert "WARROOM_ASTERISK__TRUNKS" in describe(caught.value)


def test_two_trunks_may_not_share_a_name() -> None:
    with pytest.raises(ValidationError, match="two trunks are named 'prov'"):
        Settings.model_validate({"asterisk": {"trunks": [{"name": "prov"}, {"name": "prov", "port": 5080}]}})


def test_gsm_preset_takes_its_lines_from_its_ports() -> None:
    t = TrunkSettings(name="gsm", kind="gsm", host="10.0.0.9", ports=[{"prefix": "1"}, {"prefix": "2", "port": 5062}])
    assert t.lines == 2 and t.qualify == 30 and t.match == ["10.0.0.9"]
    assert TrunkSettings(name="ip", host="sip.provider.example").match == []  # a name: no address to permit


def test_trunk_password_from_the_environment_or_the_secrets_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from warroom.settings import store_trunk_password

    base = {"asterisk": {"trunks": [{"name": "prov-a", "kind": "register", "username": "u"},
                                    {"name": "b", "kind": "register", "username": "v"}]}}
    monkeypatch.setenv("WARROOM_TRUNK_PROV_A_PASSWORD", "from-env")
    store_trunk_password(tmp_path, "b", "from-file")
    s = with_secrets(Settings.model_validate({**base, "state_dir": tmp_path}))
    pw = {t.name: t.password.get_secret_value() for t in s.asterisk.trunks if t.password}
    assert pw == {"prov-a": "from-env", "b": "from-file"}
    assert "from-env" not in repr(s) and "from-file" not in str(s.asterisk.trunks)


def test_a_missing_trunk_password_stops_rendering_with_how_to_set_it(tmp_path: Path) -> None:
    from warroom.asterisk_config import template_context

    s = with_secrets(Settings.model_validate({"state_dir": tmp_path, "asterisk": {"trunks": [
        {"name": "prov", "kind": "register", "username": "u"}]}}))
    with pytest.raises(SettingsProblem, match="WARROOM_TRUNK_PROV_PASSWORD"):
        template_context(s.asterisk)


# -- numbers and ports -----------------------------------------------------------------------------------
def test_numbers_in_each_format() -> None:
    assert format_number("+919826012345", "e164") == "+919826012345"
    assert format_number("+919826012345", "international") == "919826012345"
    assert format_number("+919826012345", "national") == "09826012345"
    assert format_number("+917552551234", "ten") == "7552551234"
    assert format_number("+14155550100", "national") == "0014155550100"


def test_dial_strings_with_prefix_and_gateway_ports() -> None:
    assert DialPlan("prov", prefix="9", number_format="national").channel("+919826012345") == \
        "PJSIP/909826012345@prov"
    gsm = DialPlan("gsm", number_format="ten", ports=(GatewayPort("11#"), GatewayPort("12#", 5062)), host="10.0.0.9")
    assert gsm.channel("+919826012345", 0) == "PJSIP/11#9826012345@gsm"
    assert gsm.channel("+919826012345", 1) == "PJSIP/gsm/sip:12#9826012345@10.0.0.9:5062"


def test_gateway_ports_round_robin_one_call_each() -> None:
    book = LineBook([Trunk("gsm", 3, ports=3)])
    assert [book.take("gsm", c) for c in ("a", "b", "c", "d")] == [True, True, True, False]
    assert [book.port(c) for c in ("a", "b", "c")] == [0, 1, 2]
    book.release("b")
    assert book.take("gsm", "e") and book.port("e") == 1  # the free port, not a busy one
    book.release("a")
    book.release("c")
    assert book.take("gsm", "f") and book.port("f") == 2  # round robin goes on from the last port used


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 12)), max_size=120), ports=st.integers(1, 6))
def test_a_port_never_carries_two_calls(ops: list[tuple[bool, int]], ports: int) -> None:
    book = LineBook([Trunk("gsm", ports, ports=ports)])
    for take, n in ops:
        if take:
            book.take("gsm", f"c{n}")
        else:
            book.release(f"c{n}")
        held = book.trunks["gsm"].port_of
        assert len(set(held.values())) == len(held) <= ports
        assert set(held) == book.trunks["gsm"].outbound


# -- health ------------------------------------------------------------------------------------------
def _health() -> TrunkHealth:
    return TrunkHealth([TrunkWatch("prov", registers=True, client_uri="sip:wr@10.0.0.2:5060",
                                   server_uri="sip:10.0.0.2:5060", qualified=True),
                        TrunkWatch("ip", qualified=True)])


def test_health_from_asterisks_events() -> None:
    h = _health()
    assert h.gate("prov") is not None and "registering" in h.gate("prov")  # type: ignore[operator]
    assert h.gate("ip") is None and h.gate("not-watched") is None
    h.registration(RegistrationChanged(client_uri="<sip:wr@10.0.0.2:5060>", server_uri="sip:10.0.0.2:5060",
                                       status="Registered", at=AT))
    assert h.gate("prov") is None
    h.registration(RegistrationChanged(client_uri="sip:wr@10.0.0.2:5060", status="Rejected", at=AT))
    assert h.gate("prov") == "rejected: 401/403: the provider refused our registration (check the trunk's " \
                             "username and password)"
    h.contact(ContactChanged(aor="prov", status="Unreachable", at=AT))  # no answer at all: unreachable
    assert h.gate("prov") == "unreachable: no answer to SIP OPTIONS from 10.0.0.2:5060"
    h.contact(ContactChanged(aor="prov", status="Reachable", rtt_usec=1500, at=AT + timedelta(seconds=5)))
    h.registration(RegistrationChanged(client_uri="sip:wr@10.0.0.2:5060", status="Registered",
                                       at=AT + timedelta(seconds=6)))
    assert h.snapshot()["prov"]["state"] == "up" and h.snapshot()["prov"]["rtt_ms"] == 1.5
    # a call that started during the outage was the trunk's fault; one started after it was not
    assert "was rejected" in (h.fault("prov", AT - timedelta(seconds=1)) or "")
    assert h.fault("prov", AT + timedelta(seconds=7)) is None
    assert h.registration(RegistrationChanged(client_uri="sip:someone@else", status="Rejected")) is None


def test_choosing_a_trunk() -> None:
    h = _health()
    h.set_registration("prov", "Rejected", AT)
    free = {"prov": 3, "ip": 0}.__getitem__
    known = {"prov", "ip"}.__contains__
    assert choose(["prov", "ip"], free, h, known) == (None, 0, None)  # ip is up but busy: nothing to say
    assert choose(["prov"], free, h, known)[2] == f"trunk prov {h.gate('prov')}"
    assert choose(["gone"], free, AllUp(), known)[2] == "trunk gone is not configured"
    assert choose(["prov", "ip"], {"prov": 3, "ip": 2}.__getitem__, h, known) == ("ip", 2, None)
    assert trunk_names(" prov, ip ,") == ["prov", "ip"]


@pytest.mark.parametrize(("name", "headers", "expected"), [
    ("Registry", {"ChannelType": "PJSIP", "Username": "sip:wr@10.0.0.2:5060", "Domain": "sip:10.0.0.2:5060",
                  "Status": "Rejected"}, RegistrationChanged(client_uri="sip:wr@10.0.0.2:5060",
                                                             server_uri="sip:10.0.0.2:5060", status="Rejected")),
    ("ContactStatus", {"URI": "sip:10.0.0.2:5060", "ContactStatus": "Unreachable", "AOR": "prov",
                       "EndpointName": "prov"}, ContactChanged(aor="prov", endpoint="prov", uri="sip:10.0.0.2:5060",
                                                               status="Unreachable")),
])
def test_trunk_events_are_typed(name: str, headers: dict[str, str], expected: object) -> None:
    event = ami_events.parse_event(name, {**headers, "Timestamp": "1764438417.0"})
    assert event == type(expected)(**{**expected.__dict__, "at": event.at})  # type: ignore[union-attr]


# -- the dialer with trunks that go down -----------------------------------------------------------
@asynccontextmanager
async def _dialer(database: Database, health: TrunkHealth, trunks: list[Trunk],
                  plans: dict[str, DialPlan] | None = None, phones: int = 2) -> AsyncIterator[World]:
    bus = EventBus()
    ami = FakeAmi(bus)
    now = [NOON_IST]
    numbers = [f"+91982611{i:04d}" for i in range(phones)]
    ids = database.transaction(_people, numbers)
    config = DialerConfig(trunks=trunks, rules=CallingRules(min_gap=timedelta(0), max_per_day=20),
                          settle_seconds=0.1, poll_interval=0.05, reconcile_grace=0, plans=plans or {})
    dialer = Dialer(ami, bus, database, config, clock=lambda: now[0], trunks=health)
    await dialer.start()
    try:
        yield World(database, ami, dialer, bus, ids, [], now)
    finally:
        await dialer.stop()


def _waiting(w: World) -> str | None:
    with w.db.sessions() as s:
        return s.scalar(select(Campaign.waiting))


def _set_trunk(w: World, name: str) -> None:
    with w.db.sessions.begin() as s:
        s.execute(Campaign.__table__.update().values(trunk=name))


async def test_a_campaign_waits_while_its_trunk_is_down_and_says_why(database: Database) -> None:
    health = _health()
    health.set_registration("prov", "Rejected", AT)
    async with _dialer(database, health, [Trunk("prov", 2)]) as w:
        w.campaign(retry=["failed=1/0s"])
        _set_trunk(w, "prov")
        await until(lambda: "rejected: 401/403" in (_waiting(w) or ""), 5, "the campaign saying why it waits")
        assert w.ami.originated == [] and {t.state for t in w.targets()} == {TargetState.queued}
        health.set_registration("prov", "Registered", AT)
        await until(lambda: len(w.dialing()) == 2, 5, "the calls once the trunk is back")
        await until(lambda: _waiting(w) is None, 5, "the reason gone")


async def test_a_campaign_allowing_several_trunks_uses_the_next(database: Database) -> None:
    health = _health()
    health.set_registration("prov", "Rejected", AT)
    plans = {"ip": DialPlan("ip", number_format="national")}
    async with _dialer(database, health, [Trunk("prov", 2), Trunk("ip", 1)], plans) as w:
        w.campaign()
        _set_trunk(w, "prov,ip")
        await until(lambda: len(w.dialing()) == 1, 5, "a call on the next trunk")
        assert w.ami.originated[0].channel.endswith("@ip") and "/0982611" in w.ami.originated[0].channel
        assert _waiting(w) is None  # it dials: it does not wait
        assert w.attempts()[0].trunk == "ip"


async def test_a_call_failed_by_its_trunk_does_not_use_up_the_persons_tries(database: Database) -> None:
    health = _health()
    health.set_registration("prov", "Registered", AT)
    async with _dialer(database, health, [Trunk("prov", 1)], phones=1) as w:
        w.campaign(retry=["no_answer=1/0s", "congestion=1/0s"])
        _set_trunk(w, "prov")
        await until(lambda: len(w.dialing()) == 1, 5, "the call")
        cid = w.dialing()[0]
        health.contact(ContactChanged(aor="prov", status="Unreachable", at=datetime.now(UTC)))  # provider gone
        w.ami.fail(cid, HangupCause.NO_ANSWER, OriginateReason.NO_ANSWER)
        await until(lambda: w.attempts()[0].disposition is not None, 5, "the attempt settled")
        attempt = w.attempts()[0]
        assert attempt.disposition is Disposition.congestion and "trunk prov unreachable" in (attempt.detail or "")
        assert [(t.state, t.tries_by) for t in w.targets()] == [(TargetState.queued, {})]
        health.contact(ContactChanged(aor="prov", status="Reachable", at=datetime.now(UTC)))
        await until(lambda: len(w.ami.originated) == 2, 5, "dialed again once the trunk is back")


async def test_gateway_calls_go_out_on_their_ports(database: Database) -> None:
    plans = {"gsm": DialPlan("gsm", number_format="ten", ports=(GatewayPort("1"), GatewayPort("2")))}
    async with _dialer(database, _health(), [Trunk("gsm", 2, ports=2)], plans, phones=3) as w:
        w.campaign()
        _set_trunk(w, "gsm")
        await until(lambda: len(w.dialing()) == 2, 5, "both ports busy")
        assert sorted(r.channel.split("/")[1][0] for r in w.ami.originated) == ["1", "2"]


async def test_stopping_starts_no_call_and_settles_those_in_flight(database: Database) -> None:
    async with _dialer(database, _health(), [Trunk("ip", 2)], phones=4) as w:
        w.campaign()
        _set_trunk(w, "ip")
        await until(lambda: len(w.dialing()) == 2, 5, "two calls")
        first, second = w.dialing()
        w.ami.answer(first)
        stopping = asyncio.create_task(w.dialer.wind_down(timeout=3.0))  # room for the first to settle
        w.ami.hang_up(first)           # one ends by itself (its line is free: nothing new is dialed on it)...
        await until(lambda: stopping.done() or second in w.ami.hung_up, 5, "the other hung up at the deadline")
        w.ami.fail(second, HangupCause.NORMAL_CLEARING, OriginateReason.HANGUP)  # ...as Asterisk then reports
        assert await stopping == 1
        assert len(w.ami.originated) == 2  # nothing new was dialed while stopping
        assert all(a.disposition is not None for a in w.attempts())


async def test_a_pass_claiming_when_the_stop_begins_dials_nothing_and_gives_the_targets_back(
        database: Database) -> None:
    async with _dialer(database, _health(), [Trunk("ip", 2)], phones=4) as w:
        w.campaign()
        _set_trunk(w, "ip")
        real_claim = claims.claim

        def claim_then_stop(*args: Any, **kwargs: Any) -> Any:
            got = real_claim(*args, **kwargs)
            w.dialer.hold_new_calls()  # SIGTERM arrives while the claim is being written
            return got

        with patch.object(claims, "claim", claim_then_stop):
            w.dialer.wake()
            await until(lambda: w.attempts() and all(a.disposition is not None for a in w.attempts()), 5,
                        "the claimed attempts settled")
        assert w.ami.originated == [], "nothing was dialed after the stop began"
        assert {a.disposition for a in w.attempts()} == {Disposition.cancelled}
        assert not w.dialer.book.calls and w.dialer.book.free("ip") == 2, "lines and phones given back"
