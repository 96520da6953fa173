"""Behind a reverse proxy: cookies become Secure by themselves when the trusted proxy says the request came
over HTTPS, and only then: the same header from anyone else changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.web_app import PASSWORDS, build_web_app
from web.proxy import TrustedProxy


async def _signin_cookies(app: object, client: tuple[str, int], proto: str | None, browser: str = "http") -> list[str]:
    headers = {"X-Forwarded-Proto": proto, "X-Forwarded-For": "198.51.100.20"} if proto else {}
    transport = httpx.ASGITransport(app=app, client=client)  # type: ignore[arg-type]
    # ``browser``: the scheme the browser sees (HTTPS to the proxy sends a Secure cookie back; the app itself
    # is reached over plain HTTP from the proxy)
    async with httpx.AsyncClient(transport=_plain(transport), base_url=f"{browser}://warroom.example") as c:
        page = await c.get("/signin", headers=headers)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        resp = await c.post("/signin", headers=headers, data={"username": "sup", "password": PASSWORDS["sup"],
                                                              "csrf_token": csrf.group(1), "next": "/"})
        assert resp.status_code == 303, resp.text
        set_cookies = [*page.headers.get_list("set-cookie"), *resp.headers.get_list("set-cookie")]
        return [c for c in set_cookies if "Max-Age=0" not in c]  # (a deletion carries no secret)


async def test_secure_cookies_behind_a_trusted_https_proxy_only(tmp_path: Path) -> None:
    web = build_web_app(tmp_path)
    app = TrustedProxy(web.app, ["127.0.0.1/32"])
    behind = await _signin_cookies(app, ("127.0.0.1", 40000), "https", browser="https")
    assert any(c.startswith("warroom_session=") for c in behind)
    assert all("secure" in c.lower() for c in behind), behind
    spoofed = await _signin_cookies(app, ("203.0.113.9", 40000), "https")
    assert spoofed and not any("secure" in c.lower() for c in spoofed), spoofed
    plain = await _signin_cookies(app, ("127.0.0.1", 40000), None)
    assert plain and not any("secure" in c.lower() for c in plain)
    web.engine.dispose()


def _plain(transport: httpx.ASGITransport) -> httpx.AsyncBaseTransport:
    """The app always sees plain HTTP (the proxy's leg), whatever scheme the client used."""

    class Plain(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(scheme="http")
            return await transport.handle_async_request(request)

    return Plain()
