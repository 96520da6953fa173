"""The phone in the browser without Asterisk: the Asterisk side rendered (HTTPS and the secure WebSocket,
DTLS-SRTP endpoints, Opus, ICE without STUN), the browser phone's secret made per web session and gone with
it, calls routed to the browser phone before the softphone, and the call quality the pages post."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user, open_session, session_id
from adapters.ami import AmiClient
from adapters.ari import AriClient
from ari_handlers.dispatch import Dispatcher, Offer, TransferError
from ari_handlers.queue import OperatorQueue
from cluster.presence import _home_of
from core.errors import Conflict, Forbidden
from core.sip import md5_cred
from db.engine import Database
from db.ivr import QueueCall
from db.models import utcnow
from db.operators import OperatorState
from db.phones import BrowserPhone, CallQuality
from db.users import User, WebSession
from events.asterisk import StasisStarted
from events.bus import EventBus
from operators import quality
from operators.listen import ListenIn
from operators.quality import Sample
from operators.softphones import Softphones
from operators.states import change
from operators.webphones import WebPhone, endpoints, issue, live_web_phones, render_web, username_of
from sandbox.render import AsteriskDirs, render_all
from tests.unit.test_console import signed_in
from tests.unit.test_listen import AGENT, FakeAmi, FakeAri, FakePhones
from tests.web_app import PASSWORDS, build_web_app
from warroom.compose import TEMPLATE_DIR, browser_phones, template_context
from warroom.settings import AsteriskSettings, Settings, WebRtcSettings, with_secrets
from web.services import PhoneServer


def _render(tmp_path: Path, **ast: Any) -> Path:
    settings = with_secrets(Settings(state_dir=tmp_path / "state", asterisk=AsteriskSettings(**ast)))
    out = tmp_path / "etc"
    render_all(TEMPLATE_DIR, out, {**template_context(settings.asterisk), "dirs": AsteriskDirs.standard()})
    return out


# -- Asterisk's side ------------------------------------------------------------------------------------
def test_https_websocket_transport_and_modules_rendered(tmp_path: Path) -> None:
    out = _render(tmp_path, http_port=28088)
    http = (out / "http.conf").read_text()
    assert "bindaddr = 127.0.0.1" in http and "bindport = 28088" in http  # ARI stays on plain loopback HTTP
    assert "tlsenable = yes" in http and "tlsbindaddr = 127.0.0.1:28089" in http
    assert "tlscertfile = /etc/asterisk/keys/warroom-sandbox.crt" in http  # the sandbox makes it
    assert "protocol = wss" in (out / "pjsip.conf").read_text()
    modules = (out / "modules.conf").read_text()
    for module in ("res_http_websocket", "res_pjsip_transport_websocket", "res_srtp", "codec_opus_open_source",
                   "res_format_attr_opus"):
        assert f"load => {module}.so" in modules


def test_a_real_certificate_another_port_and_address(tmp_path: Path) -> None:
    out = _render(tmp_path, webrtc=WebRtcSettings(port=8443, bind="::", cert_file="/etc/ssl/war.pem",
                                                  key_file="/etc/ssl/war.key"))
    http = (out / "http.conf").read_text()
    assert "tlsbindaddr = [::]:8443" in http
    assert "tlscertfile = /etc/ssl/war.pem" in http and "tlsprivatekey = /etc/ssl/war.key" in http
    with pytest.raises(ValueError, match="together"):
        WebRtcSettings(cert_file="/etc/ssl/war.pem")
    with pytest.raises(ValueError):
        WebRtcSettings(cert_file="/etc/ssl/war.pem\ntlsenable = no", key_file="/k")


def test_browser_phones_can_be_left_out(tmp_path: Path) -> None:
    ast = AsteriskSettings(webrtc=WebRtcSettings(enabled=False))
    out = _render(tmp_path, webrtc=WebRtcSettings(enabled=False))
    assert "tls" not in (out / "http.conf").read_text()
    assert "wss" not in (out / "pjsip.conf").read_text()
    assert "icesupport = no" in (out / "rtp.conf").read_text()
    assert browser_phones(ast) is None
    assert browser_phones(AsteriskSettings()).media_address == "127.0.0.1"  # type: ignore[union-attr]
    assert browser_phones(AsteriskSettings(webrtc=WebRtcSettings(bind="0.0.0.0"))).media_address is None  # type: ignore[union-attr]


def test_web_endpoint_is_webrtc_with_opus_first_and_only_a_digest() -> None:
    text = render_web([WebPhone("op-asha-web", 'Asha "A" Devi;', "s3cret")], media_address="127.0.0.1")
    assert re.search(r"^\[op-asha-web\]\ntype = endpoint\n", text, re.M)
    for line in ("webrtc = yes", "dtls_auto_generate_cert = yes", "allow = opus,ulaw,alaw",
                 "outgoing_call_offer_pref = local_merge", "dtmf_mode = rfc4733",
                 "media_address = 127.0.0.1", "bind_rtp_to_media_address = yes", "max_contacts = 1",
                 f"md5_cred = {md5_cred('op-asha-web', 's3cret')}", 'callerid = "Asha A Devi" <op-asha-web>'):
        assert line in text, line
    assert "s3cret" not in text
    assert "media_address" not in render_web([WebPhone("op-asha-web", "Asha", "x")])
    # a user named "asha-web" owns the softphone op-asha-web: asha's browser phone is left out
    assert render_web([WebPhone("op-asha-web", "Asha", "x")], taken=["op-asha-web"]) == ""


def test_endpoint_names() -> None:
    assert endpoints("asha") == ("op-asha-web", "op-asha")
    assert username_of("op-asha-web") == username_of("op-asha") == "asha"
    assert username_of("op-asha-web", ["asha-web"]) == "asha-web"


# -- the secret, per web session ------------------------------------------------------------------------
def _user(s: Session, name: str, role: str = "operator") -> User:
    return add_user(s, name, role, "Operator-pass-1", name.title())


def test_secret_per_session_rotated_by_a_new_sign_in_and_gone_with_the_session(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        asha = _user(s, "asha")
        first = session_id(open_session(s, asha, "127.0.0.1", timedelta(hours=1)))
        second = session_id(open_session(s, asha, "127.0.0.1", timedelta(hours=1)))
        a = issue(s, asha.id, first)
        again = issue(s, asha.id, first)
        assert a.fresh and not again.fresh and again.secret == a.secret and a.endpoint == "op-asha-web"
        assert len(a.secret) >= 30
    with session_factory.begin() as s:
        assert [p.secret for p in live_web_phones(s)] == [a.secret]
        b = issue(s, asha.id, second)  # another sign-in takes the phone over with a new secret
        assert b.fresh and b.secret != a.secret
        assert [p.secret for p in live_web_phones(s)] == [b.secret]
    with session_factory.begin() as s:  # signing out (the session row goes): the secret goes with it
        s.execute(delete(WebSession).where(WebSession.id == second))
    with session_factory() as s:
        assert s.scalars(select(BrowserPhone)).all() == [] and live_web_phones(s) == []


def test_expired_sessions_disabled_users_and_other_nodes_get_no_endpoint(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        asha, ravi = _user(s, "asha"), _user(s, "ravi")
        ravi.home_node = "node2"
        issue(s, asha.id, session_id(open_session(s, asha, None, timedelta(hours=1))))
        issue(s, ravi.id, session_id(open_session(s, ravi, None, timedelta(hours=1))))
    with session_factory() as s:
        assert {p.endpoint for p in live_web_phones(s)} == {"op-asha-web", "op-ravi-web"}
        assert {p.endpoint for p in live_web_phones(s, "node1")} == {"op-asha-web"}
        assert live_web_phones(s, now=utcnow() + timedelta(hours=2)) == []
        assert _home_of(s, "op-ravi-web") == _home_of(s, "op-ravi") == "node2"
    with session_factory.begin() as s:
        s.get(User, asha.id).disabled = True  # type: ignore[union-attr]
    with session_factory() as s:
        assert {p.endpoint for p in live_web_phones(s)} == {"op-ravi-web"}


def test_a_users_name_clash_is_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        asha = _user(s, "asha")
        _user(s, "asha-web")
        token = open_session(s, asha, None, timedelta(hours=1))
        with pytest.raises(Conflict, match="another user's softphone"):
            issue(s, asha.id, session_id(token))


# -- call quality ---------------------------------------------------------------------------------------
def test_quality_kept_with_the_call_worst_values_and_flags(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        asha, ravi = _user(s, "asha"), _user(s, "ravi")
        s.add(QueueCall(channel_id="ch-1", note=""))
        change(s, asha.id, OperatorState.ready)
        change(s, asha.id, OperatorState.on_call, by_system=True, channel_id="ch-1")
    with session_factory.begin() as s:
        quality.record(s, asha.id, "ch-1", Sample(100, 0, 100, 4.0, 20.0, "opus"))
        with pytest.raises(Forbidden):
            quality.record(s, ravi.id, "ch-1", Sample(1, 0, 1))
    with session_factory.begin() as s:
        change(s, asha.id, OperatorState.wrap_up, by_system=True)
        change(s, asha.id, OperatorState.ready)  # the call is over; the page's last sample still counts
        row = quality.record(s, asha.id, "ch-1", Sample(900, 100, 950, 45.0, 12.0), ended=True)
        assert row.queue_call_id is not None and row.samples == 2 and row.ended
    with session_factory() as s:
        [stored] = s.scalars(select(CallQuality)).all()
        assert (stored.packets_received, stored.packets_lost, stored.max_jitter_ms, stored.max_rtt_ms,
                stored.jitter_ms, stored.codec) == (900, 100, 45.0, 20.0, 45.0, "opus")
        last = quality.last_calls(s)
        assert list(last) == [asha.id]
        assert last[asha.id]["loss"] == pytest.approx(0.1)
        assert last[asha.id]["bad"] == ["10% lost", "jitter 45 ms"]
        assert quality.last_calls(s, utcnow() + timedelta(days=1)) == {}


def test_loss_and_bad() -> None:
    assert quality.loss(0, 0) == 0.0 and quality.loss(97, 3) == pytest.approx(0.03) and quality.loss(10, -2) == 0
    assert quality.bad({"loss": 0.01, "max_jitter_ms": 10.0, "max_rtt_ms": 301.0}) == ["round trip 301 ms"]


# -- the web side ---------------------------------------------------------------------------------------
def test_credentials_for_the_signed_in_page_only_never_on_the_page(tmp_path: Path) -> None:
    web = build_web_app(tmp_path)
    client, csrf = signed_in(web.app, "op", PASSWORDS["op"])
    assert client.post("/phone/credentials").status_code == 403  # CSRF token needed
    resp = client.post("/phone/credentials", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    creds = resp.json()
    assert creds["endpoint"] == "op-op-web" and creds["fresh"] and creds["ws_url"] == "wss://testserver:8089/ws"
    assert web.phones_changed == [1]  # Asterisk is told at once
    again = client.post("/phone/credentials", headers={"X-CSRF-Token": csrf}).json()
    assert again["secret"] == creds["secret"] and not again["fresh"] and web.phones_changed == [1]
    assert creds["secret"] not in client.get("/console").text
    other, other_csrf = signed_in(web.app, "op", PASSWORDS["op"])  # a new sign-in: a new secret
    assert other.post("/phone/credentials", headers={"X-CSRF-Token": other_csrf}).json()["secret"] != creds["secret"]
    sup, sup_csrf = signed_in_as_staff(web.app)
    assert sup.post("/phone/credentials", headers={"X-CSRF-Token": sup_csrf}).json()["endpoint"] == "op-sup-web"
    assert PhoneServer(8089, "wss://pbx.example/ws").ws_url("x") == "wss://pbx.example/ws"
    assert PhoneServer(8089).ws_url("::1") == "wss://[::1]:8089/ws"
    assert PhoneServer(8089).origin("10.0.0.5") == "wss://10.0.0.5:8089"  # for a CSP's connect-src
    assert PhoneServer(8089, "wss://pbx.example/sip/ws").origin("x") == "wss://pbx.example"


def signed_in_as_staff(app: Any) -> tuple[Any, str]:
    from fastapi.testclient import TestClient

    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert token
    client.post("/signin", data={"username": "sup", "password": PASSWORDS["sup"], "csrf_token": token.group(1),
                                 "next": "/dashboard"})
    csrf = re.search(r'"csrf": "([^"]+)"|name="csrf" content="([^"]+)"|csrf_token" value="([^"]+)"',
                     client.get("/dashboard").text)
    assert csrf
    return client, next(g for g in csrf.groups() if g)


def test_quality_posted_by_the_page_and_the_console_module(tmp_path: Path) -> None:
    web = build_web_app(tmp_path)
    with web.sessions.begin() as s:
        op = s.scalar(select(User).where(User.username == "op"))
        assert op is not None
        s.add(QueueCall(channel_id="ch-9", note=""))
        change(s, op.id, OperatorState.ready)
        change(s, op.id, OperatorState.on_call, by_system=True, channel_id="ch-9")
    client, csrf = signed_in(web.app, "op", PASSWORDS["op"])
    h = {"X-CSRF-Token": csrf}
    body = {"channel_id": "ch-9", "packets_received": 250, "packets_lost": 2, "packets_sent": 251,
            "jitter_ms": 3.5, "rtt_ms": 1.2, "codec": "opus"}
    made = client.post("/phone/quality", json=body, headers=h)
    assert made.status_code == 201 and made.json()["packets_received"] == 250
    assert client.post("/phone/quality", json={**body, "channel_id": "ch-8"}, headers=h).status_code == 403
    assert client.post("/phone/quality", json={**body, "codec": "op<us"}, headers=h).status_code == 422
    page = client.get("/console").text
    assert '<script type="module" src="/static/console.js">' in page and "<script>" not in page
    assert " on" + "click=" not in page
    assert client.get("/static/console.js").status_code == 200
    assert "export class BrowserPhone" in client.get("/static/phone.js").text


# -- who rings: the browser phone first -----------------------------------------------------------------
@dataclass
class RecordingAri(FakeAri):
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    config: Any = None

    async def request(self, method: str, path: str, **params: Any) -> Any:
        if method == "POST":
            self.posted.append((path, params))
            return {}
        return await super().request(method, path, **params)


def _dispatcher(database: Database, ari: Any, phones: FakePhones) -> Dispatcher:
    return Dispatcher(cast(AriClient, ari), EventBus(), database, cast(OperatorQueue, object()),
                      cast(Softphones, phones), ring_seconds=9)


async def test_calls_listen_in_and_transfers_ring_the_browser_phone_first(
        session_factory: sessionmaker[Session], database: Database) -> None:
    with session_factory.begin() as s:
        asha, meera = _user(s, "asha"), _user(s, "meera", "supervisor")
        ravi = _user(s, "ravi")
        ids = asha.id, meera.id, ravi.id
    phones = FakePhones({"op-asha", "op-asha-web", "op-meera-web"})
    ari = RecordingAri({AGENT: {"id": AGENT, "name": "PJSIP/op-asha-web-00000001"}})
    ari.config = type("Config", (), {"app": "warroom"})()
    d = _dispatcher(database, ari, phones)
    assert await d._route(ids[0]) == "PJSIP/op-asha-web"
    phones.online.discard("op-asha-web")
    assert await d._route(ids[0]) == "PJSIP/op-asha"  # the SIP softphone when the page's phone is off
    assert await d._route(ids[2]) is None

    ami = FakeAmi()
    listen = ListenIn(cast(AmiClient, ami), cast(AriClient, ari), database, cast(Softphones, phones),
                      lambda: {ids[0]: AGENT})
    await listen.start(ids[1], ids[0], "listen")
    assert ami.sent[0]["Channel"] == "PJSIP/op-meera-web"

    with pytest.raises(TransferError, match="not on a connected call"):
        await d.transfer(ids[0], ids[1])
    d.offers[AGENT] = Offer("caller-1", ids[0], connected=True, bridge_id="call-1")
    with pytest.raises(TransferError, match="supervisors only"):
        await d.transfer(ids[0], ids[2])
    leg = await d.transfer(ids[0], ids[1])
    [(path, params)] = ari.posted
    assert path == f"/channels/{leg}" and params["endpoint"] == "PJSIP/op-meera-web"
    assert params["appArgs"] == "transfer,caller-1" and params["callerId"] == "Transfer: Asha <transfer>"
    with pytest.raises(TransferError, match="already being handed over"):
        await d.transfer(ids[0], ids[1])
    # the supervisor answers: they join the caller's bridge and the operator's leg is hung up
    ari.channels[leg] = {"id": leg}
    await d._on_ari(StasisStarted(leg, args=("transfer", "caller-1")))
    assert ari.posted[-1] == ("/bridges/call-1/addChannel", {"channel": leg})
    assert AGENT in ari.deleted and d.by_caller["caller-1"] == leg
    phones.online.clear()
    d.offers.clear()
    d.offers["agent-2"] = Offer("caller-2", ids[0], connected=True, bridge_id="call-2")
    with pytest.raises(TransferError, match="Meera has no registered phone"):
        await d.transfer(ids[0], ids[1])
