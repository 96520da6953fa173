"""Voter outreach in a real browser (Playwright driving Debian's Chromium; no Asterisk needed): a supervisor
uploads the leader's MP3 on the outreach page and sees its converted length, then hears it; the dashboard's
outreach section shows the campaign's progress and what its calls came to (listens apart from guarded
answers, replies, opt-outs), and the voice message left for the leader plays in the page."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
import uvicorn

from outreach import broadcast
from outreach.importer import ListImportOptions
from tests.integration.dashboard_app import free_port
from tests.integration.test_console_browser import CHROMIUM, FLAGS, need_chromium
from tests.integration.test_pages_browser import sign_in
from tests.unit.test_outreach import NOON_IST, _csv
from tests.waiting import until
from tests.web_app import PASSWORDS, build_web_app

pytestmark = pytest.mark.integration


def _mp3(path: Path, seconds: float, telephone: Path | None = None) -> Path:
    """An MP3 of a sweep (and, with ``telephone``, the same as an 8 kHz mono WAV there: Asterisk's recording)."""
    wav = path.with_suffix(".wav")
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(wav), "synth", str(seconds), "sine", "300-1200",
                    "vol", "0.05"], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(wav), str(path)], check=True)
    if telephone is not None:
        subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", str(telephone)], check=True)
    return path


async def test_upload_the_message_then_watch_outreach_and_play_a_reply_on_the_dashboard(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    web = build_web_app(tmp_path)
    outreach = web.services.outreach
    assert outreach is not None and outreach.config.recordings_dir is not None
    rows = [[f"98260111{i:02d}", f"P{i}", "hi", "152", str(i), "form", ""] for i in range(6)]
    await outreach.import_list(_csv(tmp_path / "l.csv", rows), ListImportOptions("rally"))
    await outreach.create_campaign("leader", "rally", mcmc_ref="MCMC/1", caller_id="07554000000",
                                   trunk_category="140")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 10, "the web server")
    base = f"http://127.0.0.1:{port}"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1366, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await sign_in(page, base, "sup", PASSWORDS["sup"], landing="/outreach")
            await page.set_input_files("#f-file", str(_mp3(tmp_path / "leader.mp3", 3.0)))
            await page.fill("#f-name", "leader-1")
            await page.select_option("#f-campaign", "leader")
            await page.get_by_test_id("upload-recording").locator("button[type=submit]").click()
            await expect(page.get_by_test_id("recorded")).to_contain_text("leader-1")
            seconds = float(await page.get_by_test_id("recorded").get_attribute("data-seconds") or 0)
            assert abs(seconds - 3.0) < 0.1
            heard = await page.evaluate("""async () => {
              const a = document.querySelector('[data-testid=recordings] audio');
              a.load(); await new Promise((ok) => a.addEventListener('loadedmetadata', ok, {once: true}));
              return a.duration; }""")
            assert abs(heard - 3.0) < 0.1, "the converted message plays in the browser"

            # calls made meanwhile: three listens, one guarded, one reply, one opt-out
            await outreach.start_campaign("leader")
            calls = await outreach.db.run(broadcast.plan_calls, "leader", NOON_IST, outreach.config.rules,
                                          outreach.on_dnd, 6, set())
            for call, result in zip(calls, ["listened"] * 3 + ["guarded", "replied", "opted_out"], strict=True):
                await outreach.db.run(broadcast.settle, call.attempt_id, result, 30.0)
            info = await outreach.db.run(broadcast.call_info, calls[4].attempt_id)
            assert info is not None
            (outreach.config.recordings_dir / "outreach").mkdir(parents=True)
            _mp3(tmp_path / "reply.mp3", 2.0, outreach.config.recordings_dir / "outreach" / "5-abc.wav")
            reply_id = await outreach.db.run(broadcast.save_reply, info, "outreach/5-abc", NOON_IST, 2.0)

            await page.goto(f"{base}/dashboard")
            row = page.locator("#outreach tr").first
            await expect(page.get_by_test_id("outreach-card")).to_be_visible()
            await expect(row).to_have_attribute("data-listens", "3")
            assert [await row.get_attribute(f"data-{k}") for k in ("replies", "opt-outs", "planned")] == ["1", "1", "6"]
            await expect(row.locator("td.listens")).to_have_text("3")
            reply = page.get_by_test_id(f"reply-{reply_id}")
            await expect(reply).to_contain_text("152")
            played = await page.evaluate("""async (id) => {
              const a = document.querySelector(`[data-testid=reply-${id}] audio`);
              a.load(); await new Promise((ok) => a.addEventListener('loadedmetadata', ok, {once: true}));
              return a.duration; }""", reply_id)
            assert abs(played - 2.0) < 0.1, "the voice message plays on the dashboard"
            await page.wait_for_timeout(1500)  # the board is pushed every 0.2 s: the playable row stays the same
            assert await page.evaluate(
                "(id) => document.querySelector(`[data-testid=reply-${id}] audio`).readyState", reply_id) >= 1
            assert errors == []
            await browser.close()
    finally:
        server.should_exit = True
        await task
        web.services.close()
        web.engine.dispose()

