"""The phone in the browser through real Asterisk (issue 19): Playwright drives Debian's Chromium with a fake
microphone playing a tone. An operator signs in, goes ready and the page's phone registers (Asterisk says its
endpoint is online); a SIPp caller on the hotline presses 0, the page rings with the screen pop; answering
from the keyboard bridges the call and RTP flows both ways (the caller echoes what it hears: Asterisk counts
packets sent to and received from the caller, the page's WebRTC statistics count packets and sound
received); a supervisor listens in from the phone in their dashboard; hanging up in the page ends every leg,
and the quality the page measured is stored with the call and shown on the dashboard. A progressive
campaign's answered call reaches a browser-phone operator too, who hands it to a supervisor's browser
phone."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accounts.service import add_user
from adapters.ari import AriError
from db.phones import CallQuality
from events.types import OperatorCall
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour, PhoneFarm
from tests.integration.dashboard_app import serve_dashboard
from tests.integration.dialer_harness import FAST_RETRY, Harness, start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory, booths
from tests.integration.test_console_browser import CHROMIUM, FLAGS, need_chromium
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
HOTLINE = "07552551234"
PASSWORD = "Browser-pass-1"
STATS = "() => window.warroomPhone.stats()"


def media_flags(wav: Path) -> list[str]:
    """Chromium with a fake microphone playing ``wav``, no permission prompt, WebRTC on loopback (the sandbox's
    Asterisk listens there) and the sandbox's self-signed certificate accepted."""
    return [*FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}", "--allow-loopback-in-peer-connection",
            "--ignore-certificate-errors", "--autoplay-policy=no-user-gesture-required",
            "--disable-features=WebRtcHideLocalIpsWithMdns"]


def tone(path: Path) -> Path:
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(path), "synth", "60", "sine", "440",
                    "vol", "0.5"], check=True)
    return path


async def sign_in(browser: Any, base: str, name: str, where: str) -> Any:
    context = await browser.new_context(ignore_https_errors=True, permissions=["microphone"])
    page = await context.new_page()
    await page.goto(f"{base}{where}")
    await page.fill("#username", name)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}{where}")
    return page


async def endpoint_state(h: Harness, endpoint: str) -> str:
    try:
        info = await h.ari.request("GET", f"/endpoints/PJSIP/{endpoint}")
    except AriError:
        return "unknown"
    return str(info.get("state")) if isinstance(info, dict) else "unknown"


async def channel_exists(h: Harness, channel_id: str) -> bool:
    try:
        await h.ari.request("GET", f"/channels/{channel_id}")
    except AriError as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def rtp_counts(h: Harness, channel_id: str) -> tuple[int, int]:
    """(packets Asterisk sent to the channel, packets it received from it)."""
    got = await h.ari.request("GET", f"/channels/{channel_id}/variable", variable="CHANNEL(rtcp,all)")
    fields = dict(part.split("=", 1) for part in str(got.get("value", "")).split(";") if "=" in part)
    return int(fields.get("txcount", 0)), int(fields.get("rxcount", 0))


async def ready_in_the_browser(h: Harness, page: Any, endpoint: str) -> None:
    await page.keyboard.press("r")  # ready, from the keyboard: the page's phone registers first
    await page.locator("#phone-status[data-status=registered]").wait_for(timeout=20_000)
    await page.locator("#state-badge[data-state=ready]").wait_for(timeout=10_000)
    assert await page.locator("#phone-message").inner_text() == ""
    await until(lambda: _online(h, endpoint), 10, f"Asterisk to see {endpoint} online")


