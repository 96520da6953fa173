"""The outreach page: lists, campaigns with what was scrubbed, missed calls, a request not to be called, which
every campaign honours from the next attempt, and the broadcast message's upload (converted, its length shown,
heard in the browser; what is no recording, or too big, refused saying why); refused for operators. The voice
messages left for the leader play for supervisors only."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.audit import AuditEntry
from outreach import broadcast
from outreach.importer import ListImportOptions
from tests.unit.test_outreach import NOON_IST, _csv
from tests.unit.test_outreach_messages import soxi, tone
from tests.unit.test_pages_web import client, field_error
from tests.unit.test_web_auth import sign_in
from tests.web_app import WebApp, build_web_app
from web import pages_outreach


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


def _prepare_campaign(web: WebApp, tmp_path: Path) -> None:
    outreach = web.services.outreach
    assert outreach is not None

    async def prepare() -> None:
        await outreach.import_list(_csv(tmp_path / "l.csv", [["9826011111", "Ram", "hi", "152", "7", "form", ""]]),
                                   ListImportOptions("rally"))
        await outreach.create_campaign("leader", "rally", mcmc_ref="MCMC/1", caller_id="07554000000",
                                       trunk_category="140")
    asyncio.run(prepare())


def test_the_broadcast_message_is_uploaded_converted_and_heard_in_the_browser(web: WebApp, tmp_path: Path) -> None:
    _prepare_campaign(web, tmp_path)
    sup, csrf = client(web)
    page = sup.get("/outreach")
    assert 'action="/outreach/recordings"' in page.text and 'enctype="multipart/form-data"' in page.text
    mp3 = tone(tmp_path / "leader speech.mp3", 2.5, 44100, 0.05)
    with mp3.open("rb") as f:
        done = sup.post("/outreach/recordings", data={"name": "leader-1", "campaign": "leader", "csrf_token": csrf},
                        files={"file": ("leader speech.mp3", f, "audio/mpeg")}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/outreach?recorded=leader-1")
    shown = sup.get(done.headers["location"])
    seconds = float(re.search(r'data-testid="recorded" data-seconds="([\d.]+)"', shown.text).group(1))  # type: ignore[union-attr]
    assert abs(seconds - 2.5) < 0.1 and "leader-1</strong>, 2.5 s" in shown.text
    assert '/outreach/recordings/leader-1/audio' in shown.text
    audio = sup.get("/outreach/recordings/leader-1/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    out = tmp_path / "heard.wav"
    out.write_bytes(audio.content)
    assert (soxi(out, "-r"), soxi(out, "-c")) == ("8000", "1")
    outreach = web.services.outreach
    assert outreach is not None
    assert asyncio.run(outreach.figures("leader"))["recording"] == "leader-1"  # the campaign plays it
    assert sup.get("/outreach/recordings/nothing/audio").status_code == 404


def test_an_upload_that_is_no_recording_is_refused_saying_why(web: WebApp, tmp_path: Path) -> None:
    _prepare_campaign(web, tmp_path)
    sup, csrf = client(web)

    def upload(filename: str, body: bytes, name: str = "m1", campaign: str = "") -> Any:
        return sup.post("/outreach/recordings", data={"name": name, "campaign": campaign, "csrf_token": csrf},
                        files={"file": (filename, body, "application/octet-stream")}, follow_redirects=False)

    broken = upload("leader.mp3", bytes(range(256)) * 100)
    assert broken.status_code == 422
    assert "leader.mp3: not a WAV, MP3 or OGG recording that can be read" in (field_error(broken.text, "file") or "")
    assert 'value="m1"' in broken.text  # what was typed stays
    notes = upload("notes.pdf", b"%PDF-1.4")
    assert notes.status_code == 422 and "a .wav, .mp3 or .ogg file" in (field_error(notes.text, "file") or "")
    wav = tone(tmp_path / "ok.wav", 1.0).read_bytes()
    bad_name = upload("ok.wav", wav, name="../etc")
    assert bad_name.status_code == 422 and "letters, digits" in (field_error(bad_name.text, "name") or "")
    no_campaign = upload("ok.wav", wav, campaign="nobody")
    assert no_campaign.status_code == 422 and "nobody" in (field_error(no_campaign.text, "campaign") or "")
    assert web.services.outreach is not None and asyncio.run(web.services.outreach.recordings()) == []


def test_an_upload_over_the_size_limit_is_refused(web: WebApp, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_outreach, "MAX_UPLOAD", 10_000)  # the real limit is 64 MB
    sup, csrf = client(web)
    big = sup.post("/outreach/recordings", data={"name": "big", "csrf_token": csrf},
                   files={"file": ("big.wav", tone(tmp_path / "big.wav", 2.0).read_bytes(), "audio/wav")})
    assert big.status_code == 413
    assert "big.wav: larger than" in (field_error(big.text, "file") or "")


def test_voice_messages_play_for_supervisors_only(web: WebApp, tmp_path: Path) -> None:
    _prepare_campaign(web, tmp_path)
    outreach = web.services.outreach
    assert outreach is not None and outreach.config.recordings_dir is not None
    (outreach.config.recordings_dir / "outreach").mkdir(parents=True)
    tone(outreach.config.recordings_dir / "outreach" / "1-abc.wav", 1.0)  # Asterisk's recording of the message

    async def reply() -> int:
        await outreach.set_recording("leader", "leader-1")
        await outreach.start_campaign("leader")
        calls = await outreach.db.run(broadcast.plan_calls, "leader", NOON_IST, outreach.config.rules,
                                      outreach.on_dnd, 1, set())
        info = await outreach.db.run(broadcast.call_info, calls[0].attempt_id)
        assert info is not None
        return await outreach.db.run(broadcast.save_reply, info, "outreach/1-abc", NOON_IST, 1.0)

    reply_id = asyncio.run(reply())
    url = f"/outreach/replies/{reply_id}/audio"
    sup, _ = client(web)
    heard = sup.get(url)
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav" and heard.content[:4] == b"RIFF"
    assert TestClient(web.app).get(url, follow_redirects=False).status_code in (401, 303)  # signed out
    op, _ = client(web, "op")
    assert op.get(url).status_code == 403
    with web.sessions() as s:  # every play is in the audit log
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "outreach.reply_play")) == 1


def test_the_dashboard_has_outreach_with_its_board(web: WebApp, tmp_path: Path) -> None:
    _prepare_campaign(web, tmp_path)
    sup, _ = client(web)
    page = sup.get("/dashboard")
    assert page.status_code == 200 and 'id="outreach-card"' in page.text
    assert "renderOutreach(board.outreach)" in page.text
    figures = sup.get("/api/dashboard").json()["board"]["outreach"]
    [c] = figures["campaigns"]
    assert (c["name"], c["state"], c["list_size"], c["planned"], c["in_flight"]) == ("leader", "draft", 1, 0, 0)
    assert c["counts"] == {"listens": 0, "replies": 0, "opt_outs": 0, "operator": 0, "guarded": 0}
    assert c["finishes_at"] and c["per_line_hour"] > 0 and figures["replies"] == []
