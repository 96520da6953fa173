"""Sign-in limits (issue 13, finding 1): one normalised name for the check and the limit, every try counted
before the password is checked, addresses (IPv6 by /64) backed off, accounts slowed but never locked out,
the keys tracked capped; and each sign-in and failure in the audit log."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.ratelimit import SignInLimiter, address_key
from db.audit import AuditEntry
from tests.web_app import PASSWORDS, WebApp, build_web_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(tmp_path: Path, clock: Clock) -> Iterator[WebApp]:
    built = build_web_app(tmp_path, limiter=SignInLimiter(attempts=3, window=60, free=3, delay=10, max_delay=40,
                                                          clock=clock))
    yield built
    built.engine.dispose()


def post_sign_in(client: TestClient, user: str, password: str) -> httpx.Response:
    token = CSRF.search(client.get("/signin").text)
    assert token
    return client.post("/signin", data={"username": user, "password": password, "csrf_token": token.group(1)},
                       follow_redirects=False)


def sign_in(client: TestClient, user: str, password: str) -> int:
    return post_sign_in(client, user, password).status_code


def test_a_name_with_spaces_or_capitals_is_the_same_account_for_the_limit(web: WebApp) -> None:
    """Three wrong guesses on "sup" from three addresses: "sup " (which signs in as sup) from a fourth address
    waits like "sup" does; before, each spelling had a fresh bucket and the right password got in."""
    for n in range(3):
        assert sign_in(TestClient(web.app, client=(f"192.0.2.{n}", 1)), "sup", "wrong guess!") == 401
    for spelling in ("sup ", "SUP", " Sup\t", "sup"):
        assert sign_in(TestClient(web.app, client=("198.51.100.7", 1)), spelling, PASSWORDS["sup"]) == 429, spelling


def test_the_account_waits_seconds_and_is_never_locked_out(web: WebApp, clock: Clock) -> None:
    """An attacker guessing as fast as allowed, from a new address each time, slows the account down (the
    wait doubles up to max_delay) but can never keep its user out: the user waits max_delay at most."""
    waits = []
    for n in range(12):
        client = TestClient(web.app, client=(f"203.0.113.{n}", 1))
        while (resp := post_sign_in(client, "op", "wrong guess!")).status_code == 429:
            waits.append(int(resp.headers["Retry-After"]))
            clock.now += waits[-1]
        assert resp.status_code == 401
    assert waits and max(waits) <= 41 and waits[-1] > waits[0], waits
    user = TestClient(web.app, client=("198.51.100.20", 1))
    resp = post_sign_in(user, "op", PASSWORDS["op"])
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 41
    clock.now += int(resp.headers["Retry-After"])
    assert post_sign_in(user, "op", PASSWORDS["op"]).status_code == 303


async def test_guesses_sent_at_once_are_counted_before_the_password_is_checked(web: WebApp) -> None:
    """Ten wrong guesses at once from one address: three are checked (401), seven refused (429). Before, all
    ten were checked, since a try was counted only once it had failed."""
    transport = httpx.ASGITransport(app=web.app, client=("192.0.2.99", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = CSRF.search((await client.get("/signin")).text)
        assert token

        async def guess(n: int) -> int:
            data = {"username": f"user{n}", "password": "wrong guess!", "csrf_token": token.group(1)}
            return (await client.post("/signin", data=data)).status_code

        statuses = await asyncio.gather(*(guess(n) for n in range(10)))
    assert sorted(statuses) == [401] * 3 + [429] * 7


def test_ipv6_clients_are_keyed_by_their_64_block() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "192.0.2.1"
    clock = Clock()
    limiter = SignInLimiter(attempts=2, window=60, clock=clock)
    assert limiter.begin("a", "2001:db8::1").wait == 0 and limiter.begin("b", "2001:db8::2").wait == 0
    assert limiter.begin("c", "2001:db8::3").wait == pytest.approx(60), "another address of the same /64"
    assert limiter.begin("c", "2001:db8:0:1::3").wait == 0, "the next /64 is someone else"


def test_a_success_does_not_count_against_the_address_and_keys_are_capped() -> None:
    clock = Clock()
    limiter = SignInLimiter(attempts=2, window=60, free=5, max_keys=100, clock=clock)
    for _ in range(5):  # a shared desk: five people sign in from one address
        limiter.succeeded(limiter.begin("someone", "192.0.2.1"))
    assert limiter.begin("other", "192.0.2.1").wait == 0
    for n in range(1000):
        limiter.begin(f"user{n}", f"10.0.{n // 250}.{n % 250}")
    assert limiter.tracked <= 200, "at most max_keys addresses and max_keys accounts"


def test_sign_ins_and_failures_are_in_the_audit_log(web: WebApp) -> None:
    client = TestClient(web.app, client=("192.0.2.50", 1))
    assert sign_in(client, "sup", "wrong guess!") == 401
    assert sign_in(client, "my password perhaps", "x") == 401
    assert sign_in(client, "sup", PASSWORDS["sup"]) == 303
    with web.sessions() as s:
        rows = [(e.actor, e.action, e.target, e.outcome, e.address, e.detail)
                for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert rows == [
        ("anonymous", "sign_in.failed", "user:sup", "refused", "192.0.2.50", {"reason": "wrong password"}),
        ("anonymous", "sign_in.failed", None, "refused", "192.0.2.50", {"reason": "unknown user"}),
        ("sup", "sign_in", "user:sup", "ok", "192.0.2.50", {})]
    assert "password" not in str(rows[1]), "a name nobody has (perhaps a password typed in the wrong box) is not kept"
