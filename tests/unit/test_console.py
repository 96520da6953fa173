"""The operator console without Asterisk: softphone settings, the registration gate on ready, pauses with
reasons, dispositions on one's own call only (written back to the directory), live updates, masked numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import UserService, add_user
from db.engine import Database
from db.ivr import IvrCall, QueueCall
from db.models import Person
from db.operators import OperatorState
from events.bus import EventBus
from events.types import ScreenPop
from operators.screen import mask, screen_pop
from operators.states import change
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from tests.databases import migrated_sqlite
from web.app import ComponentHealth, create_app
from web.auth import Auth
from web.console_feed import ConsoleFeed
from web.services import web_services

REGISTERED: set[str] = set()


async def _health() -> dict[str, ComponentHealth]:
    return {}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    engine = migrated_sqlite(tmp_path / "c.db")
    db = Database(engine)
    sessions = db.sessions
    with sessions.begin() as s:
        asha = add_user(s, "asha", "operator", "Operator-pass-1", "Asha Devi").id
        ravi = add_user(s, "ravi", "operator", "Operator-pass-2", "Ravi").id
        person = Person(name="Farhan", phone="+919826012345")
        s.add(person)
        s.flush()
        s.add(IvrCall(channel_id="ch-1", direction="inbound", person_id=person.id, caller_phone=person.phone,
                      script="hotline", language="hi"))
        s.add(QueueCall(channel_id="ch-1", person_id=person.id, caller_phone=person.phone, note="Hotline: Farhan"))
    bus = EventBus()

    async def registered(endpoint: str) -> bool:
        return endpoint in REGISTERED

    services = web_services(db, bus, live_figures=dict, timezone="Asia/Kolkata", target_minutes=60,
                            shifts=parse_shifts(DEFAULT_SHIFTS), registered=registered,
                            sip_server=("192.0.2.10", 5060))
    services.start()
    hub = services.console_feed
    app = create_app(services, health=_health, auth=Auth(UserService(db)))
    REGISTERED.clear()
    yield {"app": app, "sessions": sessions, "asha": asha, "ravi": ravi, "person": person.id, "hub": hub, "bus": bus}
    engine.dispose()


def signed_in(app: Any, user: str, password: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    client.post("/signin", data={"username": user, "password": password, "csrf_token": token.group(1),
                                 "next": "/console"})
    console = client.get("/console")
    csrf = re.search(r'<meta name="csrf" content="([^"]+)"', console.text)
    assert console.status_code == 200 and csrf, console.text[:300]
    return client, csrf.group(1)


def test_console_shows_softphone_settings_and_gates_ready_on_registration(world: dict[str, Any]) -> None:
    client, csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    page = client.get("/console").text
    assert "op-asha" in page and "192.0.2.10:5060" in page and "not registered" in page
    h = {"X-CSRF-Token": csrf}
    resp = client.post("/console/state", json={"to": "ready"}, headers=h)
    assert resp.status_code == 409 and "softphone is not registered" in resp.json()["detail"]
    REGISTERED.add("op-asha")
    assert client.post("/console/state", json={"to": "ready"}, headers=h).json()["state"] == "ready"
    resp = client.post("/console/state", json={"to": "paused"}, headers=h)
    assert resp.status_code == 409 and "say why" in resp.json()["detail"]
    paused = client.post("/console/state", json={"to": "paused", "reason": "tea"}, headers=h).json()
    assert (paused["state"], paused["reason"]) == ("paused", "tea")
    assert client.get("/console/state").json()["state"] == "paused"


def test_disposition_only_on_ones_own_call_and_written_back(world: dict[str, Any]) -> None:
    sessions: sessionmaker[Session] = world["sessions"]
    with sessions.begin() as s:
        change(s, world["asha"], OperatorState.ready)
        change(s, world["asha"], OperatorState.on_call, by_system=True, channel_id="ch-1")
    asha, csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    ravi, ravi_csrf = signed_in(world["app"], "ravi", "Operator-pass-2")
    body = {"channel_id": "ch-1", "disposition": "wrong_number", "notes": "says he is not Farhan"}
    assert ravi.post("/console/disposition", json=body, headers={"X-CSRF-Token": ravi_csrf}).status_code == 403
    h = {"X-CSRF-Token": csrf}
    bad = asha.post("/console/disposition", json={**body, "disposition": "maybe"}, headers=h)
    assert bad.status_code == 422 and "unknown disposition 'maybe'" in bad.text
    later = asha.post("/console/disposition", json={**body, "disposition": "call_back"}, headers=h)
    assert later.status_code == 422 and "needs a time in the future" in later.text
    ok = asha.post("/console/disposition", json=body, headers=h)
    assert ok.status_code == 201 and ok.json()["disposition"] == "wrong_number"
    with sessions() as s:
        person = s.get(Person, world["person"])
        assert person is not None and person.phone_invalid_at is not None


async def test_live_hub_sends_a_snapshot_then_the_screen_pop_to_that_operator_only(world: dict[str, Any]) -> None:
    hub: ConsoleFeed = world["hub"]
    mine = hub.stream(world["asha"], {"state": "ready"})
    theirs = hub.stream(world["ravi"], {"state": "ready"})
    assert (await anext(mine)).startswith("event: snapshot")
    assert (await anext(theirs)).startswith("event: snapshot")
    world["bus"].publish(ScreenPop(world["asha"], "ch-1", {"name": "Farhan", "phone": "XXXXXX2345"}))
    pop = await anext(mine)
    assert pop.startswith("event: screen_pop") and '"XXXXXX2345"' in pop and "9826012345" not in pop
    assert hub.pages(world["ravi"]) == 1
    await mine.aclose()
    await theirs.aclose()
    assert hub.pages(world["asha"]) == 0


def test_operators_never_see_a_full_number(world: dict[str, Any]) -> None:
    assert mask("+919826012345") == "XXXXXX2345" and mask(None) == "unknown"
    with world["sessions"]() as s:
        details = screen_pop(s, 1)
    assert details["phone"] == "XXXXXX2345" and details["name"] == "Farhan"
    assert "9826012345" not in repr(details)


def test_ticket_from_the_console_and_a_call_back_requeues_the_campaign_target(world: dict[str, Any]) -> None:
    from datetime import timedelta

    from db.campaigns import Attempt, Campaign, CampaignMode, Target, TargetState
    from db.models import utcnow
    from db.tickets import Ticket

    sessions: sessionmaker[Session] = world["sessions"]
    with sessions.begin() as s:
        campaign = Campaign(name="p", mode=CampaignMode.operator)
        s.add(campaign)
        s.flush()
        target = Target(campaign_id=campaign.id, person_id=world["person"], state=TargetState.done)
        s.add(target)
        s.flush()
        attempt = Attempt(channel_id="ch-2", action_id="a-2", campaign_id=campaign.id, target_id=target.id,
                          person_id=world["person"], phone="+919826012345", trunk="lines")
        s.add(attempt)
        s.flush()
        s.add(QueueCall(channel_id="ch-2", person_id=world["person"], attempt_id=attempt.id, note="campaign"))
        change(s, world["asha"], OperatorState.ready)
        change(s, world["asha"], OperatorState.on_call, by_system=True, channel_id="ch-2")
        target_id = target.id
    client, csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    h = {"X-CSRF-Token": csrf}
    made = client.post("/console/ticket", json={"channel_id": "ch-2", "category": "worker_shortage",
                                                "description": "two agents short"}, headers=h)
    assert made.status_code == 201, made.text
    bad = client.post("/console/ticket", json={"channel_id": "ch-2", "category": "snacks", "description": "x"},
                      headers=h)
    assert bad.status_code == 422 and "unknown category 'snacks'" in bad.text
    when = utcnow() + timedelta(hours=2)
    resp = client.post("/console/disposition", json={"channel_id": "ch-2", "disposition": "call_back",
                                                     "callback_at": when.isoformat()}, headers=h)
    assert resp.status_code == 201, resp.text
    with sessions() as s:
        t = s.get(Target, target_id)
        assert t is not None and t.state is TargetState.queued and t.next_at == when
        ticket = s.query(Ticket).one()
        assert ticket.source == "operator" and ticket.reporter_id == world["person"]
        assert ticket.description == "two agents short (by asha)"


def test_an_operator_gives_a_pin_only_on_a_call_to_the_members_own_number(world: dict[str, Any]) -> None:
    """Caller ID can be spoofed: on the hotline call (incoming) no PIN is given; on a campaign call the war room
    made to the member's number, the operator gets a new PIN to read out (its hash kept, the act audited)."""
    from db.audit import AuditEntry
    from db.campaigns import Attempt, AttemptState, Campaign, CampaignMode
    from db.models import utcnow
    from hotline.pins import check_pin

    sessions: sessionmaker[Session] = world["sessions"]
    with sessions.begin() as s:
        campaign = Campaign(name="p", mode=CampaignMode.operator)
        s.add(campaign)
        s.flush()
        for channel, phone in (("ch-3", "+919826012345"), ("ch-4", "+919000000001")):
            attempt = Attempt(channel_id=channel, action_id=f"a-{channel}", campaign_id=campaign.id,
                              person_id=world["person"], phone=phone, trunk="lines", state=AttemptState.ended)
            s.add(attempt)
            s.flush()
            s.add(QueueCall(channel_id=channel, person_id=world["person"], attempt_id=attempt.id, note="campaign"))
        change(s, world["asha"], OperatorState.ready)
        change(s, world["asha"], OperatorState.on_call, by_system=True, channel_id="ch-1")
    client, csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    h = {"X-CSRF-Token": csrf}
    refused = client.post("/console/pin", json={"channel_id": "ch-1"}, headers=h)
    assert refused.status_code == 403 and "own number" in refused.text, "an incoming call proves nothing"
    assert client.post("/console/pin", json={"channel_id": "ch-3"}, headers=h).status_code == 403, "not my call"
    for channel, ok in (("ch-4", False), ("ch-3", True)):
        with sessions.begin() as s:
            change(s, world["asha"], OperatorState.ready, by_system=True)
            change(s, world["asha"], OperatorState.on_call, by_system=True, channel_id=channel)
        resp = client.post("/console/pin", json={"channel_id": channel}, headers=h)
        assert (resp.status_code == 201) is ok, (channel, resp.text)
    pin = resp.json()["pin"]
    with sessions() as s:
        assert check_pin(s, world["person"], pin, utcnow()).ok
        [entry] = s.query(AuditEntry).filter(AuditEntry.action == "person.pin_set").all()
        assert entry.actor == "asha" and pin not in str(entry.detail)
