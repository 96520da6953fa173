"""The web layer's sign-in: deny by default, roles on every route, CSRF on every change, rate-limited
sign-in, safe cookies and redirects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web_app import PASSWORDS, build_web_app
from web.auth import Auth


@pytest.fixture
def app_parts(tmp_path: Path) -> Iterator[tuple[Any, Auth]]:
    web = build_web_app(tmp_path)
    yield web.app, web.auth
    web.engine.dispose()


def sign_in(client: TestClient, user: str, password: str | None = None) -> tuple[int, str]:
    page = client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text
    resp = client.post("/signin", data={"username": user, "password": password or PASSWORDS[user],
                                        "csrf_token": csrf.group(1), "next": "/"}, follow_redirects=False)
    return resp.status_code, resp.headers.get("set-cookie", "")


def csrf_of(client: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert match
    return match.group(1)


def test_deny_by_default_without_a_session(app_parts: tuple[Any, Auth]) -> None:
    client = TestClient(app_parts[0])
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/campaigns").status_code == 401
    assert client.get("/api/live").status_code == 401
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/signin?next=/"
    assert client.post("/api/campaigns", json={"name": "x"}).status_code == 401
    assert client.get("/openapi.json", follow_redirects=False).status_code == 303, "the API description too"


def test_sign_in_sets_a_safe_cookie_and_wrong_passwords_are_rate_limited(app_parts: tuple[Any, Auth]) -> None:
    client = TestClient(app_parts[0])
    status, cookie = sign_in(client, "sup")
    assert status == 303
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert client.get("/api/campaigns").status_code == 200
    other = TestClient(app_parts[0])
    for _ in range(3):
        assert sign_in(other, "op", "not the password")[0] == 401
    status, _ = sign_in(other, "op")  # even the right password waits now
    assert status == 429
    page = other.get("/signin")
    stale = other.post("/signin", data={"username": "op", "password": "x", "csrf_token": "forged"})
    assert page.status_code == 200 and stale.status_code == 403 and "form expired" in stale.text


def test_roles_and_csrf_on_the_api(app_parts: tuple[Any, Auth]) -> None:
    op = TestClient(app_parts[0])
    assert sign_in(op, "op")[0] == 303
    assert op.get("/").status_code == 200
    assert op.get("/api/campaigns").status_code == 403, "operators do not reach supervisors' actions"
    sup = TestClient(app_parts[0])
    sign_in(sup, "sup")
    body = {"name": "c1", "mode": "operator"}
    assert sup.post("/api/campaigns", json=body).status_code == 403, "no CSRF token"
    assert sup.post("/api/campaigns", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    ok = sup.post("/api/campaigns", json=body, headers={"X-CSRF-Token": csrf_of(sup)})
    assert ok.status_code == 201, ok.text
    out = sup.post("/signout", data={"csrf_token": csrf_of(sup)}, follow_redirects=False)
    assert out.status_code == 303
    assert sup.get("/api/campaigns").status_code == 401


def test_redirect_after_sign_in_stays_on_this_site(app_parts: tuple[Any, Auth]) -> None:
    client = TestClient(app_parts[0])
    page = client.get("/signin?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    resp = client.post("/signin", data={"username": "adm", "password": PASSWORDS["adm"], "csrf_token": csrf.group(1),
                                        "next": "https://evil.example/"}, follow_redirects=False)
    assert resp.headers["location"] == "/"


ALL, STAFF, ADMIN = {"adm", "sup", "op"}, {"adm", "sup"}, {"adm"}
# every route of the app and who may use it: a new route must be added here, which forces the decision
ACCESS: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): ALL, ("POST", "/language"): ALL, ("POST", "/signout"): ALL,
    ("GET", "/api/campaigns"): STAFF, ("POST", "/api/campaigns"): STAFF,
    ("GET", "/api/campaigns/{ref}"): STAFF, ("POST", "/api/campaigns/{ref}/{action}"): STAFF,
    ("GET", "/api/live"): STAFF,
    ("GET", "/api/pacing"): STAFF, ("PUT", "/api/campaigns/{ref}/pacing"): STAFF,
    ("POST", "/campaigns/{campaign_id}/pacing"): STAFF,
    ("GET", "/api/callbacks"): ALL, ("POST", "/api/callbacks/{task_id}/done"): ALL,
    ("GET", "/console"): {"op"}, ("GET", "/console/state"): {"op"}, ("POST", "/console/state"): {"op"},
    ("GET", "/console/events"): {"op"}, ("POST", "/console/disposition"): {"op"}, ("POST", "/console/ticket"): {"op"},
    ("POST", "/console/pin"): {"op"},
    ("GET", "/console/supervisors"): {"op"}, ("POST", "/console/transfer"): {"op"},
    ("GET", "/console/callbacks"): {"op"}, ("POST", "/console/callbacks/{task_id}/take"): {"op"},
    ("POST", "/console/callbacks/{task_id}/release"): {"op"}, ("POST", "/console/callbacks/{task_id}/close"): {"op"},
    ("POST", "/phone/credentials"): {"adm", "sup", "op"}, ("POST", "/phone/quality"): {"op"},
    ("GET", "/dashboard"): STAFF, ("GET", "/dashboard/events"): STAFF, ("GET", "/api/dashboard"): STAFF,
    ("GET", "/api/charts"): STAFF, ("GET", "/api/drill"): STAFF, ("GET", "/api/tickets"): STAFF,
    ("GET", "/api/tickets/choices"): STAFF, ("POST", "/api/tickets/{ticket_id}/assign"): STAFF,
    ("POST", "/api/tickets/{ticket_id}/resolve"): STAFF, ("POST", "/api/listen"): STAFF, ("GET", "/metrics"): STAFF,
    ("GET", "/api/reports/{kind}"): STAFF, ("POST", "/session/active"): ALL,
    ("GET", "/admin/audit"): ADMIN, ("GET", "/api/audit"): ADMIN, ("GET", "/admin/erase"): ADMIN,
    ("POST", "/admin/erase"): ADMIN, ("POST", "/api/users/{username}/sip-secret"): ADMIN,
    # the supervisors' pages (HTML forms are routes of the API description too)
    ("GET", "/campaigns"): STAFF, ("GET", "/campaigns/new"): STAFF, ("POST", "/campaigns/new"): STAFF,
    ("GET", "/campaigns/new/summary"): STAFF, ("GET", "/campaigns/{campaign_id}"): STAFF,
    ("POST", "/campaigns/{campaign_id}/action"): STAFF, ("POST", "/campaigns/{campaign_id}/clone"): STAFF,
    ("GET", "/campaigns/{campaign_id}/targets/{target_id}"): STAFF, ("GET", "/campaigns/{campaign_id}/export"): STAFF,
    ("GET", "/directory"): STAFF, ("GET", "/directory/units"): STAFF, ("GET", "/directory/people"): STAFF,
    ("GET", "/directory/people/{person_id}"): STAFF, ("POST", "/directory/people/{person_id}"): STAFF,
    ("POST", "/directory/units/{unit_id}/status"): STAFF, ("GET", "/directory/imports"): STAFF,
    ("POST", "/directory/imports"): STAFF, ("GET", "/directory/imports/{job_id}"): STAFF,
    ("GET", "/directory/imports/{job_id}/status"): STAFF, ("POST", "/directory/imports/{job_id}/confirm"): STAFF,
    ("GET", "/directory/imports/{job_id}/rejects"): STAFF, ("POST", "/directory/results"): STAFF,
    ("GET", "/instructions"): STAFF, ("POST", "/instructions"): STAFF,
    ("GET", "/outreach"): STAFF, ("POST", "/outreach/opt-out"): STAFF,
    ("GET", "/outreach/replies/{reply_id}/audio"): STAFF, ("POST", "/outreach/recordings"): STAFF,
    ("GET", "/outreach/recordings/{name}/audio"): STAFF,
    ("POST", "/instructions/{instruction_id}/retire"): STAFF, ("GET", "/instructions/hear"): STAFF,
    ("GET", "/scripts"): STAFF, ("POST", "/scripts"): STAFF, ("GET", "/scripts/{name}"): STAFF,
    ("GET", "/scripts/{name}/audio"): STAFF,
    # hotline PINs and operators' call recordings: supervisors and admins, never operators
    ("POST", "/directory/people/{person_id}/pin"): STAFF, ("GET", "/api/recordings"): STAFF,
    ("GET", "/recordings"): STAFF, ("GET", "/api/recordings/{recording_id}/audio"): STAFF,
    # poll day's board
    ("GET", "/pollday/{ac}"): STAFF, ("GET", "/pollday/{ac}/events"): STAFF, ("GET", "/api/pollday"): STAFF,
    ("GET", "/api/pollday/{ac}/board"): STAFF, ("GET", "/api/pollday/{ac}/export"): STAFF,
    ("POST", "/api/pollday/alerts/{alert_id}/done"): STAFF, ("GET", "/api/pollday/{ac}/reach"): STAFF,
    # counting day's result sheet
    ("GET", "/pollday/{ac}/counting"): STAFF, ("GET", "/pollday/{ac}/counting/events"): STAFF,
    ("GET", "/api/pollday/counting"): STAFF, ("GET", "/api/pollday/{ac}/counting"): STAFF,
    ("GET", "/api/pollday/{ac}/counting/export"): STAFF, ("POST", "/api/pollday/{ac}/counting/votes"): STAFF,
    ("POST", "/api/pollday/counting/alerts/{alert_id}/done"): STAFF,
    # the users page: admins only
    ("GET", "/users"): ADMIN, ("POST", "/users"): ADMIN, ("POST", "/users/{username}/{action}"): ADMIN,
}
STREAMS = {"/console/events", "/dashboard/events", "/pollday/{ac}/events", "/pollday/{ac}/counting/events"}
PUBLIC_ROUTES = {("GET", "/healthz"), ("GET", "/signin"), ("POST", "/signin")}
SAMPLE = {"ref": "1", "action": "pause", "ticket_id": "1", "kind": "day", "campaign_id": "1", "target_id": "1",
          "person_id": "1", "unit_id": "1", "job_id": "1", "instruction_id": "1", "reply_id": "1", "username": "op",
          "name": "strong", "recording_id": "1", "task_id": "1", "ac": "1", "alert_id": "1"}


def test_every_route_with_every_role_and_without_a_session(app_parts: tuple[Any, Auth]) -> None:
    """Deny by default for every route the app has (read from its OpenAPI spec): without a session 401 or
    the sign-in page; with a role it does not allow 403; with one it allows, anything but 401/403."""
    app = app_parts[0]
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    assert routes - PUBLIC_ROUTES == set(ACCESS), "a route is missing from ACCESS (or ACCESS names a gone one)"
    clients = {"none": TestClient(app)}
    for user in ("adm", "sup", "op"):
        clients[user] = TestClient(app)
        sign_in(clients[user], user)
    for (method, path), allowed in sorted(ACCESS.items(), key=lambda item: (item[0] == ("POST", "/signout"), item[0])):
        url = path.format(**SAMPLE)
        for who, client in clients.items():
            headers = {"X-CSRF-Token": csrf_of(client)} if who != "none" and method != "GET" else {}
            if path in STREAMS and who in allowed:
                with client.stream(method, url) as stream:  # endless: its first event is enough
                    first = next(stream.iter_lines())
                    assert stream.status_code == 200
                    assert first.startswith(("event: snapshot", "event: board", "event: sheet"))
                continue
            resp = client.request(method, url, headers=headers, json={} if method == "POST" else None,
                                  follow_redirects=False)
            if who == "none":
                assert resp.status_code in (401, 303), (method, path, who, resp.status_code)
            elif who in allowed:
                assert resp.status_code not in (401, 403), (method, path, who, resp.status_code, resp.text)
            else:
                assert resp.status_code == 403, (method, path, who, resp.status_code)
