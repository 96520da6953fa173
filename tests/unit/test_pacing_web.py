"""Pacing for supervisors over the web app and the CLI: switch and cap (audited, refused with a reason when
wrong), the pacing board, the campaign page's form, call-back tasks listed and closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db.audit import AuditEntry
from db.callbacks import CallbackTask
from db.campaigns import Attempt, AttemptState, Campaign, CampaignPacing
from tests import directory_builder
from tests.unit.test_pages_web import cli, client
from tests.web_app import WebApp, build_web_app


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    app = build_web_app(tmp_path)
    with app.sessions.begin() as s:
        directory_builder.build(s)
    yield app
    app.services.close()
    app.engine.dispose()


def _campaign(web: WebApp, name: str, mode: str) -> int:
    sup, csrf = client(web)
    made = sup.post("/api/campaigns", json={"name": name, "mode": mode, "units": ["ac:112"], "levels": ["booth"]},
                    headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_a_supervisor_switches_pacing_and_sets_the_cap(web: WebApp, tmp_path: Path) -> None:
    cid = _campaign(web, "calls", "operator")
    ivr = _campaign(web, "survey", "ivr")
    sup, csrf = client(web)
    headers = {"X-CSRF-Token": csrf}
    done = sup.put(f"/api/campaigns/{cid}/pacing", json={"pacing": "predictive", "abandon_cap": 0.02}, headers=headers)
    assert done.status_code == 200 and done.json()["pacing"] == "predictive" and done.json()["abandon_cap"] == 0.02
    assert sup.put(f"/api/campaigns/{cid}/pacing", json={"abandon_cap": 0.5}, headers=headers).status_code == 422
    refused = sup.put(f"/api/campaigns/{ivr}/pacing", json={"pacing": "predictive"}, headers=headers)
    assert refused.status_code == 422 and "only operator campaigns" in refused.text
    assert sup.put(f"/api/campaigns/{cid}/pacing", json={}, headers=headers).status_code == 422
    op, op_csrf = client(web, "op")
    assert op.put(f"/api/campaigns/{cid}/pacing", json={"pacing": "progressive"},
                  headers={"X-CSRF-Token": op_csrf}).status_code == 403
    board = sup.get("/api/pacing").json()
    row = next(r for r in board["campaigns"] if r["id"] == cid)
    assert (row["pacing"], row["abandon_cap"], row["abandon_day"]) == ("predictive", 0.02, 0.0)
    assert "occupancy" in board["operators"]["window"] and all(r["id"] != ivr for r in board["campaigns"])
    page = sup.get(f"/campaigns/{cid}")
    assert 'data-testid="campaign-pacing"' in page.text and 'value="2.0"' in page.text
    back = sup.post(f"/campaigns/{cid}/pacing", data={"pacing": "progressive", "cap": "4", "csrf_token": csrf})
    assert back.status_code == 200
    with web.sessions() as s:
        c = s.get(Campaign, cid)
        assert c is not None and (c.pacing, c.abandon_cap) == (CampaignPacing.progressive, 0.04)
        assert s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "campaign.pacing")).all() == ["sup"] * 2
    code, out = cli(tmp_path, "campaign", "pacing", "calls", "--mode", "predictive", "--cap", "3%")
    assert code == 0 and "predictive, abandon cap 3.0%" in out, out
    code, out = cli(tmp_path, "campaign", "pacing", "calls", "--cap", "lots")
    assert code != 0 and "abandon cap 'lots'" in out
    assert 'id="pacing"' in sup.get("/dashboard").text


def test_call_back_tasks_are_listed_and_closed_once(web: WebApp) -> None:
    cid = _campaign(web, "calls", "operator")
    with web.sessions.begin() as s:
        a = Attempt(channel_id="c1", action_id="a1", campaign_id=cid, phone="+919826011111", trunk="lines",
                    state=AttemptState.ended, result="abandoned")
        s.add(a)
        s.flush()
        s.add(CallbackTask(campaign_id=cid, attempt_id=a.id, phone=a.phone, reason="no operator within 2 s"))
    op, csrf = client(web, "op")
    tasks = op.get("/api/callbacks").json()
    assert [t["reason"] for t in tasks] == ["no operator within 2 s"]
    done = op.post(f"/api/callbacks/{tasks[0]['id']}/done", json={"notes": "spoke"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["done_by"] == "op"
    again = op.post(f"/api/callbacks/{tasks[0]['id']}/done", json={}, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409
    assert op.get("/api/callbacks").json() == [] and len(op.get("/api/callbacks?state=done").json()) == 1


def test_the_pacing_card_and_form_speak_hindi(web: WebApp) -> None:
    """Every label of the pacing card (dashboard) and of a campaign's pacing form comes from web/i18n.py: the
    Hindi pages show Hindi, the card's script gets the Hindi words for modes, states and the pacer's reasons."""
    import json
    import re
    import string

    from dialer.pacing import REASONS, Measurements, PacingMode, PacingPolicy, decide
    from web.i18n import PACING

    cid = _campaign(web, "calls", "operator")
    sup, _csrf = client(web)
    english = sup.get("/dashboard").text
    assert "Dial level" in english and "Abandoned (today)" in english and "wait between calls" in english
    sup.cookies.set("warroom_lang", "hi")
    page = sup.get("/dashboard").text
    card = page[page.index('id="pacing-card"'):page.index("</section>", page.index('id="pacing-card"'))]
    for label in ("डायलिंग की गति", "डायल स्तर", "छोड़ी गई (अवधि में)", "छोड़ी गई (आज)", "सीमा", "कारण",
                  "व्यस्तता", "कॉलों के बीच इंतज़ार", 'पिछले <span id="pacing-window">30</span> मिनट'):
        assert label in card, label
    shown = re.sub(r"<[^>]*>", " ", re.sub(r"<script.*?</script>", "", card, flags=re.S))  # the text only
    for english_label in ("Dial level", "Abandoned", "Cap", "Why", "occupancy", "wait between calls", "Pacing"):
        assert english_label not in shown, english_label
    found = re.search(r'<script type="application/json" id="pacing-words"[^>]*>(.*?)</script>', card, re.S)
    assert found is not None
    words = json.loads(found.group(1))
    assert words["pc_progressive"] == "प्रोग्रेसिव" and words["pc_state_draft"] == "ड्राफ़्ट"
    assert words["pr_few_operators"].startswith("प्रोग्रेसिव:")
    form = sup.get(f"/campaigns/{cid}").text
    assert "छोड़ी गई कॉल की सीमा (%)" in form and "प्रेडिक्टिव: पहले से डायल करें" in form
    assert "Abandon cap (%)" not in form and "dial ahead" not in form
    # both languages have every word, and each reason's Hindi names the same figures as its English
    assert set(PACING["en"]) == set(PACING["hi"])
    fields = string.Formatter()
    for key, text in REASONS.items():
        assert {f for _, f, _, _ in fields.parse(text) if f} == \
            {f for _, f, _, _ in fields.parse(PACING["hi"][f"pr_{key}"]) if f}, key
    # the board says why by key and figures (the card words it in the page's language)
    thin = decide(Measurements(lines_free=10, ready=2, waiting=0, ringing=[]), PacingPolicy(mode=PacingMode.predictive))
    assert thin.why == "few_operators" and thin.reason == REASONS["few_operators"].format(**thin.why_args)
    said = PACING["hi"]["pr_few_operators"].format(**thin.why_args)
    assert "{" not in said and thin.why_args["working"] in said
    assert web.services.pacing is not None
    web.services.pacing.live = lambda: {cid: {"running": "progressive", "level": 1.0, "reason": thin.reason,
                                              "why": thin.why, "why_args": thin.why_args}}
    row = next(r for r in sup.get("/api/pacing").json()["campaigns"] if r["id"] == cid)
    assert (row["why"], row["why_args"]) == ("few_operators", thin.why_args)