async def test_an_operator_answers_in_the_browser_and_a_supervisor_listens_in_from_theirs(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    events: list[OperatorCall] = []
    h.bus.subscribe(OperatorCall, events.append)
    run = uuid.uuid4().hex[:6]
    stop_web = None
    caller = None
    try:
        with h.sessions.begin() as s:
            op = add_user(s, f"op{run}", "operator", PASSWORD, "Asha Devi")
            add_user(s, f"sup{run}", "supervisor", PASSWORD, "Meera Joshi")
            op_id = op.id
        op_web, sup_web = f"op-op{run}-web", f"op-sup{run}-web"
        base, stop_web = await serve_dashboard(h)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=media_flags(tone(tmp_path / "tone.wav")))
            page = await sign_in(browser, base, f"op{run}", "/console")
            await ready_in_the_browser(h, page, op_web)

            caller = asyncio.create_task(asyncio.to_thread(
                call_in, "09826012345", service=HOTLINE, sip_port=settings.asterisk.sip_port,
                workdir=tmp_path / "caller", digits="0", delay_ms=1500, hold_ms=90_000, rtp_echo=True,
                local_port=15190, media_port=16600))
            # the page rings with the screen pop (the number masked)
            await expect(page.locator("#call-state")).to_have_attribute("data-state", "ringing", timeout=40_000)
            await expect(page.locator("#call-title")).to_contain_text("Farhan")
            await expect(page.locator("#call-title")).to_contain_text("XXXXXX2345")
            await page.keyboard.press("a")  # answer from the keyboard
            await expect(page.locator("#call-state")).to_have_attribute("data-state", "connected", timeout=15_000)
            await until(lambda: any(e.what == "connected" and e.user_id == op_id for e in events), 15,
                        "the caller bridged to the operator's browser phone")
            [(agent, offer)] = list(h.dispatcher.offers.items())
            info = await h.ari.request("GET", f"/channels/{agent}")
            assert info["name"].startswith(f"PJSIP/{op_web}-"), info["name"]

            # RTP both ways: Asterisk sends the caller the page's tone and gets it back (the caller echoes), and
            # the page receives it: packets with sound in them (nothing else speaks on the operator's leg)
            sent0, received0 = await rtp_counts(h, offer.caller)

            async def media_both_ways() -> bool:
                sent, received = await rtp_counts(h, offer.caller)
                stats = await page.evaluate(STATS)
                return (sent - sent0 > 100 and received - received0 > 100 and stats["packets_received"] > 100
                        and stats["audio_energy"] > 0)
            await until(media_both_ways, 20, "RTP between the caller and the page, both ways")
            stats = await page.evaluate(STATS)
            assert stats["codec"] in ("opus", "PCMU", "PCMA") and stats["packets_sent"] > 100

            # the supervisor listens in from the phone in their dashboard (answered by itself)
            sup = await sign_in(browser, base, f"sup{run}", "/dashboard")
            await sup.locator("#sup-phone-status[data-status=registered]").wait_for(timeout=20_000)
            assert await endpoint_state(h, sup_web) == "online"
            await sup.locator(f"[data-testid=operator-op{run}] button[data-mode=listen]").click(timeout=15_000)
            await expect(sup.locator("#listen-result")).to_contain_text("connected", timeout=30_000)
            await expect(sup.locator("#sup-phone-call")).to_have_attribute("data-state", "connected")

            async def supervisor_hears() -> bool:
                return int((await sup.evaluate(STATS))["packets_received"]) > 50
            await until(supervisor_hears, 20, "the call's audio in the supervisor's page")
            spies = [c for c in await h.ari.request("GET", "/channels") if c["id"].startswith("spy-")]
            assert [c["name"].split("-")[:-1] for c in spies] == [["PJSIP/op", f"sup{run}", "web"]], spies

            # hanging up in the page ends every leg: the caller's, the operator's and the supervisor's
            await page.keyboard.press("h")
            await expect(page.locator("#call-state")).to_have_attribute("data-state", "ended", timeout=10_000)
            result = await asyncio.wait_for(caller, 30)
            assert result.hung_up_by == "war room", result.events
            for channel in (offer.caller, agent, spies[0]["id"]):
                await until(lambda c=channel: _gone(h, c), 15, f"channel {channel} to end")
            await expect(sup.locator("#sup-phone-call")).to_have_attribute("data-state", "ended", timeout=15_000)

            # the quality the page measured is kept with the call and shown on the dashboard
            def stored() -> CallQuality | None:
                with h.sessions() as s:
                    return s.scalars(select(CallQuality).where(CallQuality.ended.is_(True))).first()
            await until(stored, 10, "the call's quality stored")
            row = stored()
            assert row is not None and row.user_id == op_id and row.channel_id == offer.caller
            assert row.queue_call_id is not None and row.packets_received > 100 and row.codec
            await expect(sup.locator(f"[data-testid=operator-op{run}] [data-testid=quality]")).to_contain_text(
                "lost", timeout=15_000)

            # pausing unregisters the page's phone
            await page.fill("#pause-reason", "tea")
            await page.click("#go-pause")
            await page.locator("#phone-status[data-status=off]").wait_for(timeout=10_000)
            await until(lambda: _offline(h, op_web), 10, "the browser phone unregistered")
            await browser.close()
    finally:
        if caller is not None and not caller.done():
            await asyncio.gather(caller, return_exceptions=True)
        if stop_web is not None:
            await stop_web()
        await stop_harness(h)


