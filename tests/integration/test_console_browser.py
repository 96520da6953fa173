"""The operator console in a real browser (Playwright driving Debian's Chromium) against the real sandbox:
an operator signs in, goes ready, a hotline caller presses 0, the screen pop shows who is calling (the
number masked), and the disposition the operator records lands in the database; then the operator takes a
call-back task an abandoned call left (its number shown once taken) and closes it."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from accounts.service import UserService, add_user
from db.callbacks import CallbackState, CallbackTask
from db.engine import Database
from db.operators import CallDisposition
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import booth_directory
from tests.waiting import until
from warroom.settings import Settings
from web.app import ComponentHealth, create_app
from web.auth import Auth
from web.services import web_services

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _health() -> dict[str, ComponentHealth]:
    return {}


async def test_operator_signs_in_goes_ready_gets_the_screen_pop_and_records_a_disposition(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    from playwright.async_api import async_playwright, expect

    need_chromium()
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True, directory=booth_directory)
    name, password = f"op{uuid.uuid4().hex[:6]}", "Operator-pass-1"
    server_task = None
    try:
        assert h.softphones is not None
        with h.sessions.begin() as s:
            user = add_user(s, name, "operator", password, "Asha Devi")
            user_id, endpoint, secret = user.id, user.sip_username, user.sip_secret
            task = CallbackTask(phone="+919800000077", reason="no operator within 2 s")
            s.add(task)
            s.flush()
            task_id = task.id
        assert await h.softphones.sync()
        farm_port = settings.asterisk.farm_port
        assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings.asterisk.sip_port,
                                       workdir=tmp_path / "softphone", local_port=farm_port) == "registered"
        phone_farm({endpoint: Behaviour("answer", hold_ms=25_000)})
        db = Database(h.sessions.kw["bind"])
        services = web_services(db, h.bus, live_figures=dict, timezone="Asia/Kolkata", target_minutes=60,
                                shifts=parse_shifts(DEFAULT_SHIFTS), registered=h.softphones.registered,
                                sip_server=("127.0.0.1", settings.asterisk.sip_port))
        services.start()
        app = create_app(services, health=_health, auth=Auth(UserService(db)))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        server_task = asyncio.create_task(server.serve())
        await until(lambda: server.started, 10, "the web server")
        base = f"http://127.0.0.1:{port}"
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page()
            await page.goto(f"{base}/console")
            assert "/signin" in page.url, page.url
            await page.fill("#username", name)
            await page.fill("#password", password)
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            assert page.url == f"{base}/console", (page.url, await page.inner_text("main"))
            await expect(page.locator("#registered")).to_have_text("registered")
            await page.keyboard.press("r")  # ready, from the keyboard
            await expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")
            caller = asyncio.create_task(asyncio.to_thread(
                call_in, "09826012345", service="07552551234", sip_port=settings.asterisk.sip_port,
                workdir=tmp_path / "caller", digits="0", delay_ms=1500, hold_ms=60_000))
            await expect(page.locator("#call-title")).to_contain_text("Farhan", timeout=40_000)
            await expect(page.locator("#call-title")).to_contain_text("XXXXXX2345")
            await expect(page.locator("#call-who")).to_contain_text("Bhopal Uttar")
            await expect(page.locator("#state-badge")).to_have_attribute("data-state", "on_call", timeout=15_000)
            assert "9826012345" not in await page.content(), "the operator never sees the full number"
            await page.select_option("#dispo-kind", "reached")
            await page.fill("#dispo-notes", "Needs 200 voter slips by Sunday")
            await page.click("#dispo button[type=submit]")
            await expect(page.locator("#dispo-result")).to_contain_text("Saved")
            # a call-back task: listed masked, taken (the number shown to this operator), closed
            row_of_task = page.locator(f"#cb-list tr[data-task='{task_id}']")
            await expect(row_of_task).to_contain_text("XXXXXX0077")
            await row_of_task.get_by_role("button").click()
            await expect(row_of_task).to_have_attribute("data-state", "taken")
            await expect(row_of_task).to_contain_text("+919800000077")
            await page.select_option("#cb-outcome", "no_answer")
            await page.click("#cb-form button[type=submit]")
            await expect(page.locator("#cb-result")).to_contain_text(f"#{task_id}")
            await expect(page.locator("#cb-none")).to_be_visible()
            await browser.close()
        with h.sessions() as s:
            [row] = s.scalars(select(CallDisposition)).all()
        assert (row.user_id, row.disposition.value, row.notes) == (user_id, "reached",
                                                                   "Needs 200 voter slips by Sunday")
        with h.sessions() as s:
            closed = s.get(CallbackTask, task_id)
            assert closed is not None and (closed.state, closed.done_by) == (CallbackState.failed, name)
        # the operator's phone ends the call (after 25 s): the caller is released by the war room
        assert (await asyncio.wait_for(caller, 60)).hung_up_by == "war room"
    finally:
        if server_task is not None:
            server.should_exit = True
            await asyncio.gather(server_task, return_exceptions=True)
        await stop_harness(h)
