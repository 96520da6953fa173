"""The supervisors' figures: the board, charts, the drill-down's roll-up, the tickets board, the live
feed's pushes and the HTTP side (tickets, listen-in, /metrics). Queries run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dashboard.charts import calls_by_hour, outcomes_by_status, survey_answers
from dashboard.drill import DrillError, drill
from dashboard.feed import DashboardFeed
from dashboard.figures import campaign_progress, stored_figures, today
from dashboard.tickets import BoardFilter, tickets_board
from db.campaigns import Attempt, AttemptState, Campaign, CampaignMode, CampaignState, Disposition, Target, TargetState
from db.ivr import IvrAnswer, IvrCall
from db.tickets import Ticket, TicketStatus
from events.asterisk import ChannelCreated
from events.bus import EventBus
from events.types import AttemptChanged, CampaignChanged, TicketChanged
from tests.directory_builder import Dir, build
from tests.unit.test_web_auth import csrf_of, sign_in
from tests.web_app import METRICS_TOKEN, build_web_app

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 14:30 in India
TZ = "Asia/Kolkata"


def _fill(s: Session) -> Dir:
    """Two booths (1 strong, 2 weak); booth 1 is under-covered (its BLA asked not to be called); calls,
    survey answers and tickets on both."""
    d = build(s)
    d.people["b1_bla"].dnd = True
    c = Campaign(name="Booth check", mode=CampaignMode.ivr, state=CampaignState.running)
    s.add(c)
    s.flush()
    plan = [("b1_pres", "booth:112:1", Disposition.answered, 40),
            ("b1_bla", "booth:112:1", Disposition.busy, None), ("b2_pres", "booth:112:2", Disposition.answered, 20),
            ("b2_bla", "booth:112:2", Disposition.no_answer, None)]
    for i, (who, booth, disposition, talk) in enumerate(plan):
        t = Target(campaign_id=c.id, person_id=d.people[who].id, committee_id=d.committees[booth].id,
                   booth_id=d.units[booth].id, state=TargetState.done)
        s.add(t)
        s.flush()
        at = NOW - timedelta(hours=i)  # 14:30, 13:30, 12:30, 11:30 IST
        s.add(Attempt(channel_id=f"ch{i}", action_id=f"a{i}", campaign_id=c.id, target_id=t.id,
                      person_id=t.person_id, phone=d.people[who].phone, trunk="lines", state=AttemptState.ended,
                      disposition=disposition, created_at=at, answered_at=at if talk else None,
                      ended_at=at + timedelta(seconds=talk or 30), talk_seconds=talk))
    blocked = Target(campaign_id=c.id, person_id=d.people["mandal_pres"].id, committee_id=d.committees["mandal:1"].id,
                     state=TargetState.queued, blocked_rule="window", blocked_by="outside the calling window")
    s.add_all([blocked, Target(campaign_id=c.id, person_id=d.people["dist_pres"].id, state=TargetState.queued)])
    for n, (who, booth, key) in enumerate([("b1_pres", "booth:112:1", "1"), ("b2_pres", "booth:112:2", "2")]):
        call = IvrCall(channel_id=f"ivr{n}", direction="outbound", campaign_id=c.id, person_id=d.people[who].id,
                       booth_id=d.units[booth].id, script="strong", language="hi", started_at=NOW)
        s.add(call)
        s.flush()
        s.add(IvrAnswer(call_id=call.id, step="ready", question="Is the booth ready?", key=key,
                        value="yes" if key == "1" else "no", valid=True, at=NOW))
        s.add(IvrAnswer(call_id=call.id, step="ready", question="Is the booth ready?", key="9", valid=False, at=NOW))
    s.add_all([Ticket(booth_id=d.units["booth:112:1"].id, category="material_shortage", source="hotline",
                      status=TicketStatus.open, created_at=NOW - timedelta(minutes=90)),
               Ticket(booth_id=d.units["booth:112:2"].id, category="other", source="operator",
                      status=TicketStatus.resolved, created_at=NOW - timedelta(hours=2), resolved_at=NOW)])
    s.flush()
    return d


def test_board_campaign_progress_and_today(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        _fill(s)
    with session_factory() as s:
        [c] = campaign_progress(s)
        assert (c["targets"], c["done"], c["due"], c["blocked"], c["answered"]) == (6, 4, 1, 1, 2)
        assert c["blocked_why"] == [{"rule": "window", "count": 1, "example": "outside the calling window"}]
        t = today(s, TZ, NOW)
        assert (t["attempts"], t["ended"], t["answered"], t["answer_rate"]) == (4, 4, 2, 0.5)
        assert t["avg_talk_seconds"] == 30.0 and t["attempts_last_hour"] == 2  # now and exactly an hour ago
        just_after_midnight = today(s, TZ, NOW + timedelta(hours=9, minutes=40))  # 00:10 IST next day
        assert (just_after_midnight["attempts"], just_after_midnight["attempts_last_hour"]) == (0, 0)
        assert just_after_midnight["avg_talk_seconds"] == 0.0
        assert stored_figures(s, TZ, NOW)["open_tickets"] == 1


def test_charts(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        _fill(s)
    with session_factory() as s:
        hours = calls_by_hour(s, TZ, NOW)
        assert hours["day"] == "2026-11-24"
        assert [hours["attempts"][h] for h in (11, 12, 13, 14)] == [1, 1, 1, 1] and sum(hours["attempts"]) == 4
        assert [hours["answered"][h] for h in (12, 14)] == [1, 1] and sum(hours["answered"]) == 2
        outcomes = outcomes_by_status(s)
        assert outcomes["statuses"] == ["strong", "weak", "swing", "unknown"]
        assert outcomes["outcomes"] == {"answered": [1, 1, 0, 0], "busy": [1, 0, 0, 0], "no_answer": [0, 1, 0, 0]}
        [q] = survey_answers(s)
        assert q["question"] == "Is the booth ready?" and q["answers"] == {"yes": 1, "no": 1}, "invalid keys left out"


def test_drill_down_rolls_each_level_up(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        d = _fill(s)
    with session_factory() as s:
        top = drill(s)
        assert [c["name"] for c in top["children"]] == ["MP"]
        f = top["figures"]
        # committees: state, district, AC, mandal, sector, 2 booths; only booth 2 has two reachable people
        assert (f["booths"], f["committees"], f["covered"], f["attempts"], f["answered"]) == (2, 7, 1, 4, 2)
        assert (f["answers"], f["open_tickets"]) == (2, 1)
        sector = drill(s, d.units["sector:1"].id)
        assert [p["kind"] for p in sector["path"]] == ["state", "district", "ac", "mandal", "sector"]
        b1, b2 = sector["children"]
        assert (b1["name"], b1["covered"], b1["attempts"], b1["answered"]) == ("1 School 1", 0, 2, 1)
        assert b1["open_tickets"] == 1
        assert (b2["name"], b2["covered"], b2["coverage"], b2["answer_rate"]) == ("2 School 2", 1, 1.0, 0.5)
        assert sector["survey"] == [{"question": "Is the booth ready?", "answers": {"yes": 1, "no": 1}}]
        with pytest.raises(DrillError):
            drill(s, 999_999)


def test_tickets_board_filters_and_order(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        d = _fill(s)
    with session_factory() as s:
        rows = tickets_board(s, BoardFilter(), target_minutes=60, now=NOW)
        assert [(r["status"], r["overdue"]) for r in rows] == [("open", True), ("resolved", False)]
        assert rows[0]["ac"] == "112 Bhopal Uttar" and rows[0]["district"] == "Bhopal"
        assert rows[0]["age_seconds"] == 5400
        assert tickets_board(s, BoardFilter(), target_minutes=120, now=NOW)[0]["overdue"] is False
        assert len(tickets_board(s, BoardFilter(status="open", ac_id=d.units["ac:112"].id), 60, NOW)) == 1
        assert tickets_board(s, BoardFilter(category="worker_shortage"), 60, NOW) == []
        assert len(tickets_board(s, BoardFilter(district_id=d.units["district:bhopal"].id), 60, NOW)) == 2


async def test_feed_pushes_live_figures_soon_after_an_asterisk_event_and_tickets_as_they_change() -> None:
    bus = EventBus()
    figures = {"n": 0}

    async def board_() -> dict[str, Any]:
        return {"campaigns": []}

    async def tickets() -> list[dict[str, Any]]:
        return []

    async def ticket(ticket_id: int) -> dict[str, Any] | None:
        return {"id": ticket_id, "status": "open"}

    feed = DashboardFeed(bus, lambda: dict(figures), board_, tickets, ticket, debounce=0.05, every=30).start()
    stream = feed.stream()
    kind, snap = await stream.__anext__()
    assert kind == "snapshot" and snap["live"] == {"n": 0} and snap["tickets"] == []
    figures["n"] = 1
    started = asyncio.get_running_loop().time()
    for _ in range(5):  # a burst of events: one push
        bus.publish(ChannelCreated("c1"))
    assert await asyncio.wait_for(stream.__anext__(), 1) == ("live", {"n": 1})
    assert asyncio.get_running_loop().time() - started < 0.5
    bus.publish(TicketChanged(7, "opened"))
    assert await asyncio.wait_for(stream.__anext__(), 1) == ("ticket", {"id": 7, "status": "open", "change": "opened"})
    bus.publish(CampaignChanged(1, "paused"))  # the board at once, not at the next tick (30 s away)
    kinds = [(await asyncio.wait_for(stream.__anext__(), 1))[0] for _ in range(2)]
    assert sorted(kinds) == ["board", "live"], "one live push: the tick leaves it to the pending debounce timer"
    assert feed.pages == 1
    with pytest.raises(TimeoutError):  # nothing more; waiting in vain cancels the page's stream
        await asyncio.wait_for(stream.__anext__(), 0.3)
    assert feed.pages == 0


def test_tickets_api_assign_resolve_and_events(tmp_path: Path) -> None:
    web = build_web_app(tmp_path)
    with web.sessions.begin() as s:
        s.add(Ticket(category="other", source="hotline", status=TicketStatus.open, description="=cmd|' /C calc'!A0"))
    heard: list[TicketChanged] = []
    web.bus.subscribe(TicketChanged, heard.append)
    sup = TestClient(web.app)
    sign_in(sup, "sup")
    h = {"X-CSRF-Token": csrf_of(sup)}
    assert sup.post("/api/tickets/1/assign", json={"to": "nobody"}, headers=h).status_code == 409
    ok = sup.post("/api/tickets/1/assign", json={"to": "op"}, headers=h)
    assert ok.status_code == 200 and ok.json()["status"] == "assigned" and ok.json()["assigned_to"] == "op"
    done = sup.post("/api/tickets/1/resolve", json={"resolution": "sent forms"}, headers=h)
    assert done.json()["status"] == "resolved" and done.json()["resolution"] == "sent forms (sup)"
    again = sup.post("/api/tickets/1/resolve", json={"resolution": "x"}, headers=h)
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    assert sup.post("/api/tickets/99/resolve", json={"resolution": "x"}, headers=h).status_code == 404
    assert [(e.ticket_id, e.what) for e in heard] == [(1, "assigned"), (1, "resolved")]
    assert sup.get("/api/tickets?status=resolved").json()[0]["id"] == 1
    assert sup.get("/api/tickets?category=nonsense").status_code == 422
    web.engine.dispose()


def test_listen_in_and_metrics_over_http(tmp_path: Path) -> None:
    web = build_web_app(tmp_path)
    sup = TestClient(web.app)
    sign_in(sup, "sup")
    h = {"X-CSRF-Token": csrf_of(sup)}
    r = sup.post("/api/listen", json={"operator_id": 3, "mode": "whisper"}, headers=h)
    assert r.status_code == 201 and web.listened == [(2, 3, "whisper")]
    r = sup.post("/api/listen", json={"operator_id": 1, "mode": "listen"}, headers=h)
    assert r.status_code == 409 and "not on a call" in r.json()["detail"]
    assert sup.post("/api/listen", json={"operator_id": 3, "mode": "shout"}, headers=h).status_code == 422
    machine = TestClient(web.app)
    assert machine.get("/metrics").status_code == 401
    assert machine.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    text = machine.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert re.search(r'^warroom_lines_in_use\{trunk="lines"\} 3\.0$', text, re.M), text
    assert re.search(r'^warroom_calls\{state="queued"\} 1\.0$', text, re.M)
    assert re.search(r'^warroom_calls\{state="ivr"\} 2\.0$', text, re.M)
    assert re.search(r'^warroom_operators\{state="signed_out"\} 1\.0$', text, re.M)
    assert re.search(r'^warroom_attempts_ended_total\{disposition="busy"\} 4\.0$', text, re.M)
    assert "warroom_tickets_open 0.0" in text
    assert sup.get("/metrics").status_code == 200, "a supervisor's session will do too"
    op = TestClient(web.app)
    sign_in(op, "op")
    assert op.get("/metrics").status_code == 403
    web.engine.dispose()


def test_reports_download_as_csv_and_xlsx_with_formulas_neutralised(tmp_path: Path) -> None:
    import io

    from openpyxl import load_workbook

    web = build_web_app(tmp_path)
    with web.sessions.begin() as s:
        s.add(Campaign(name='=HYPERLINK("http://x","click")', mode=CampaignMode.ivr, state=CampaignState.running))
    sup = TestClient(web.app)
    sign_in(sup, "sup")
    as_json = sup.get("/api/reports/campaign").json()
    assert as_json["rows"][0]["name"] == '=HYPERLINK("http://x","click")', "JSON keeps the value as it is"
    csv = sup.get("/api/reports/campaign?format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "attachment" in csv.headers["content-disposition"]
    assert "'=HYPERLINK" in csv.text and "\n=HYPERLINK" not in csv.text and ",=HYPERLINK" not in csv.text
    xlsx = sup.get("/api/reports/campaign?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells) and any(c.value == '=HYPERLINK("http://x","click")' for c in cells)
    assert sup.get("/api/reports/day?since=2026-11-24&until=2026-11-20").status_code == 422
    assert sup.get("/api/reports/day?since=1900-01-01").status_code == 422
    assert sup.get("/api/reports/shift?campaign=1").status_code == 422
    missing = sup.get("/api/reports/ac?campaign=nope")
    assert missing.status_code == 404 and "no campaign 'nope'" in missing.json()["detail"]
    assert sup.get("/api/reports/week").status_code == 422
    op = TestClient(web.app)
    sign_in(op, "op")
    assert op.get("/api/reports/campaign?format=csv").status_code == 403
    web.engine.dispose()


async def test_the_dialers_attempts_bring_a_board_read_at_once_but_not_more_than_one_per_gap() -> None:
    bus = EventBus()
    reads: list[float] = []

    async def board_() -> dict[str, Any]:
        reads.append(asyncio.get_running_loop().time())
        return {"reads": len(reads)}

    async def tickets() -> list[dict[str, Any]]:
        return []

    async def ticket(_id: int) -> dict[str, Any] | None:
        return None

    feed = DashboardFeed(bus, lambda: {}, board_, tickets, ticket, every=30, board_gap=0.3).start()
    stream = feed.stream()
    assert (await stream.__anext__())[0] == "snapshot"
    await asyncio.sleep(0.35)  # the tick's first gap after the snapshot's read
    loop = asyncio.get_running_loop()

    async def next_board() -> float:
        while True:
            kind, _data = await asyncio.wait_for(stream.__anext__(), 2)
            if kind == "board":
                return loop.time()

    started = loop.time()
    for n in range(20):  # a burst of attempts: one read, at once
        bus.publish(AttemptChanged(n, 1, "ended", "answered"))
    first = await next_board()
    assert first - started < 0.2, "the read follows the attempts at once"
    bus.publish(AttemptChanged(21, 1, "started"))  # right after it: the next read waits for the gap
    second = await next_board()
    assert second - first >= 0.3 - 0.02
    await asyncio.sleep(0.5)
    assert len(reads) == 3, "the snapshot's read and two for the burst (30 s to the next tick)"
    await stream.aclose()


async def test_pages_opening_together_share_one_snapshot_read_unless_a_ticket_changed_meanwhile() -> None:
    bus = EventBus()
    reads: list[str] = []
    gate = asyncio.Event()

    async def board_() -> dict[str, Any]:
        reads.append("board")
        await gate.wait()
        return {"reads": len(reads)}

    async def tickets() -> list[dict[str, Any]]:
        reads.append("tickets")
        return [{"id": len(reads)}]

    async def ticket(_id: int) -> dict[str, Any] | None:
        return None

    feed = DashboardFeed(bus, lambda: {"n": 1}, board_, tickets, ticket, every=30).start()
    streams = [feed.stream() for _ in range(20)]  # every supervisor's page reconnects at once
    firsts = [asyncio.ensure_future(s.__anext__()) for s in streams]
    await asyncio.sleep(0.05)
    gate.set()
    snaps = await asyncio.wait_for(asyncio.gather(*firsts), 2)
    assert reads == ["board", "tickets"], "one read for the twenty pages"
    assert all(kind == "snapshot" and snap["live"] == {"n": 1} and snap["tickets"] == [{"id": 2}]
               for kind, snap in snaps)
    late = feed.stream()  # within the second after: the same read
    assert (await late.__anext__())[1]["tickets"] == [{"id": 2}] and len(reads) == 2
    bus.publish(TicketChanged(7, "opened"))  # a ticket changed since that read: the next page reads anew
    fresh = feed.stream()
    assert (await asyncio.wait_for(fresh.__anext__(), 2))[1]["tickets"] == [{"id": 4}]
    assert reads == ["board", "tickets", "board", "tickets"]
    for s in [*streams, late, fresh]:
        await s.aclose()
