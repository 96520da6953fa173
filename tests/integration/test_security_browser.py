"""The pages under their Content-Security-Policy in a real browser (Debian's Chromium): the dashboard's
charts (Plotly), the operator console and the admins' API docs (Swagger UI, served by us) work with no
violation and no request to any other host; a dashboard whose session is ended elsewhere goes to sign-in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright.async_api import async_playwright

from tests.integration.dashboard_app import free_port
from tests.integration.test_console_browser import CHROMIUM, FLAGS, need_chromium
from tests.waiting import until
from tests.web_app import PASSWORDS, build_web_app

pytestmark = pytest.mark.integration

WATCH = """() => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
}"""


async def _sign_in(page: Any, base: str, name: str, then: str) -> None:
    await page.goto(f"{base}{then}")
    await page.fill("#username", name)
    await page.fill("#password", PASSWORDS[name])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}{then}")


async def test_pages_work_under_their_csp_and_fetch_nothing_from_elsewhere(tmp_path: Path) -> None:
    need_chromium()
    web = build_web_app(tmp_path, stream_check=0.5)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    try:
        await until(lambda: server.started, 10, "the web server")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            hosts: set[str] = set()
            problems: list[str] = []
            context = await browser.new_context()
            await context.add_init_script(f"({WATCH})()")
            context.on("request", lambda r: hosts.add(urlparse(r.url).hostname or r.url))
            page = await context.new_page()
            page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            await _sign_in(page, base, "adm", "/dashboard")
            await page.wait_for_selector("#chart-hours .main-svg", timeout=15_000)  # Plotly drew
            await page.wait_for_selector("[data-testid=connection][data-up='1']", timeout=10_000)  # the live feed
            assert await page.evaluate("window.__violations") == []

            await page.goto(f"{base}/docs")
            await page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
            assert "warroom" in (await page.inner_text(".swagger-ui .info .title"))
            await page.wait_for_selector(".opblock-tag", timeout=10_000)
            assert await page.evaluate("window.__violations") == []

            await page.goto(f"{base}/admin/audit")
            assert await page.locator("[data-action=sign_in]").count() >= 1
            await page.goto(f"{base}/admin/erase")
            await page.fill("#person", "9826000099")
            await page.click("button[type=submit]")
            assert "nothing is held about that number" in await page.inner_text(".error")
            assert await page.evaluate("window.__violations") == []

            # the dashboard in a second tab; signing out in the first sends the second to sign-in
            dash = await context.new_page()
            await dash.goto(f"{base}/dashboard")
            await dash.wait_for_selector("[data-testid=connection][data-up='1']", timeout=10_000)
            await page.goto(f"{base}/")
            await page.click("form[action='/signout'] button")
            await dash.wait_for_url(f"{base}/signin?next=/dashboard", timeout=10_000)

            op = await browser.new_context()
            await op.add_init_script(f"({WATCH})()")
            op.on("request", lambda r: hosts.add(urlparse(r.url).hostname or r.url))
            console = await op.new_page()
            await _sign_in(console, base, "op", "/console")
            await console.fill("#pause-reason", "tea")
            await console.click("#go-pause")
            await console.wait_for_selector("#state-badge[data-state=paused]", timeout=10_000)
            assert await console.evaluate("window.__violations") == []
            await browser.close()
            assert problems == [], problems
            assert hosts == {"127.0.0.1"}, hosts
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        web.engine.dispose()
