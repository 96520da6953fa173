"""Behind a reverse proxy: cookies become Secure by themselves when the trusted proxy says the request came
over HTTPS, and only then: the same header from anyone else changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.web_app import PASSWORDS, build_web_app
from web.proxy import TrustedProxy


async def _signin_cookies(app: object, client: tuple[str, int], proto: str | None) -> list[str]:
    headers = {"X-Forwarded-Proto": proto, "X-Forwarded-For": "198.51.100.20"} if proto else {}
    transport = httpx.ASGITransport(app=app, client=client)  # type: ignore[arg-type]
    # the browser speaks HTTPS to the proxy (a Secure cookie is only ever sent back over HTTPS)
    async with httpx.AsyncClient(transport=transport, base_url=f"{proto or 'http'}://warroom.example") as c:
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
    behind = await _signin_cookies(app, ("127.0.0.1", 40000), "https")
    assert any(c.startswith("warroom_session=") for c in behind)
    assert all("secure" in c.lower() for c in behind), behind
    spoofed = await _signin_cookies(app, ("203.0.113.9", 40000), "https")
    assert spoofed and not any("secure" in c.lower() for c in spoofed), spoofed
    plain = await _signin_cookies(app, ("127.0.0.1", 40000), None)
    assert plain and not any("secure" in c.lower() for c in plain)
    web.engine.dispose()
