"""Hindi in a real browser (Playwright driving Debian's Chromium, which has no Devanagari font of its own
here): on the sign-in page, the operator's console and the supervisor's dashboard switched to Hindi, the
Devanagari text is drawn with the web font we serve (Noto Sans Devanagari), not as empty boxes; the
dashboard's pacing card (drawn by its script) says its rows in Hindi."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from db.campaigns import Campaign, CampaignMode
from tests.integration.test_console_browser import CHROMIUM, FLAGS, free_port, need_chromium
from tests.waiting import until
from tests.web_app import PASSWORDS, build_web_app
from web.fonts import FAMILY

pytestmark = pytest.mark.integration
DEVANAGARI = re.compile("[\u0900-\u097f]")
# the page's own view: the @font-face of FAMILY has loaded (not failed, not left unused) and is ready for Hindi
FONT_STATE = """async (family) => {
  await document.fonts.ready;
  const faces = [...document.fonts].filter((f) => f.family.replace(/"/g, '') === family);
  return {faces: faces.map((f) => f.status), ready: document.fonts.check(`16px "${family}"`, 'वार रूम')};
}"""


async def drawn_with(page: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium drew the element's text with (DevTools: CSS.getPlatformFontsForNode)."""
    cdp = await page.context.new_cdp_session(page)
    try:
        await cdp.send("DOM.enable")
        await cdp.send("CSS.enable")
        root = (await cdp.send("DOM.getDocument"))["root"]["nodeId"]
        node = (await cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector}))["nodeId"]
        return list((await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node}))["fonts"])
    finally:
        await cdp.detach()


async def assert_hindi_drawn_with_the_web_font(page: Any, *selectors: str) -> None:
    """Each element's Devanagari is drawn with the web font; other fonts draw at most its other characters
    (spaces, digits), never a Devanagari one (an empty box)."""
    assert await page.evaluate(FONT_STATE, FAMILY) == {"faces": ["loaded"], "ready": True}
    for selector in selectors or ("header strong",):
        text = await page.inner_text(selector)
        assert DEVANAGARI.search(text), f"{selector} is not in Hindi: {text!r}"
        fonts = await drawn_with(page, selector)
        ours = sum(f["glyphCount"] for f in fonts if f["isCustomFont"] and f["familyName"] == FAMILY)
        others = sum(f["glyphCount"] for f in fonts) - ours
        assert ours > 0 and others <= len(DEVANAGARI.sub("", text)), f"{selector}: {text!r} drawn with {fonts}"


async def _sign_in(page: Any, name: str) -> None:
    await page.fill("#username", name)
    await page.fill("#password", PASSWORDS[name])
    await page.click("button[type=submit]")
    await page.wait_for_load_state()


async def _to_hindi(page: Any) -> None:
    """The header's language button (English -> हिन्दी), as a person would switch."""
    async with page.expect_navigation():
        await page.click("header button:has-text('हिन्दी')")


async def test_hindi_is_drawn_with_the_served_devanagari_font(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    web = build_web_app(tmp_path)
    with web.sessions.begin() as s:  # an operator campaign for the pacing card, the pacer's last word on it
        campaign = Campaign(name="booth calls", mode=CampaignMode.operator)
        s.add(campaign)
        s.flush()
        cid = campaign.id
    assert web.services.pacing is not None
    web.services.pacing.live = lambda: {cid: {"running": "progressive", "level": 1.0, "why": "few_operators",
                                              "why_args": {"working": "2", "needed": "3"}}}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    server_task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    try:
        await until(lambda: server.started, 10, "the web server")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            # signed out, a first visit: the sign-in page in Hindi (the font is public, like the page)
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{base}/signin?lang=hi")
            await assert_hindi_drawn_with_the_web_font(page, "header strong", "h1", "label[for=username]",
                                                       "button.primary")
            # the operator's console, switched to Hindi
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{base}/console")
            await _sign_in(page, "op")
            assert page.url == f"{base}/console", page.url
            await _to_hindi(page)
            await assert_hindi_drawn_with_the_web_font(page, "header strong", "#state-badge", "#go-ready")
            # the supervisor's dashboard, switched to Hindi
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{base}/dashboard")
            await _sign_in(page, "sup")
            assert page.url == f"{base}/dashboard", page.url
            await _to_hindi(page)
            await assert_hindi_drawn_with_the_web_font(page, "header strong", "h2")
            # the pacing card's rows, drawn by its script, in Hindi too
            row = page.locator(f"#pacing tr[data-campaign='{cid}']")
            await expect(row).to_contain_text("ड्राफ़्ट")
            await expect(row).to_contain_text("2 ऑपरेटर काम पर (अनुमान के लिए 3 चाहिए)")
            await expect(row).to_contain_text("0 में से 0.0%")
            await assert_hindi_drawn_with_the_web_font(page, "#pacing-card h2", f"#pacing tr[data-campaign='{cid}']")
            await browser.close()
    finally:
        server.should_exit = True
        await asyncio.gather(server_task, return_exceptions=True)
        web.engine.dispose()
