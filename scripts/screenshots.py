#!/usr/bin/env python3
"""Screenshots of the supervisors' and admins' main pages for the README, taken with Playwright driving
Debian's Chromium over a demo war room (a small demo directory, two campaigns, an import with rejected rows,
an instruction). Writes small PNGs (a 1366x768 laptop screen, and one phone-sized page) to
``docs/screenshots/``. Hindi text needs a Devanagari font (Debian: ``fonts-lohit-deva``).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import socket
import tempfile
from datetime import timedelta
from pathlib import Path

import uvicorn
from sqlalchemy import select, update

from accounts.service import UserService, add_user
from audit.log import Actor
from db import migrate
from db.campaigns import Attempt, AttemptState, Disposition, Target, TargetState
from db.engine import Database, make_engine
from db.models import utcnow
from dialer.rules import CallingRules
from dialer.service import CampaignSpec
from directory.demo import DemoSpec, load_demo
from directory.status import StatusRules
from events.bus import EventBus
from ivr_scripts.library import ScriptLibrary
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from web.app import create_app
from web.auth import Auth
from web.services import PagesConfig, WebServices, web_services

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "Supervisor-pass-1"
MESSY = """district,ac_no,ac_name,booth_no,level,post,name,phone,language
भोपाल,152,भोपाल उत्तर,7,booth,अध्यक्ष,सुनीता वर्मा,98260 77001,hindi
भोपाल,152,भोपाल उत्तर,7,booth,BLA,Imran Khan,12345,english
भोपाल,152,भोपाल उत्तर,,booth,सदस्य,रामू,9826077003,
भोपाल,152,भोपाल उत्तर,8,booth,अध्यक्ष,,9826077004,hi
"""


async def fill(db: Database, svc: WebServices) -> int:
    """The demo war room; returns the running campaign's id."""
    rules = StatusRules("PARTY")
    await asyncio.to_thread(load_demo, db.sessions, DemoSpec(districts=2, acs=2, booths_per_ac=8), rules)
    with db.sessions.begin() as s:
        add_user(s, "meera", "admin", PASSWORD, "Meera Joshi")
        add_user(s, "asha", "operator", "Operator-pass-1", "Asha Devi")
    running = await svc.campaigns.create(CampaignSpec(name="Booth readiness", levels=["booth"],
                                                      fields={"programme_date": "5 December"}))
    await svc.campaigns.change(str(running["id"]), "start")
    await svc.campaigns.create(CampaignSpec(name="Mandal presidents", mode="operator", levels=["mandal"],
                                            posts=["अध्यक्ष"]))
    now = utcnow()
    with db.sessions.begin() as s:
        targets = s.execute(select(Target.id, Target.person_id).where(Target.campaign_id == running["id"])
                            .order_by(Target.id)).all()
        for i, (tid, pid) in enumerate(targets[:40]):
            outcome = [Disposition.answered, Disposition.answered, Disposition.no_answer, Disposition.busy][i % 4]
            s.add(Attempt(channel_id=f"demo-{i}", action_id=f"demo-a-{i}", campaign_id=running["id"], target_id=tid,
                          person_id=pid, phone="+919826000000", trunk="lines", state=AttemptState.ended,
                          disposition=outcome, created_at=now - timedelta(minutes=40 - i), talk_seconds=35))
            s.execute(update(Target).where(Target.id == tid).values(
                state=TargetState.done if outcome is Disposition.answered else TargetState.queued,
                tries=1, last_disposition=outcome.value))
    actor = Actor("meera", 1)
    await svc.instructions.add("सुबह सात बजे तक बूथ पर पहुँचें और मतदाता सूची साथ रखें।", unit="ac:1",
                               language="hi", by="meera")
    job = await svc.directory.start_import("committee-sheet.csv", io.BytesIO(MESSY.encode()), actor)
    svc.directory.jobs.wait()
    return int(running["id"]) if job else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main(out: Path) -> None:
    from playwright.async_api import async_playwright

    tmp = Path(tempfile.mkdtemp(prefix="warroom-shots-"))
    engine = make_engine(f"sqlite:///{tmp / 'demo.db'}")
    migrate.upgrade(engine)
    db = Database(engine)
    library = ScriptLibrary([tmp / "scripts"])
    services = web_services(db, EventBus(), live_figures=dict, timezone="Asia/Kolkata", target_minutes=60,
                            shifts=parse_shifts(DEFAULT_SHIFTS), defaults=CallingRules(),
                            check_scripts=library.campaign_problems,
                            pages=PagesConfig(work_dir=tmp / "imports", library=library))
    campaign = await fill(db, services)
    app = create_app(services, health=_health, auth=Auth(UserService(db)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            await page.goto(f"{base}/signin?next=/campaigns")
            await page.fill("#username", "meera")
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/campaigns")
            shots = [("campaign-new", f"/campaigns/new?from={campaign}"), ("campaign", f"/campaigns/{campaign}"),
                     ("import", "/directory/imports/1"), ("person", "/directory/people/5"),
                     ("instructions", "/instructions?booth=booth:1:1&lang=hi")]
            for name, path in shots:
                await page.goto(base + path)
                await page.wait_for_load_state("networkidle")
                await page.screenshot(path=str(out / f"{name}.png"))
                print(out / f"{name}.png")
            phone = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
            await phone.context.add_cookies(await page.context.cookies())
            await phone.goto(f"{base}/campaigns/{campaign}")
            await phone.screenshot(path=str(out / "campaign-phone.png"))
            print(out / "campaign-phone.png")
            await browser.close()
    finally:
        server.should_exit = True
        await task
        services.close()
        db.close()


async def _health() -> dict[str, object]:
    return {}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    asyncio.run(main(parser.parse_args().out))