async def _gone(h: Harness, channel: str) -> bool:
    return not await channel_exists(h, channel)


async def _online(h: Harness, endpoint: str) -> bool:
    return await endpoint_state(h, endpoint) == "online"


async def _offline(h: Harness, endpoint: str) -> bool:
    return await endpoint_state(h, endpoint) != "online"


async def test_a_progressive_call_reaches_a_browser_phone_and_is_handed_to_a_supervisor(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    # the person waits up to 6 s for the operator (the harness's usual 3 s is short for a click in a page)
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory,
                            abandon_seconds=6)
    events: list[OperatorCall] = []
    h.bus.subscribe(OperatorCall, events.append)
    run = uuid.uuid4().hex[:6]
    stop_web, farm = None, None
    try:
        with h.sessions.begin() as s:
            op_id = add_user(s, f"pr{run}", "operator", PASSWORD, "Bina Rao").id
            add_user(s, f"ps{run}", "supervisor", PASSWORD, "Meera Joshi")
        base, stop_web = await serve_dashboard(h)
        farm = PhoneFarm({"+919100000002": Behaviour("answer", hold_ms=60_000)},  # Bina answers and stays on
                         port=settings.asterisk.farm_port, media_port=16700, workdir=tmp_path / "farm")
        farm.start()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=media_flags(tone(tmp_path / "tone.wav")))
            page = await sign_in(browser, base, f"pr{run}", "/console")
            await ready_in_the_browser(h, page, f"op-pr{run}-web")
            cid = h.campaign("browser progressive", mode="operator", selection=booths(h, "Bina"), retry=FAST_RETRY,
                             use_alternate=False)
            await expect(page.locator("#call-state")).to_have_attribute("data-state", "ringing", timeout=40_000)
            await expect(page.locator("#call-title")).to_contain_text("Bina")
            await page.click("#call-answer")
            await until(lambda: any(e.what == "connected" and e.user_id == op_id for e in events), 15,
                        "the answered campaign call bridged to the browser phone")

            async def hears() -> bool:
                return int((await page.evaluate(STATS))["packets_sent"]) > 50
            await until(hears, 15, "the page's audio flowing on the campaign call")
            await until(lambda: [a.result for a in h.attempts(cid)] == ["connected"], 10,
                        "the attempt counted as connected (not abandoned)")
            [(agent, offer)] = list(h.dispatcher.offers.items())

            # the operator hands the call to a supervisor, whose dashboard phone rings; answered, they have it
            sup = await sign_in(browser, base, f"ps{run}", "/dashboard")
            await sup.locator("#sup-phone-status[data-status=registered]").wait_for(timeout=20_000)
            await page.select_option("#call-transfer-to", label="Meera Joshi")
            await page.keyboard.press("t")
            await page.click("#call-transfer")
            await expect(sup.locator("#sup-phone-call")).to_have_attribute("data-state", "ringing", timeout=15_000)
            await sup.click("#sup-phone-answer")
            await expect(sup.locator("#sup-phone-call")).to_have_attribute("data-state", "connected", timeout=15_000)
            await expect(page.locator("#call-state")).to_have_attribute("data-state", "ended", timeout=15_000)
            await until(lambda: _gone(h, agent), 10, "the operator's leg to end")
            assert await channel_exists(h, offer.caller), "the person stays on the line, with the supervisor"
            await expect(page.locator("#state-badge")).not_to_have_attribute("data-state", "on_call")

            sent0, _ = await rtp_counts(h, offer.caller)

            async def person_hears() -> bool:  # the supervisor's microphone reaches the person
                return (await rtp_counts(h, offer.caller))[0] - sent0 > 50
            await until(person_hears, 15, "the supervisor's audio sent to the person")
            await sup.click("#sup-phone-hangup")  # the supervisor ends the call: the person is hung up
            await until(lambda: _gone(h, offer.caller), 10, "the person's leg to end")
            await until(lambda: h.campaign_state(cid) == "completed", 30, "the campaign to complete")
            await browser.close()
    finally:
        if farm is not None:
            farm.stop()
        if stop_web is not None:
            await stop_web()
        await stop_harness(h)
