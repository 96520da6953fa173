"""Counting day's page over the whole web app (SQLite, no Asterisk): the result sheet's page for staff only,
its data, its live stream (the sheet again after a table reports), an operator's figures for a table with
the CSRF token, and the CSV/XLSX export."""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from openpyxl import load_workbook
from sqlalchemy import select

from audit.log import Actor
from db.pollday import CountRound
from events.types import IvrAnswered
from pollday import counting_store as counts
from tests.unit.test_counting_store import at, call, make_ac, plan
from tests.unit.test_web_auth import csrf_of
from tests.unit.test_web_security import client_as
from tests.waiting import until
from tests.web_app import PASSWORDS, WebApp, build_web_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    built = build_web_app(tmp_path)
    yield built
    built.engine.dispose()


@pytest.fixture
def ac(web: WebApp) -> int:
    ids = make_ac(web.sessions)
    with web.sessions.begin() as s:
        counts.save_plan(s, plan(ids["ac"]))
    svc = web.services.pollday
    assert svc is not None
    svc.clock = lambda: at(9, 10)
    asyncio.run(svc.tick(at(8, 32)))
    with web.sessions() as s:
        campaign_id = s.scalar(select(CountRound.campaign_id))
    cid = call(web.sessions, ids["ca1"], campaign=campaign_id, started=at(8, 35))
    for step, n in (("p1", 300), ("p2", 250)):
        asyncio.run(svc.record_count(IvrAnswered(cid, step, str(n), n, True, at(8, 36))))
    return ids["ac"]


def test_the_page_is_for_staff_and_carries_the_sheet_script(web: WebApp, ac: int) -> None:
    page = client_as(web, "sup").get(f"/pollday/{ac}/counting")
    assert page.status_code == 200
    assert 'id="ct-sheet"' in page.text and 'src="/static/counting.js"' in page.text
    assert f'href="/api/pollday/{ac}/counting/export?format=xlsx"' in page.text
    assert client_as(web, "op").get(f"/pollday/{ac}/counting").status_code == 403
    assert client_as(web, "sup").get("/static/counting.js").status_code == 200
    assert f'href="/pollday/{ac}/counting"' in client_as(web, "sup").get(f"/pollday/{ac}").text


def test_the_sheet_as_data_and_as_files(web: WebApp, ac: int) -> None:
    sup = client_as(web, "sup")
    data = sup.get(f"/api/pollday/{ac}/counting").json()
    assert [p["key"] for p in data["parties"]] == ["BJP", "INC"]
    one = data["rows"][0]
    assert (one["votes"], one["leader"], one["margin"], one["missing"]) == ([300, 250], "BJP", 50, [2, 3])
    assert data["round"] == 2 and data["rows"][1]["missing"] == [1, 2, 3]
    csv = sup.get(f"/api/pollday/{ac}/counting/export")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1].startswith("1,08:30,300,250,550,")
    xlsx = sup.get(f"/api/pollday/{ac}/counting/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and [c.value for c in sheet[2]][:5] == [1, "08:30", 300, 250, 550]
    assert sup.get(f"/api/pollday/{ac + 100}/counting").status_code == 422  # no plan there
    assert sup.get("/api/pollday/counting").json()[0]["tables"] == 3
    reach = sup.get(f"/api/pollday/{ac}/reach", params={"counting": "true"}).json()  # at 09:10: round 2
    assert (reach["round"], reach["people"], reach["held_back"]) == (2, 4, 0)
    assert sup.get(f"/api/pollday/{ac}/reach").status_code == 422  # no turnout plan for this AC


def test_an_operator_enters_a_table_with_the_csrf_token(web: WebApp, ac: int) -> None:
    sup = client_as(web, "sup")
    body = {"round": 1, "table": 2, "votes": {"BJP": 100, "INC": 1200}}
    assert sup.post(f"/api/pollday/{ac}/counting/votes", json=body).status_code == 403  # no CSRF token
    headers = {"X-CSRF-Token": csrf_of(sup)}
    resp = sup.post(f"/api/pollday/{ac}/counting/votes", json=body, headers=headers)
    assert resp.status_code == 200 and resp.json()["complete"] is True
    data = sup.get(f"/api/pollday/{ac}/counting").json()
    assert data["rows"][0]["votes"] == [400, 1450] and data["rows"][0]["missing"] == [3]
    [alert] = data["alerts"]  # booth 2 has 1,000 electors
    assert (alert["round"], alert["table"], alert["kind"]) == (1, 2, "above_electors")
    assert sup.post(f"/api/pollday/counting/alerts/{alert['id']}/done", headers=headers).json() == {"done": alert["id"]}
    assert sup.get(f"/api/pollday/{ac}/counting").json()["open_alerts"] == 0
    bad = sup.post(f"/api/pollday/{ac}/counting/votes", json={**body, "votes": {"AAP": 1}}, headers=headers)
    assert bad.status_code == 422 and "AAP" in bad.json()["detail"]
    assert sup.post(f"/api/pollday/{ac}/counting/votes", json={**body, "table": 99}, headers=headers).status_code == 422


async def test_the_live_stream_sends_the_sheet_again_after_a_table_reports(web: WebApp, ac: int) -> None:
    """Served by uvicorn on this test's event loop (as the service is), so a report made here reaches the open
    stream through the bus; the sheet comes again, with the table in."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    svc = web.services.pollday
    assert svc is not None
    try:
        await until(lambda: server.started, 10, "the web server")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            page = await client.get("/signin")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            await client.post("/signin", data={"username": "sup", "password": PASSWORDS["sup"],
                                               "csrf_token": csrf.group(1), "next": "/"})
            async with client.stream("GET", f"/pollday/{ac}/counting/events") as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()

                async def next_sheet() -> dict[str, Any]:
                    async for line in lines:
                        if line.startswith("data: "):
                            return dict(json.loads(line[6:]))
                    raise AssertionError("the stream ended")

                first = await asyncio.wait_for(next_sheet(), 10)
                await svc.enter_votes(ac, 1, 3, {"BJP": 10, "INC": 20}, Actor("op"))
                second = await asyncio.wait_for(next_sheet(), 5)
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
    assert first["rows"][0]["missing"] == [2, 3]
    assert second["rows"][0]["missing"] == [2] and second["total"] == 580
