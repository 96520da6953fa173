"""The API's OpenAPI description fuzzed with Schemathesis, signed in as each role and with no session, on
PostgreSQL: no request may get a server error (5xx). Refusals (401, 403, 404, 409, 422...) are
right answers, and the responses are not checked against the description.

Each operation gets Schemathesis' phases: the description's examples, its coverage cases (boundaries, wrong
types, missing fields, other methods) and ``EXAMPLES`` generated cases, valid and invalid. What fuzzing found
is kept as plain examples at the end."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python.asgi import ASGIClient

from dialer.campaigns import Selection, create_campaign
from tests import directory_builder
from tests.conftest import PG_URL, pg_schema
from tests.web_app import PASSWORDS, WebApp, build_web_app
from tickets.service import open_ticket

EXAMPLES = 15  # generated cases per operation and role (on top of the examples and coverage cases;
# half of the suite's time went here at 30: the CI budget of 30 minutes on two cores decides)
AT_LEAST = 5  # requests to an operation without any input (its other methods, an example, a generated case)
ROLES = {"admin": "adm", "supervisor": "sup", "operator": "op", "nobody": None}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """The whole web app with a directory, a campaign and a ticket, so fuzzed ids sometimes hit real rows. On
    PostgreSQL, the stricter of the two databases (NUL characters, integer ranges, types): fuzzing on both
    took a third of the unit suite's time, and every route runs on SQLite in test_web_auth."""
    with pg_schema("fuzz") as schema:  # a private schema, as tests/conftest.py's db_engine
        yield from _filled(build_web_app(tmp_path_factory.mktemp("fuzz"),
                                         url=f"{PG_URL}?options=-csearch_path%3D{schema}"))


def _filled(web: WebApp) -> Iterator[WebApp]:
    try:
        with web.sessions.begin() as s:
            built = directory_builder.build(s)
            create_campaign(s, name="booths", mode="operator", selection=Selection(levels=("booth",)))
            open_ticket(s, category="material_shortage", source="hotline", booth_id=built.units["booth:112:1"].id,
                        reporter_id=built.people["b1_pres"].id, description="no ink")
        yield web
    finally:
        web.engine.dispose()


class Caller:
    """An in-process HTTP client of the app (no lifespan), signed in as ``user`` unless None, sending the
    session's CSRF token on every request (as the pages' scripts do), so that fuzzing reaches the routes'
    logic instead of stopping at 403. Counts the requests it makes."""

    def __init__(self, web: WebApp, user: str | None) -> None:
        self.client = ASGIClient(cast(Any, web.app))
        self.requests = 0
        self.operation = ""
        if user is not None:
            resp = self.client.post("/signin", data={"username": user, "password": PASSWORDS[user],
                                                     "csrf_token": self.signin_token(), "next": "/"},
                                    allow_redirects=False)
            assert resp.status_code == 303, resp.text
            page = CSRF.search(self.client.get("/").text)
            assert page
            self.client.headers["X-CSRF-Token"] = page.group(1)

    def signin_token(self) -> str:
        token = CSRF.search(self.client.get("/signin").text)
        assert token
        return token.group(1)

    def call(self, case: schemathesis.Case) -> None:
        self.requests += 1
        self.operation = f"{case.operation.method.lower()} {case.operation.path}"
        response = case.call(base_url="http://testserver", session=self.client, allow_redirects=False)
        case.validate_response(response, checks=[not_a_server_error])


@pytest.fixture(scope="module", params=list(ROLES))
def signed_in(request: pytest.FixtureRequest, web: WebApp) -> Caller:
    return Caller(web, ROLES[request.param])


@pytest.fixture
def caller(signed_in: Caller) -> Iterator[Caller]:
    """The role's client, checking afterwards that the operation was really fuzzed: half ``EXAMPLES`` requests
    at least when it takes any input (Hypothesis may find fewer distinct cases), ``AT_LEAST`` otherwise."""
    before = signed_in.requests
    yield signed_in
    method, _, path = signed_in.operation.partition(" ")
    takes_input = bool(set(DESCRIPTION["paths"].get(path, {}).get(method, {})) & {"parameters", "requestBody"})
    needed = EXAMPLES // 2 if takes_input else AT_LEAST
    assert signed_in.requests - before >= needed, \
        f"{signed_in.operation or 'the operation'}: {signed_in.requests - before} requests, {needed} expected"


def _description() -> dict[str, Any]:
    """The app's OpenAPI description. Deny by default: /openapi.json needs a session too, so it comes from
    the app itself, built over a throwaway database (the description does not depend on it)."""
    with tempfile.TemporaryDirectory() as tmp:
        web = build_web_app(Path(tmp))
        web.engine.dispose()
        return web.app.openapi()


# Not fuzzed: the Server-Sent Events streams (/console/events, /dashboard/events, /pollday/{ac}/events and
# /pollday/{ac}/counting/events) never end, so a request to them would never return; signing out (POST
# /signout) would end the session in the middle of a role's run (test_web_auth covers it).
DESCRIPTION = _description()
schema = (schemathesis.openapi.from_dict(DESCRIPTION)
          .exclude(path=["/console/events", "/dashboard/events", "/pollday/{ac}/events",
                         "/pollday/{ac}/counting/events"])
          .exclude(method="POST", path="/signout"))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_request_gets_a_server_error(case: schemathesis.Case, caller: Caller) -> None:
    caller.call(case)


