"""The features' services: their rules, the kinds of error they raise and the events they publish, on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from accounts.service import AccountInvalid, UserExists, UserNotFound, UserService
from core.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from dashboard.feed import DashboardFeed
from dashboard.service import DashboardService
from db.engine import Database
from db.ivr import IvrCall, QueueCall
from db.models import Person, utcnow
from db.operators import OperatorState
from dialer.campaigns import CampaignConflict, CampaignInvalid, CampaignNotFound
from dialer.service import CampaignService, CampaignSpec
from directory.service import DirectoryService
from directory.status import StatusRules
from events.asterisk import ChannelCreated
from events.bus import EventBus
from events.types import CampaignChanged, OperatorStateChanged, ScreenPop, TicketChanged
from hotline.service import InstructionService
from ivr_scripts.library import ScriptLibrary
from ivr_scripts.service import ScriptService
from operators.service import OperatorService
from operators.states import OperatorError, change
from reports.model import ReportError
from reports.service import ReportService
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from tests import directory_builder
from tickets.service import TicketConflict, TicketInvalid, TicketNotFound, TicketService, UnknownAssignee
from web.console_feed import ConsoleFeed


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Database]:
    database = Database(db_engine)
    yield database
    database.close()


def heard(bus: EventBus, *kinds: type) -> list[Any]:
    events: list[Any] = []
    for kind in kinds:
        bus.subscribe(kind, events.append)
    return events


async def test_tickets_open_assign_resolve_each_published_and_the_assignee_must_exist(db: Database) -> None:
    bus = EventBus()
    events = heard(bus, TicketChanged)
    users = UserService(db)
    await users.add("ravi", "supervisor", "Supervise-2026!")
    tickets = TicketService(db, bus.publish)
    opened = await tickets.open(category="material_shortage", source="operator", description="no ink")
    assert opened["status"] == "open"
    with pytest.raises(UnknownAssignee, match=f"cannot assign ticket #{opened['id']}: there is no user 'asha'") as e:
        await tickets.assign(opened["id"], "asha")
    assert isinstance(e.value, Conflict) and e.value.http_status == 409
    assert (await tickets.assign(opened["id"], " Ravi "))["assigned_to"] == "ravi", "user names are lower-case"
    with pytest.raises(TicketInvalid, match="assign to whom"):
        await tickets.assign(opened["id"], "  ")
    with pytest.raises(TicketNotFound, match="no ticket #999"):
        await tickets.assign(999, "ravi")
    done = await tickets.resolve(opened["id"], "sent forms", by="ravi")
    assert done["status"] == "resolved" and done["resolution"] == "sent forms (ravi)"
    with pytest.raises(TicketConflict, match="already resolved"):
        await tickets.resolve(opened["id"], "again")
    assert [(e.ticket_id, e.what) for e in events] == [(opened["id"], "opened"), (opened["id"], "assigned"),
                                                       (opened["id"], "resolved")]
    with pytest.raises(TicketInvalid, match="category 'snacks'"):
        await tickets.list(category="snacks")
    with pytest.raises(TicketInvalid, match="status 'lost'"):
        await tickets.list(status="lost")
    assert [t["id"] for t in await tickets.list(status="resolved")] == [opened["id"]]
    shown = await tickets.get(opened["id"])
    assert shown["description"] == "no ink" and shown["voice_note"] is None


async def test_a_ticket_opened_by_a_session_function_is_published_once_and_none_is_not(db: Database) -> None:
    from tickets.service import open_ticket

    bus = EventBus()
    events = heard(bus, TicketChanged)
    tickets = TicketService(db, bus.publish)
    number = await tickets.open_with(lambda s, what: open_ticket(s, category=what, source="hotline").id, "other")
    assert number is not None and [(e.ticket_id, e.what) for e in events] == [(number, "opened")]
    assert await tickets.open_with(lambda _s: None) is None and len(events) == 1


async def test_campaign_changes_are_published_and_wake_the_dialer(db: Database) -> None:
    with db.sessions.begin() as s:
        directory_builder.build(s)
    bus = EventBus()
    events = heard(bus, CampaignChanged)
    woken: list[int] = []
    campaigns = CampaignService(db, bus.publish, wake=lambda: woken.append(1),
                                check_scripts=lambda scripts, _f: [f"no script {v}" for v in scripts.values()])
    with pytest.raises(CampaignInvalid, match="no script nope"):
        await campaigns.create(CampaignSpec("c", scripts={"strong": "nope"}))
    assert await campaigns.list() == [], "nothing is created when the scripts are wrong"
    made = await campaigns.create(CampaignSpec("c", mode="operator", statuses=["weak"], window="09:30-20:00"))
    assert made["rules"] == {"window_start": "09:30", "window_end": "20:00"} and made["progress"]["targets"] == 3
    assert (await campaigns.start("c"))["state"] == "running"
    assert (await campaigns.pause(str(made["id"])))["state"] == "paused"
    with pytest.raises(CampaignConflict, match="cannot pause campaign 'c': it is paused"):
        await campaigns.pause("c")
    with pytest.raises(CampaignNotFound, match="no campaign 'd'"):
        await campaigns.resume("d")
    with pytest.raises(CampaignInvalid, match="window '0930': expected HH:MM-HH:MM"):
        await campaigns.create(CampaignSpec("e", mode="operator", window="0930"))
    assert [(e.campaign_id, e.state) for e in events] == [(made["id"], "running"), (made["id"], "paused")]
    assert len(woken) == 2
    assert (await campaigns.show("c"))["progress"]["due"] == 3


async def test_the_console_state_registration_own_calls_and_tickets(db: Database) -> None:
    users = UserService(db)
    await users.add("asha", "operator", "Operator-pass-1")
    await users.add("ravi", "operator", "Operator-pass-2")
    asha, ravi = 1, 2  # user ids, in the order added
    with db.sessions.begin() as s:
        person = Person(name="Farhan", phone="+919826012345")
        s.add(person)
        s.flush()
        s.add(IvrCall(channel_id="ch-1", direction="inbound", person_id=person.id, caller_phone=person.phone,
                      script="hotline", language="hi"))
        s.add(QueueCall(channel_id="ch-1", person_id=person.id, caller_phone=person.phone, note="Hotline"))
    bus = EventBus()
    events = heard(bus, OperatorStateChanged, TicketChanged)
    registered: set[str] = set()

    async def is_registered(endpoint: str) -> bool:
        return endpoint in registered

    console = OperatorService(db, TicketService(db, bus.publish), bus.publish, registered=is_registered)
    with pytest.raises(OperatorError, match="softphone is not registered") as e:
        await console.set_state(asha, OperatorState.ready)
    assert isinstance(e.value, Conflict)
    page = await console.console(asha)
    assert (page["sip_username"], page["registered"], page["state"]["state"]) == ("op-asha", False, "signed_out")
    registered.add("op-asha")
    state = await console.set_state(asha, OperatorState.ready)
    assert state["state"] == "ready" and (await console.console(asha))["registered"] is True
    [event] = events
    assert (event.user_id, event.state, event.at.isoformat()) == (asha, "ready", state["since"])
    with pytest.raises(Forbidden, match="that is not your call"):
        await console.record_disposition(asha, "ch-1", "reached")
    with db.sessions.begin() as s:
        change(s, asha, OperatorState.on_call, by_system=True, channel_id="ch-1")
    with pytest.raises(Invalid, match="unknown disposition 'maybe'"):
        await console.record_disposition(asha, "ch-1", "maybe")
    assert (await console.record_disposition(asha, "ch-1", "reached"))["disposition"] == "reached"
    ticket = await console.open_ticket(asha, "asha", "ch-1", "worker_shortage", " two short ")
    assert ticket["status"] == "open" and (events[-1].ticket_id, events[-1].what) == (ticket["id"], "opened")
    shown = await TicketService(db).get(ticket["id"])
    assert shown["description"] == "two short (by asha)" and shown["reporter_id"] == person.id
    with pytest.raises(Forbidden):
        await console.open_ticket(ravi, "ravi", "ch-1", "other", "not mine")


async def test_users_add_list_disable_and_sign_in(db: Database) -> None:
    users = UserService(db)
    await users.add("sup", "supervisor", "Supervise-2026!", "Sunita")
    with pytest.raises(UserExists, match="user 'sup' already exists") as e:
        await users.add("sup", "operator", "Supervise-2026!")
    assert e.value.http_status == 409
    with pytest.raises(AccountInvalid, match="role 'boss'"):
        await users.add("ravi", "boss", "Supervise-2026!")
    with pytest.raises(UserNotFound, match="no user 'nobody'"):
        await users.disable("nobody")
    assert [(u["username"], u["name"], u["role"], u["disabled"]) for u in await users.list()] == \
        [("sup", "Sunita", "supervisor", False)]
    assert await users.sign_in("sup", "wrong password!", "127.0.0.1", timedelta(hours=1)) is None
    token = await users.sign_in(" SUP ", "Supervise-2026!", "127.0.0.1", timedelta(hours=1))
    assert token is not None and (who := await users.principal(token)) is not None and who.username == "sup"
    second = await users.sign_in("sup", "Supervise-2026!", "127.0.0.1", timedelta(hours=1))
    assert await users.end_sessions("sup") == 2
    assert await users.principal(token) is None and await users.principal(second) is None
    token = await users.sign_in("sup", "Supervise-2026!", None, timedelta(hours=1))
    await users.disable("sup")
    assert await users.principal(token) is None, "disabling ends the sessions at once"
    await users.enable("sup")
    await users.set_password("sup", "Another-pass-99")
    assert await users.sign_in("sup", "Another-pass-99", None, timedelta(hours=1)) is not None


async def test_directory_instructions_and_reports_raise_the_right_kinds(db: Database) -> None:
    with db.sessions.begin() as s:
        directory_builder.build(s)
    directory = DirectoryService(db, rules=StatusRules("PARTY", 0.1, 0.1, 2))
    assert len(await directory.phones()) == 7, "six people, one with an alternate phone"
    with pytest.raises(NotFound, match="no booth 9 in AC 112"):
        await directory.set_status(112, 9, "strong", "seen it", "me")
    with pytest.raises(Invalid, match="needs a reason"):
        await directory.set_status(112, 1, "weak", "", "me")
    assert await directory.set_status(112, 1, "swing", "close fight", "me") == "swing"
    assert await directory.set_status(112, 1, "auto", "", "") == "strong"
    assert (await directory.coverage()).totals()["booths"] == 2

    instructions = InstructionService(db)
    with pytest.raises(CampaignInvalid, match="no unit 'ac:404'"):
        await instructions.add("Open at 7", unit="ac:404")
    with pytest.raises(Invalid, match="needs some text"):
        await instructions.add(" ", unit="ac:112")
    await instructions.add("Open at 7", unit="ac:112", language="en", by="hq")
    assert [(r["unit"], r["text"], r["by"]) for r in await instructions.list()] == [("ac:112", "Open at 7", "hq")]

    reports = ReportService(db, timezone="Asia/Kolkata", shifts=parse_shifts(DEFAULT_SHIFTS))
    with pytest.raises(ReportError, match="no report 'week'"):
        await reports.build("week")
    with pytest.raises(ReportError, match=r"since \(1900-01-01\) is outside"):
        await reports.build("day", since=date(1900, 1, 1))
    with pytest.raises(ReportError, match="the shift report is not per campaign"):
        await reports.build("shift", campaign="1")
    with pytest.raises(NotFound, match="no campaign 'nope'"):
        await reports.build("ac", campaign="nope")
    with pytest.raises(Invalid, match="unknown time zone 'Mars/Base'"):
        await reports.build("day", timezone="Mars/Base")
    assert (await reports.build("ac")).rows[0][1] == "Bhopal Uttar"


async def test_dashboard_choices_offer_enabled_users_only(db: Database) -> None:
    users = UserService(db)
    await users.add("asha", "operator", "Operator-pass-1")
    await users.add("ravi", "operator", "Operator-pass-2")
    await users.disable("ravi")
    choices = await DashboardService(db, timezone="Asia/Kolkata", target_minutes=60).ticket_choices()
    assert choices["users"] == ["asha"] and "material_shortage" in choices["categories"]


async def test_a_members_preview_needs_the_database() -> None:
    scripts = ScriptService(None, ScriptLibrary(), inbound_info=lambda *_a, **_k: None, party="PARTY")
    assert (await scripts.preview("weak", language="en"))["texts"][0]["text"].startswith("Hello")
    with pytest.raises(Unavailable, match="needs the database"):
        await scripts.preview("weak", member=1)


async def test_the_feeds_hear_the_bus_only_between_start_and_close() -> None:
    bus = EventBus()
    console = ConsoleFeed(bus)
    page = console.stream(1, {"state": "ready"})
    assert (await anext(page)).startswith("event: snapshot")
    bus.publish(ScreenPop(1, "ch-1", {"name": "before start"}))
    console.start().start()  # twice: still one subscription
    bus.publish(ScreenPop(1, "ch-1", {"name": "Farhan"}))
    assert "Farhan" in await anext(page)
    console.close()
    bus.publish(ScreenPop(1, "ch-1", {"name": "after close"}))
    console.send(1, "note", {"n": 1})
    assert (await anext(page)).startswith("event: note"), "nothing from the bus in between"
    await page.aclose()

    async def nothing() -> dict[str, Any]:
        return {}

    async def no_tickets() -> list[dict[str, Any]]:
        return []

    async def no_ticket(_id: int) -> dict[str, Any] | None:
        return None

    dashboard = DashboardFeed(bus, lambda: {"at": utcnow().isoformat()}, nothing, no_tickets, no_ticket,
                              debounce=0.01, every=30).start()
    stream = dashboard.stream()
    assert (await anext(stream))[0] == "snapshot"
    bus.publish(ChannelCreated("c1"))
    assert (await anext(stream))[0] == "live"
    dashboard.close()
    bus.publish(ChannelCreated("c1"))
    with pytest.raises(TimeoutError):  # nothing comes after close (waiting in vain cancels the page's stream)
        await asyncio.wait_for(anext(stream), 0.2)
