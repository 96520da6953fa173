"""The outreach page: lists, campaigns with what was scrubbed, missed calls, and a request not to be
called, which every campaign honours from the next attempt; refused for operators."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from outreach.importer import ListImportOptions
from tests.unit.test_outreach import _csv
from tests.unit.test_pages_web import client, field_error
from tests.unit.test_web_auth import sign_in
from tests.web_app import WebApp, build_web_app


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    app = build_web_app(tmp_path)
    yield app
    app.services.close()
    app.engine.dispose()


def test_the_outreach_page_shows_lists_campaigns_and_takes_an_opt_out(web: WebApp, tmp_path: Path) -> None:
    outreach = web.services.outreach
    assert outreach is not None
    rows = [["9826011111", "Ram", "hi", "152", "", "form", ""], ["9826011112", "Sita", "hi", "152", "", "form", ""]]

    async def prepare() -> None:
        await outreach.import_list(_csv(tmp_path / "l.csv", rows), ListImportOptions("rally"))
        await outreach.create_campaign("leader", "rally", mcmc_ref="MCMC/1", caller_id="07554000000",
                                       trunk_category="140")
        await outreach.missed_call("5551001", "anonymous")

    asyncio.run(prepare())
    sup, csrf = client(web)
    page = sup.get("/outreach")
    assert page.status_code == 200
    assert "rally" in page.text and "leader" in page.text and "MCMC/1" in page.text and "withheld" in page.text
    assert "/line-hour" in page.text  # the campaign's ETA at its pace
    bad = sup.post("/outreach/opt-out", data={"phone": "12345", "csrf_token": csrf})
    assert bad.status_code == 422 and "not a valid Indian number" in (field_error(bad.text, "phone") or "")
    done = sup.post("/outreach/opt-out", data={"phone": "98260 11112", "csrf_token": csrf})
    assert done.status_code == 200 and "no list or campaign calls it again" in done.text
    assert asyncio.run(outreach.scrub("leader")) == {"opted_out": 1}
    op = TestClient(web.app)
    sign_in(op, "op")
    assert op.get("/outreach").status_code == 403
