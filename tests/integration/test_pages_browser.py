"""The war room run from the browser (Playwright driving Debian's Chromium), through the sandbox Asterisk and
the SIPp phone farm where a flow reaches a phone: a supervisor creates a campaign (the count shown is the
targets created), starts it and sees it progress; uploads a messy sheet, sees each rejection, downloads the
rejects file, imports, corrects a new member's phone and the dialer calls the new number; adds an
instruction that a hotline caller then hears; an admin adds an operator who signs in; an invalid script shows
its problem at its line and changes nothing; the pages fit a laptop's and a phone's screen."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select, update

from accounts.service import add_user
from db.campaigns import Attempt, Disposition, Target
from db.models import Person, utcnow
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry, progress
from events.asterisk import PlaybackFinished, PlaybackStarted
from events.types import AttemptChanged
from hotline.pins import set_pin
from ivr_scripts.actions import Prompt
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dashboard_app import free_port, serve_dashboard
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory, calls, seconds_until
from tests.integration.test_console_browser import CHROMIUM, FLAGS, need_chromium
from tests.integration.test_hotline import HOTLINE, _asking_menu_again
from tests.waiting import until
from tests.web_app import PASSWORDS, build_web_app
from warroom.settings import Settings

pytestmark = pytest.mark.integration
PASSWORD = "Supervisor-pass-1"
NUMBERS = {f"m{i:02d}": f"+9190000003{i:02d}" for i in range(12)}
OLD_PHONE, NEW_PHONE = "+919826099001", "+919826099002"  # the new member's number as sheeted, and as corrected
SHEET = ("ac_no,booth_no,level,post,name,phone,language\n"
         "1,2,booth,अध्यक्ष,सुनीता वर्मा,98260 99001,hi\n"        # line 2: a new member (a wrong number)
         "1,2,booth,BLA,Imran Khan,12345,en\n"                    # line 3: not a phone number
         "1,,booth,सदस्य,रामू,9826099003,hi\n"                     # line 4: a booth row without its booth
         "1,2,booth,सदस्य,,9826099004,hi\n")                       # line 5: no name
REJECTED = [("3", "phone", "'12345' is not a valid Indian number"), ("4", "booth_no", "booth"),
            ("5", "name", "missing name")]


async def sign_in(page: Any, base: str, name: str, password: str = PASSWORD, landing: str = "/campaigns") -> None:
    await page.goto(f"{base}{landing}")
    await page.fill("#username", name)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}{landing}")


def supervisor(h: Any) -> str:
    name = f"sup{uuid.uuid4().hex[:6]}"
    with h.sessions.begin() as s:
        add_user(s, name, "supervisor", PASSWORD, "Meera")
    return name


async def test_a_supervisor_creates_a_campaign_the_count_equals_its_targets_then_starts_it_and_sees_it_progress(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    phone_farm({number: Behaviour("answer", hold_ms=4000) for number in NUMBERS.values()})
    h = await start_harness(settings, tmp_path, NUMBERS)
    name = supervisor(h)
    with h.sessions.begin() as s:  # one member opted out: counted, and held back by the rules
        s.execute(update(Person).where(Person.id == h.people["m11"]).values(dnd=True))
    base, stop = await serve_dashboard(h)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            await sign_in(page, base, name, landing="/campaigns/new")
            people = page.get_by_test_id("reach-people")
            await expect(people).to_have_attribute("data-count", "12")
            await page.fill("#f-name", "Booth readiness")
            # the count follows the form as it changes (no reload): a status no booth has, then none
            await page.check("input[name=statuses][value=strong]")
            await expect(people).to_have_attribute("data-count", "0")
            await page.uncheck("input[name=statuses][value=strong]")
            await page.fill("#unit-find", "Test AC")  # the unit picker: found by name, chosen by key
            await page.locator("#unit-found button", has_text="(ac:1)").click()
            await expect(page.locator("#f-units")).to_have_value("ac:1")
            await expect(people).to_have_attribute("data-count", "12")
            await expect(page.get_by_test_id("reach-held")).to_have_text("1")
            await expect(page.get_by_test_id("campaign-summary")).to_contain_text("opted out")
            shown = int(await people.get_attribute("data-count") or 0)
            await page.click("button[value=start]")
            await page.wait_for_url(f"{base}/campaigns/*")
            campaign_id = int(page.url.rsplit("/", 1)[1])
            await expect(page.get_by_test_id("campaign-state")).to_have_text("running")
            with h.sessions() as s:
                created = len(s.scalars(select(Target.id).where(Target.campaign_id == campaign_id)).all())
            assert created == shown == 12, "the count shown is the targets created"
            await page.evaluate("window.__same_page = true")
            box = page.get_by_test_id("campaign-progress")
            await expect(box).not_to_have_attribute("data-done", "0", timeout=20_000)
            assert await page.evaluate("window.__same_page === true"), "progress came without a reload"

            async def screen_matches_database() -> bool:
                shown_done = int(await box.get_attribute("data-done") or -1)
                with h.sessions() as s:
                    done = progress(s, campaign_id)["done"]
                return done >= 6 and shown_done == done

            await until(screen_matches_database, 30, "the page's progress to match the database")
            await browser.close()
    finally:
        await stop()
        await stop_harness(h)


async def test_a_messy_sheet_is_checked_imported_and_a_corrected_phone_is_called_by_the_dialer(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    waiting = {"m00": "+919000000399"}  # a member who keeps the campaign running (busy, retried)
    phone_farm({waiting["m00"]: Behaviour("busy"), OLD_PHONE: Behaviour("busy"),
                NEW_PHONE: Behaviour("answer", hold_ms=2000)})
    h = await start_harness(settings, tmp_path, waiting)
    name = supervisor(h)
    with h.sessions.begin() as s:
        create_campaign(s, name="Readiness", mode="ivr", selection=Selection(), trunk="lines",
                        retry=parse_retry(["busy=50/40s"]))
        change_state(s, "Readiness", "start")
    started: dict[int, float] = {}  # attempt id -> when the dialer started it (the host's clock)
    h.bus.subscribe(AttemptChanged, lambda e: started.setdefault(e.attempt_id, time.time())
                    if e.what == "started" else None)
    sheet = tmp_path / "committee sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    base, stop = await serve_dashboard(h)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(accept_downloads=True)
            await sign_in(page, base, name, landing="/directory/imports")
            await page.set_input_files("#f-file", str(sheet))
            await page.click("[data-testid=upload-members] button[type=submit]")
            await expect(page.get_by_test_id("job-state")).to_have_text("done", timeout=20_000)
            await expect(page.get_by_test_id("count-created")).to_have_text("1")
            await expect(page.get_by_test_id("count-rejected")).to_have_text("3")
            rows = page.get_by_test_id("rejections").locator("tbody tr")
            await expect(rows).to_have_count(3)
            for i, (line, column, reason) in enumerate(REJECTED):
                await expect(rows.nth(i)).to_contain_text(line)
                await expect(rows.nth(i)).to_contain_text(column)
                await expect(rows.nth(i)).to_contain_text(reason)
            async with page.expect_download() as downloading:
                await page.get_by_test_id("rejects-file").click()
            download = await downloading.value
            saved = Path(await download.path())
            text = await asyncio.to_thread(saved.read_text, encoding="utf-8-sig")
            rejects = list(csv.DictReader(io.StringIO(text)))
            assert [(r["line"], r["column"], r["name"]) for r in rejects] == \
                [("3", "phone", "Imran Khan"), ("4", "booth_no", "रामू"), ("5", "name", "")]
            with h.sessions() as s:
                assert s.scalar(select(Person.id).where(Person.phone == OLD_PHONE)) is None, "the dry run wrote nothing"
            await page.get_by_test_id("confirm-import").click()
            await expect(page.get_by_test_id("job-state")).to_have_text("done", timeout=20_000)
            await expect(page.get_by_test_id("count-created")).to_have_text("1")
            # the new member joins the running campaign; the dialer calls the number the sheet gave (busy)
            await until(lambda: any(a.disposition is Disposition.busy for a in _attempts(h, OLD_PHONE)), 20,
                        "a call to the sheet's number")
            await page.goto(f"{base}/directory/people")
            await page.fill("#people-q", "99001")
            await page.keyboard.press("Enter")
            await page.get_by_role("link", name="सुनीता वर्मा").click()
            await page.fill("#f-phone", "098260-99002")
            clicked_at = time.time()
            await page.click("[data-testid=person-edit] button[type=submit]")
            await expect(page.get_by_test_id("saved")).to_contain_text("phone")
            await expect(page.get_by_test_id("person-phone")).to_have_text(NEW_PHONE)
            await browser.close()
        await until(lambda: bool(_attempts(h, NEW_PHONE)), 10, "a call to the corrected number")
        [first] = _attempts(h, NEW_PHONE)
        followed = started[first.id] - clicked_at
        print(f"\nthe dialer called the corrected number {followed * 1000:.0f} ms after the click on save")
        assert followed < 1.5, "the dialer follows a correction within a second (the sync polls every 0.5 s)"
        await until(lambda: _attempts(h, NEW_PHONE)[0].disposition is Disposition.answered, 20, "the answer")
    finally:
        await stop()
        await stop_harness(h)


def _attempts(h: Any, phone: str) -> list[Attempt]:
    with h.sessions() as s:
        return list(s.scalars(select(Attempt).where(Attempt.phone == phone).order_by(Attempt.id)))


async def test_an_instruction_added_on_the_page_is_what_a_hotline_caller_hears(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    name = supervisor(h)
    played: list[PlaybackStarted] = []
    finished: list[str] = []
    h.bus.subscribe(PlaybackStarted, played.append)
    h.bus.subscribe(PlaybackFinished, lambda e: finished.append(e.playback_id))
    text = "कल सुबह सात बजे तक बूथ पर पहुँचें।"
    base, stop = await serve_dashboard(h)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page()
            await sign_in(page, base, name, landing="/instructions")
            await page.fill("#f-text", text)
            await page.fill("#f-unit", "booth:152:6")  # Farhan's booth
            await page.select_option("#f-language", "hi")
            await page.click("[data-testid=add-instruction] button[type=submit]")
            heard = page.get_by_test_id("heard-text")
            await expect(heard).to_have_text(f"नवीनतम निर्देश: {text}")
            spoken = await page.request.get(f"{base}/instructions/hear?booth=booth:152:6&lang=hi")
            sound = await spoken.body()
            assert spoken.ok and sound[:4] == b"RIFF"
            await browser.close()
        uri, path = await h.ivr.prompts.made(Prompt("hotline/instructions/text", f"नवीनतम निर्देश: {text}", "hi"))
        assert sound == path.read_bytes(), "the page plays the very file the hotline plays"
        # Farhan calls the hotline, presses 2 (the instructions) and his PIN; the menu comes back after them
        with h.sessions.begin() as s:
            set_pin(s, h.people["Farhan"], "4719", by="sup", at=utcnow())
        keys = "24719#"
        before_menu_again = await seconds_until(h.ivr, h.sessions, h.people["Farhan"], "hotline", keys,
                                                until=_asking_menu_again())
        result = await asyncio.to_thread(call_in, "09826012345", service=HOTLINE, sip_port=settings.asterisk.sip_port,
                                         workdir=tmp_path / "caller", digits=keys, delay_ms=1000, gap_ms=1200,
                                         hold_ms=int(before_menu_again * 1000) + 1200 * len(keys) + 2000)
        assert result.exit_code == 0, result
        [call] = calls(h)
        mine = [p for p in played if p.channel_id == call.channel_id and p.media_uri == uri]
        assert len(mine) == 1, f"Asterisk played the instruction to the caller: {[p.media_uri for p in played]}"
        assert mine[0].playback_id in finished, "and played it to its end"
    finally:
        await stop()
        await stop_harness(h)


BAD_SCRIPT = """name: rally
title: Rally invitation
languages: [hi, en]
steps:
  - id: invite
    say: {hi: "नमस्ते {{ member.name }}", en: "Hello {{ member.name }}"}
    next: farewell
  - id: bye
    end: {hi: "धन्यवाद", en: "Thank you"}