def test_every_operation_but_the_streams_and_signing_out_is_fuzzed() -> None:
    fuzzed = {op.ok().label for op in schema.get_all_operations() if isinstance(op, Ok)}
    assert len(fuzzed) >= 55 and {"GET /api/campaigns", "POST /api/campaigns", "GET /api/reports/{kind}",
                                  "POST /console/state", "POST /signin", "POST /campaigns/new",
                                  "POST /directory/imports", "POST /directory/people/{person_id}", "POST /users",
                                  "POST /instructions", "POST /scripts", "GET /scripts/{name}/audio"} <= fuzzed
    assert not fuzzed & {"GET /console/events", "GET /dashboard/events", "POST /signout"}


# What fuzzing (and probing around what it found) answered with a server error, now a clear 4xx.
NUL = "must not contain the NUL character"
CAMPAIGN = {"name": "found", "mode": "operator"}
FOUND: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    # a non-ASCII token: secrets.compare_digest raised TypeError on it
    ("nobody", "POST", "/signin", {"data": {"username": "adm", "password": "x", "csrf_token": "\x80"}},
     403, "The form expired"),
    ("admin", "POST", "/api/campaigns", {"json": CAMPAIGN, "headers": {"X-CSRF-Token": "é"}}, 403, "CSRF"),
    # NUL characters: PostgreSQL refuses them in text
    ("nobody", "POST", "/signin", {"data": {"username": "adm\x00", "password": "x"}}, 422, NUL),
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "name": "a\x00b"}}, 422, NUL),
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "posts": ["BLA\x00"]}}, 422, NUL),
    ("admin", "GET", "/api/campaigns/booths%00", {}, 422, NUL),
    ("supervisor", "POST", "/api/campaigns/%00/start", {}, 422, NUL),
    ("supervisor", "GET", "/api/reports/campaign", {"params": {"campaign": "\x00"}}, 422, NUL),
    ("supervisor", "POST", "/api/tickets/1/assign", {"json": {"to": "op\x00"}}, 422, NUL),
    ("supervisor", "POST", "/api/tickets/1/resolve", {"json": {"resolution": "done\x00"}}, 422, NUL),
    ("operator", "POST", "/console/state", {"json": {"to": "paused", "reason": "tea\x00"}}, 422, NUL),
    ("operator", "POST", "/console/ticket", {"json": {"channel_id": "c\x00", "category": "other",
                                                      "description": "x"}}, 422, NUL),
    # ids beyond 32 bits (PostgreSQL: integer out of range, SQLite: OverflowError), digits int() refuses
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "units": ["2147483648"]}}, 422, "no unit"),
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "units": ["9" * 5000]}}, 422, "no unit"),
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "units": ["²"]}}, 422, "no unit '²'"),
    ("admin", "GET", "/api/campaigns/²", {}, 404, "no campaign '²'"),
    ("supervisor", "GET", "/api/reports/day", {"params": {"campaign": "²"}}, 404, "no campaign '²'"),
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "retry": ["busy=²/30m"]}}, 422, "expected TRIES"),
    # a retry policy whose wait overflows the dialer's clock
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "retry": ["busy=3/99999999h"]}}, 422, "at most"),
    # a time without a zone against one with a zone (TypeError), times with no UTC equivalent (OverflowError)
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "starts_at": "2030-01-01T00:00:00",
                                                  "ends_at": "2029-12-31T23:00:00+00:00"}}, 422, "end must be after"),
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "starts_at": "0001-01-01T00:00:00+16:00"}},
     422, "must be between 2000-01-01 and 2100-12-31"),
    ("operator", "POST", "/console/disposition", {"json": {"channel_id": "c1", "disposition": "call_back",
                                                           "callback_at": "9999-12-31T23:59:59-16:00"}},
     422, "must be between"),
    # longer than its column (PostgreSQL: value too long)
    ("admin", "POST", "/api/campaigns", {"json": {**CAMPAIGN, "trunk": "t" * 201}}, 422, "at most 200 characters"),
    # FastAPI's 422 echoes the input and could not render a lone surrogate or NaN (which Python's JSON reads)
    ("admin", "POST", "/api/campaigns", {"data": '{"name": "a\\ud800"}'}, 422, "unicode"),
    ("admin", "POST", "/api/campaigns", {"data": '{"name": "x", "priority": NaN}'}, 422, "finite number"),
    # a script with a character YAML refuses before it reads anything (the YAML reader raised early)
    ("supervisor", "POST", "/scripts", {"data": {"text": "name: x\x1f"}}, 422, "not valid YAML"),
    # a target state that is not one (the database refused to read it back)
    ("supervisor", "GET", "/campaigns/1", {"params": {"state": "0"}}, 422, "Input should be"),
]


@pytest.fixture(scope="module")
def callers(web: WebApp) -> dict[str, Caller]:
    return {role: Caller(web, user) for role, user in ROLES.items()}


@pytest.mark.parametrize(("role", "method", "path", "kwargs", "status", "says"), FOUND,
                         ids=[f"{m} {p} {i}" for i, (_r, m, p, *_rest) in enumerate(FOUND)])
def test_what_fuzzing_found_is_refused_with_a_clear_4xx(callers: dict[str, Caller], role: str, method: str,
                                                       path: str, kwargs: dict[str, Any], status: int,
                                                       says: str) -> None:
    who = callers[role]
    if path == "/signin":
        kwargs = {"data": {"csrf_token": who.signin_token(), **kwargs["data"]}}
    if "data" in kwargs and isinstance(kwargs["data"], str):
        kwargs = {**kwargs, "headers": {"Content-Type": "application/json"}}
    resp = who.client.request(method, path, allow_redirects=False, **kwargs)
    assert resp.status_code == status, resp.text
    assert says in resp.text, resp.text
