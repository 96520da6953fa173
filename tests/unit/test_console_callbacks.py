"""Call-back tasks on the operator console: the list (the person, the masked number, the campaign, when the
call was abandoned and why), taking one (one operator only; the number shown to them alone, audited), giving
it back, closing it with an outcome written back like a disposition, and every console hearing of a change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user
from core.errors import Conflict
from db.audit import AuditEntry
from db.callbacks import CallbackState, CallbackTask
from db.campaigns import Attempt, AttemptState, Campaign, CampaignMode, Target, TargetState
from db.engine import Database
from db.models import Person, utcnow
from db.operators import CallDisposition
from events.types import CallbackTaskChanged
from operators import callbacks
from tests.unit import test_console
from tests.unit.test_console import signed_in
from web.console_feed import ConsoleFeed

PHONE = "+919826012345"
world = test_console.world  # the console's fixture: two operators, a person, the app


def _abandoned(sessions: sessionmaker[Session], person_id: int, n: int = 1) -> list[int]:
    """``n`` abandoned calls of one operator campaign to the person, each with its call-back task."""
    ids = []
    with sessions.begin() as s:
        campaign = Campaign(name="booth calls", mode=CampaignMode.operator)
        s.add(campaign)
        s.flush()
        target = Target(campaign_id=campaign.id, person_id=person_id, state=TargetState.done)
        s.add(target)
        s.flush()
        for i in range(n):
            attempt = Attempt(channel_id=f"ab-{i}", action_id=f"ab-a-{i}", campaign_id=campaign.id,
                              target_id=target.id, person_id=person_id, phone=PHONE, trunk="lines",
                              state=AttemptState.ended, result="abandoned")
            s.add(attempt)
            s.flush()
            task = callbacks.open_task(s, attempt.id, "no operator within 2 s")
            assert task is not None and callbacks.open_task(s, attempt.id, "again") == task  # one per attempt
            ids.append(task)
    return ids


def test_the_console_lists_tasks_with_the_number_masked_and_one_operator_takes_each(world: dict[str, Any]) -> None:
    sessions: sessionmaker[Session] = world["sessions"]
    first, second = _abandoned(sessions, world["person"], 2)
    asha, csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    ravi, ravi_csrf = signed_in(world["app"], "ravi", "Operator-pass-2")
    page = asha.get("/console").text
    assert 'data-testid="callbacks"' in page and "Call-back tasks" in page
    listed = asha.get("/console/callbacks").json()
    assert [t["id"] for t in listed] == [first, second]
    row = listed[0]
    assert (row["person"], row["campaign"], row["reason"], row["state"], row["mine"]) == \
        ("Farhan", "booth calls", "no operator within 2 s", "open", False)
    assert row["phone"] == "XXXXXX2345" and row["abandoned_at"]
    h, hr = {"X-CSRF-Token": csrf}, {"X-CSRF-Token": ravi_csrf}
    taken = asha.post(f"/console/callbacks/{first}/take", json={}, headers=h)
    assert taken.status_code == 200 and taken.json()["state"] == "taken"
    assert asha.post(f"/console/callbacks/{first}/take", json={}, headers=h).status_code == 200  # again: a no-op
    late = ravi.post(f"/console/callbacks/{first}/take", json={}, headers=hr)
    assert late.status_code == 409 and "taken already by asha" in late.text
    assert ravi.post(f"/console/callbacks/{first}/close", json={"outcome": "reached"}, headers=hr).status_code == 409
    assert ravi.post(f"/console/callbacks/{first}/release", json={}, headers=hr).status_code == 409
    mine = asha.get("/console/callbacks").json()
    assert [(t["id"], t["mine"], t["phone"]) for t in mine] == [(first, True, PHONE), (second, False, "XXXXXX2345")]
    theirs = ravi.get("/console/callbacks").json()
    assert [t["id"] for t in theirs] == [second]  # another's task is not listed to the others
    # the API shows operators a number only on their own task; supervisors see all
    api = {t["id"]: t["phone"] for t in ravi.get("/api/callbacks?state=taken").json()}
    assert api == {first: "XXXXXX2345"}
    assert {t["id"]: t["phone"] for t in asha.get("/api/callbacks?state=taken").json()} == {first: PHONE}
    # given back, it is open to everyone again
    back = asha.post(f"/console/callbacks/{first}/release", json={}, headers=h)
    assert back.status_code == 200 and back.json()["state"] == "open" and back.json()["done_by"] is None
    assert ravi.post(f"/console/callbacks/{first}/take", json={}, headers=hr).status_code == 200
    assert asha.post(f"/api/callbacks/{first}/done", json={}, headers=h).status_code == 409  # ravi's now
    assert asha.post("/console/callbacks/999/take", json={}, headers=h).status_code == 404
    with sessions() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.target == f"callback:{first}")
                            .order_by(AuditEntry.id)).all()
    assert actions == ["callback.take", "callback.take", "callback.release", "callback.take"]


def test_closing_a_task_records_the_outcome_and_writes_it_back(world: dict[str, Any]) -> None:
    sessions: sessionmaker[Session] = world["sessions"]
    reached, no_answer, later = _abandoned(sessions, world["person"], 3)
    asha, csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    h = {"X-CSRF-Token": csrf}
    bad = asha.post(f"/console/callbacks/{reached}/close", json={"outcome": "maybe"}, headers=h)
    assert bad.status_code == 422
    # closing an open task takes it at once
    done = asha.post(f"/console/callbacks/{reached}/close", json={"outcome": "reached", "notes": "spoke"}, headers=h)
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["done_by"], done.json()["notes"]) == ("done", "asha", "spoke")
    again = asha.post(f"/console/callbacks/{reached}/close", json={"outcome": "reached"}, headers=h)
    assert again.status_code == 409 and "closed already by asha" in again.text
    assert asha.post(f"/console/callbacks/{no_answer}/take", json={}, headers=h).status_code == 200
    failed = asha.post(f"/console/callbacks/{no_answer}/close", json={"outcome": "no_answer"}, headers=h)
    assert failed.status_code == 200 and failed.json()["state"] == "failed"
    past = asha.post(f"/console/callbacks/{later}/close", json={"outcome": "call_back"}, headers=h)
    assert past.status_code == 422 and "needs a time in the future" in past.text
    when = utcnow() + timedelta(hours=3)
    requeued = asha.post(f"/console/callbacks/{later}/close",
                         json={"outcome": "call_back", "callback_at": when.isoformat()}, headers=h)
    assert requeued.status_code == 200 and requeued.json()["state"] == "done"
    assert asha.get("/console/callbacks").json() == []
    with sessions() as s:
        states = {t.id: t.state for t in s.scalars(select(CallbackTask))}
        assert states == {reached: CallbackState.done, no_answer: CallbackState.failed, later: CallbackState.done}
        dispositions = s.scalars(select(CallDisposition).order_by(CallDisposition.id)).all()
        # no answer records no disposition; the others on the abandoned call's channel, by asha
        assert [(d.disposition.value, d.channel_id, d.user_id) for d in dispositions] == \
            [("reached", "ab-0", world["asha"]), ("call_back", "ab-2", world["asha"])]
        person = s.get(Person, world["person"])
        assert person is not None and person.verified_at is not None  # reached: the contact is verified
        target = s.scalars(select(Target)).one()
        assert target.state is TargetState.queued and target.next_at == when  # the dialer calls at that time
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("callback.%"))
                            .order_by(AuditEntry.id)).all()
    assert actions == ["callback.done", "callback.take", "callback.failed", "callback.done"]


async def test_every_console_hears_that_the_tasks_changed(world: dict[str, Any]) -> None:
    hub: ConsoleFeed = world["hub"]
    mine = hub.stream(world["asha"], {"state": "ready"})
    theirs = hub.stream(world["ravi"], {"state": "paused"})
    assert (await anext(mine)).startswith("event: snapshot")
    assert (await anext(theirs)).startswith("event: snapshot")
    world["bus"].publish(CallbackTaskChanged(7, "open"))
    for stream in (mine, theirs):
        got = await anext(stream)
        assert got.startswith("event: callbacks") and '"task_id": 7' in got
    await mine.aclose()
    await theirs.aclose()


def test_hindi_console_shows_the_call_back_card_in_hindi(world: dict[str, Any]) -> None:
    asha, _csrf = signed_in(world["app"], "asha", "Operator-pass-1")
    asha.cookies.set("warroom_lang", "hi")
    page = asha.get("/console").text
    assert "वापस कॉल करने के काम" in page and "किसी ने नहीं उठाया" in page


def test_take_list_and_close_on_both_databases(database: Database) -> None:
    """The console's queries (the list's order, the conditional take) on SQLite and PostgreSQL."""
    with database.sessions.begin() as s:
        asha = add_user(s, "asha", "operator", "Operator-pass-1", "Asha Devi").id
        add_user(s, "ravi", "operator", "Operator-pass-2", "Ravi")
        person = Person(name="Farhan", phone=PHONE)
        s.add(person)
        s.flush()
        person_id = person.id
    first, second = _abandoned(database.sessions, person_id, 2)
    with database.sessions.begin() as s:
        callbacks.take(s, second, "asha")
    with database.sessions.begin() as s, pytest.raises(Conflict, match="taken already by asha"):
        callbacks.take(s, second, "ravi")
    with database.sessions() as s:
        mine = callbacks.for_operator(s, "asha")
        theirs = callbacks.for_operator(s, "ravi")
    assert [(t["id"], t["mine"], t["phone"]) for t in mine] == [(second, True, PHONE), (first, False, "XXXXXX2345")]
    assert [t["id"] for t in theirs] == [first]
    with database.sessions.begin() as s:
        row = callbacks.close(s, second, user_id=asha, username="asha", outcome="not_available")
    assert row["state"] == "failed"
    with database.sessions() as s:
        assert [t["id"] for t in callbacks.for_operator(s, "asha")] == [first]