"""


async def test_an_admin_adds_an_operator_who_signs_in_and_a_bad_script_changes_nothing(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    web = build_web_app(tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 10, "the web server")
    base = f"http://127.0.0.1:{port}"
    bad = tmp_path / "rally.yaml"
    bad.write_text(BAD_SCRIPT, encoding="utf-8")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            admin = await browser.new_page(viewport={"width": 1366, "height": 768})
            await sign_in(admin, base, "adm", PASSWORDS["adm"], landing="/users")
            # by keyboard alone: the user name, Tab, the name shown, Enter (the role is operator by default)
            await admin.focus("#f-username")
            await admin.keyboard.type("ravi")
            await admin.keyboard.press("Tab")
            await admin.keyboard.type("Ravi Shankar")
            await admin.keyboard.press("Enter")
            password = await admin.get_by_test_id("new-password").text_content()
            assert password
            await expect(admin.get_by_test_id("user-ravi")).to_contain_text("operator")
            ravi = await browser.new_page()
            await sign_in(ravi, base, "ravi", password.strip(), landing="/console")
            await expect(ravi.locator("#state-badge")).to_be_visible()
            assert (await ravi.goto(f"{base}/campaigns")).status == 403, "operators see none of the pages"

            # an invalid script: its problem at its line, nothing changed
            await admin.goto(f"{base}/scripts")
            await admin.set_input_files("#f-file", str(bad))
            await admin.click("[data-testid=upload-script] button[type=submit]")
            problems = admin.get_by_test_id("problems")
            await expect(problems).to_contain_text("line 7")
            await expect(problems).to_contain_text("unknown step 'farewell'")
            await expect(admin.get_by_test_id("bad-line-7")).to_contain_text("next: farewell")
            await expect(admin.get_by_test_id("bad-line-7")).to_be_visible()
            assert "rally" not in web.services.scripts.library.names()
            assert not (tmp_path / "scripts").exists()
            await admin.goto(f"{base}/scripts")
            await expect(admin.get_by_test_id("script-rally")).to_have_count(0)

            # every main page fits a 1366x768 laptop and a phone without scrolling sideways
            phone = await browser.new_page(viewport={"width": 390, "height": 844})
            await phone.context.add_cookies(await admin.context.cookies())
            for path in ("/campaigns/new", "/directory", "/directory/imports", "/instructions", "/scripts", "/users"):
                for screen in (admin, phone):
                    await screen.goto(base + path)
                    wide = await screen.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    assert wide <= 0, f"{path} is {wide} px wider than a {screen.viewport_size} screen"
            await browser.close()
    finally:
        server.should_exit = True
        await task
        web.services.close()
        web.engine.dispose()
