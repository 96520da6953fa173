"""The web side's protections (issue 13, finding 6, and the console's secret): security headers on every
answer, scripts only with the page's nonce, /docs with local assets for admins only, /healthz without error
text, live streams that end with their session, idle sessions that end, the console never cached."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accounts.service import set_disabled
from tests.unit.test_web_auth import csrf_of, sign_in
from tests.web_app import WebApp, build_web_app
from web.app import ComponentHealth, create_app


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    built = build_web_app(tmp_path, stream_check=0.2)
    yield built
    built.engine.dispose()


def client_as(web: WebApp, user: str | None) -> TestClient:
    client = TestClient(web.app)
    if user:
        assert sign_in(client, user)[0] == 303
    return client


HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def test_every_answer_carries_the_security_headers(web: WebApp) -> None:
    anon, sup = client_as(web, None), client_as(web, "sup")
    answers = [anon.get("/signin"), anon.get("/api/campaigns"), anon.get("/", follow_redirects=False),
               anon.get("/healthz"), sup.get("/dashboard"), sup.get("/api/live"), sup.get("/nowhere")]
    for resp in answers:
        for name, value in HEADERS.items():
            assert resp.headers.get(name) == value, (resp.url, name)
        csp = resp.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp
        assert resp.headers["cache-control"] == "no-store", resp.url
    assert sup.get("/static/plotly.min.js").headers["cache-control"].startswith("max-age"), "static files cache"


def test_every_script_and_style_of_a_page_has_the_requests_nonce(web: WebApp) -> None:
    sup, op = client_as(web, "sup"), client_as(web, "op")
    for resp in (sup.get("/dashboard"), op.get("/console"), sup.get("/signin"), client_as(web, "adm").get("/"),
                 sup.get("/pollday/1"), sup.get("/pollday/1/counting")):
        nonce = re.search(r"'nonce-([^']+)'", resp.headers["content-security-policy"])
        assert nonce, resp.url
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", resp.text):
            assert f'nonce="{nonce.group(1)}"' in tag or " src=" in tag, (resp.url, tag)
        assert not re.search(r"\sstyle=", resp.text), f"{resp.url}: a style attribute the CSP would refuse"
    assert sup.get("/dashboard").headers["content-security-policy"] != \
        sup.get("/dashboard").headers["content-security-policy"], "a new nonce per request"


def test_the_console_with_the_sip_secret_is_never_cached(web: WebApp) -> None:
    resp = client_as(web, "op").get("/console")
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"


def test_docs_are_for_admins_with_local_assets_only(web: WebApp) -> None:
    anon = client_as(web, None)
    assert anon.get("/docs", follow_redirects=False).status_code == 303
    assert anon.get("/openapi.json", follow_redirects=False).status_code == 303
    for user in ("sup", "op"):
        client = client_as(web, user)
        assert client.get("/docs").status_code == 403 and client.get("/openapi.json").status_code == 403
    adm = client_as(web, "adm")
    page = adm.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/docs/") for s in sources), sources
    for source in sources:
        asset = adm.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    assert "cdn" not in page.text.lower()
    assert adm.get("/openapi.json").json()["paths"]["/api/campaigns"]


def test_healthz_says_ok_or_degraded_per_part_without_error_text() -> None:
    async def health() -> dict[str, ComponentHealth]:
        return {"ami": ComponentHealth(up=False, detail="ConnectionRefusedError: [Errno 111] 127.0.0.1:5038"),
                "ari": ComponentHealth(up=True, detail="connected"),
                "db": ComponentHealth(up=False, detail="OperationalError: password authentication failed")}

    resp = TestClient(create_app(health=health)).get("/healthz")
    assert resp.status_code == 503
    assert resp.json() == {"status": "degraded", "components": {"ami": "degraded", "ari": "ok", "db": "degraded"}}
    assert "Error" not in resp.text and "127.0.0.1" not in resp.text


def read_stream(client: TestClient, path: str, then: object, limit: float = 10.0) -> list[str]:
    """Open the live stream, call ``then()`` once its snapshot came, and return every line until the stream
    ends (or ``limit`` seconds pass: then the stream is still open, which the caller's asserts catch)."""
    lines: list[str] = []
    deadline = time.monotonic() + limit
    with client.stream("GET", path) as stream:
        assert stream.status_code == 200
        acted = False
        for line in stream.iter_lines():
            lines.append(line)
            if not acted and line.startswith("event: snapshot"):
                threading.Thread(target=then).start()  # type: ignore[arg-type]
                acted = True
            if line.startswith("event: signed_out") or time.monotonic() > deadline:
                break
    return lines


@pytest.mark.parametrize("how", ["sign_out", "disabled"])
def test_a_live_stream_ends_when_its_session_does(web: WebApp, how: str) -> None:
    """Before, the dashboard's and console's streams went on after sign-out or a disabled user, forever."""
    for user, path in (("sup", "/dashboard/events"), ("op", "/console/events")):
        client = client_as(web, user)
        other = TestClient(web.app, cookies=dict(client.cookies))

        def end(other: TestClient = other, user: str = user) -> None:
            if how == "sign_out":
                other.post("/signout", data={"csrf_token": csrf_of(other)}, follow_redirects=False)
            else:
                with web.sessions.begin() as s:
                    set_disabled(s, user)

        lines = read_stream(client, path, end)
        assert lines[-1] == "event: signed_out", (user, lines[-5:])
        if how == "disabled":
            with web.sessions.begin() as s:
                set_disabled(s, user, False)


def test_an_idle_session_ends_and_only_the_users_own_requests_keep_it(tmp_path: Path) -> None:
    web = build_web_app(tmp_path, idle=timedelta(seconds=2), stream_check=0.2)
    try:
        sup = client_as(web, "sup")
        token = csrf_of(sup)
        for _ in range(3):  # the page's own refreshes do not count as the user being there...
            time.sleep(0.5)  # proving that time passes without activity
            assert sup.get("/api/live").status_code == 200
        time.sleep(0.6)
        assert sup.get("/api/live").status_code == 401, "idle for more than 2 s: signed out"
        sup = client_as(web, "sup")
        token = csrf_of(sup)
        for _ in range(4):  # ...a key pressed or a click does
            time.sleep(0.6)
            assert sup.post("/session/active", headers={"X-CSRF-Token": token}).status_code == 204
        assert sup.get("/api/live").status_code == 200
    finally:
        web.engine.dispose()
