"""Several nodes on one database: claims no two nodes can share, the calling rules across nodes, a dead
node's attempts taken over, registration refusals, the events relay and the figures merged."""

from __future__ import annotations

import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from cluster import nodes
from cluster.figures import merge
from cluster.nodes import NodeInfo, NodeRefused
from cluster.relay import decode, encode
from db.campaigns import Attempt, AttemptState, Disposition, Target, TargetState
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from dialer.claims import claim, take_over
from dialer.rules import CallingRules
from dialer.store import AcIndex
from events.types import NodeFigures, ScreenPop, TicketChanged

NOON = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # 12:00 IST
RULES = CallingRules(min_gap=timedelta(minutes=30), max_per_day=2)
_seq = count()


def _ids() -> tuple[str, str]:
    n = f"{next(_seq)}-{uuid.uuid4().hex[:8]}"
    return f"wr-{n}", f"wr-a-{n}"


def _directory(s: Session, people: int, campaigns: int) -> list[int]:
    ac = Unit(key=f"ac:{uuid.uuid4().hex[:6]}", kind=UnitKind.ac, name="AC", number=1)
    s.add(ac)
    s.flush()
    committee = Committee(unit_id=ac.id)
    s.add(committee)
    s.flush()
    base = 9_000_000_000 + next(_seq) * 100  # fresh numbers for every directory built on one database
    for i in range(people):
        p = Person(name=f"p{i}", phone=f"+91{base + i}")
        s.add(p)
        s.flush()
        s.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
    ids = []
    for c in range(campaigns):  # every person is in every campaign: the per-person rules must hold across them
        camp = create_campaign(s, name=f"c{c}-{uuid.uuid4().hex[:6]}", mode="ivr", selection=Selection(),
                               retry=parse_retry([]))
        change_state(s, camp.name, "start")
        ids.append(camp.id)
    return ids


def test_one_claim_takes_what_it_may_and_writes_the_node(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        [cid] = _directory(s, 5, 1)
    with session_factory.begin() as s:
        got = claim(s, cid, NOON, 3, RULES, AcIndex(), "node-a", "lines", set(), _ids)
    assert len(got.launches) == 3 and got.held_back == 0
    with session_factory() as s:
        attempts = s.scalars(select(Attempt)).all()
        assert {a.node for a in attempts} == {"node-a"} and all(a.state is AttemptState.dialing for a in attempts)
        assert sum(t.state is TargetState.dialing for t in s.scalars(select(Target))) == 3


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.integers(1, 6), campaigns=st.integers(1, 3), batch=st.integers(1, 5), rounds=st.integers(1, 4))
def test_two_nodes_racing_never_call_one_phone_twice_nor_break_the_daily_cap(
        db_engine: Engine, people: int, campaigns: int, batch: int, rounds: int) -> None:
    factory = sessionmaker(db_engine, expire_on_commit=False)
    with factory.begin() as s:
        ids = _directory(s, people, campaigns)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def node(name: str) -> None:
        try:
            start.wait()
            for r in range(rounds):
                for cid in ids:
                    with factory.begin() as s:
                        claim(s, cid, NOON + timedelta(hours=r), batch, RULES, AcIndex(), name, "lines", set(),
                              _ids)
                # every call of this round ends (no answer), so the next round may call again
                with factory.begin() as s:
                    for a in s.scalars(select(Attempt).where(Attempt.node == name,
                                                             Attempt.state != AttemptState.ended)):
                        a.state, a.disposition = AttemptState.ended, Disposition.no_answer
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(n,)) for n in ("node-a", "node-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with factory() as s:
        attempts = s.scalars(select(Attempt).order_by(Attempt.created_at, Attempt.id)).all()
    per_person: dict[int | None, list[Attempt]] = {}
    for a in attempts:
        per_person.setdefault(a.person_id, []).append(a)
    for calls in per_person.values():
        assert len(calls) <= RULES.max_per_day, "the daily cap holds across nodes and campaigns"
        starts = sorted(a.created_at for a in calls)
        assert all(b - a >= RULES.min_gap for a, b in zip(starts, starts[1:], strict=False)), "the minimum gap holds"


def test_a_dead_nodes_attempts_are_taken_over_safely(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        [cid] = _directory(s, 3, 1)
        nodes.register(s, NodeInfo("node-a", "host-a"), "p1", NOON, 30, "postgresql")
    with session_factory.begin() as s:
        got = claim(s, cid, NOON, 3, RULES, AcIndex(), "node-a", "lines", set(), _ids)
    answered, ringing = got.launches[0], got.launches[1]
    with session_factory.begin() as s:
        a = s.get(Attempt, answered.attempt_id)
        assert a is not None
        a.state, a.answered_at = AttemptState.answered, NOON + timedelta(seconds=5)
    with session_factory.begin() as s:  # still alive: nothing is taken
        assert take_over(s, NOON + timedelta(seconds=20), 30, 600) == 0
    with session_factory.begin() as s:  # its own heartbeat late: a node asking is alive, never its own heir
        assert take_over(s, NOON + timedelta(seconds=31), 30, 600, alive="node-a") == 0
    with session_factory.begin() as s:  # its lease ran out
        assert take_over(s, NOON + timedelta(seconds=31), 30, 600, alive="node-b") == 3
    with session_factory() as s:
        done = {a.id: a for a in s.scalars(select(Attempt))}
        assert done[answered.attempt_id].disposition is Disposition.answered, "an answered call is never redialed"
        assert done[ringing.attempt_id].disposition is Disposition.failed
        target = s.get(Target, ringing.target_id)
        assert target is not None and target.state is TargetState.queued
        assert target.next_at is not None and target.next_at >= NOON + timedelta(seconds=600), \
            "not before the dead node's Asterisk has surely dropped the call"
        answered_target = s.get(Target, answered.target_id)
        assert answered_target is not None and answered_target.state is TargetState.done


def test_registration_refusals(session_factory: sessionmaker[Session]) -> None:
    a = NodeInfo("node-a", "box1", sip_port=5060, rtp=(10000, 10999), trunks=[{"name": "lines", "lines": 10}])
    with session_factory.begin() as s:
        nodes.register(s, a, "proc-1", NOON, 30, "postgresql")
    with pytest.raises(NodeRefused, match="already running on box1"), session_factory.begin() as s:
        nodes.register(s, a, "proc-2", NOON + timedelta(seconds=5), 30, "postgresql")
    with pytest.raises(NodeRefused, match="SIP port 5060"), session_factory.begin() as s:
        nodes.register(s, NodeInfo("node-b", "box1", sip_port=5060, rtp=(20000, 20999)), "p", NOON, 30, "postgresql")
    with pytest.raises(NodeRefused, match="RTP ports 10500-11500 overlap"), session_factory.begin() as s:
        nodes.register(s, NodeInfo("node-b", "box1", sip_port=5062, rtp=(10500, 11500)), "p", NOON, 30, "postgresql")
    with pytest.raises(NodeRefused, match="several nodes need PostgreSQL"), session_factory.begin() as s:
        nodes.register(s, NodeInfo("node-b", "box2", sip_port=5060), "p", NOON, 30, "sqlite")
    with session_factory.begin() as s:  # another host, other ports: welcome; the same name after its lease too
        nodes.register(s, NodeInfo("node-b", "box2", sip_port=5060, rtp=(10000, 10999)), "p", NOON, 30, "postgresql")
        nodes.register(s, a, "proc-3", NOON + timedelta(seconds=31), 30, "postgresql")
    with session_factory() as s:
        listed = {n["name"]: n for n in nodes.nodes(s, NOON + timedelta(seconds=32), 30)}
        assert listed["node-a"]["state"] == "alive" and listed["node-a"]["lines"] == 10
        assert listed["node-b"]["state"] == "lost"


def test_events_cross_the_relay_as_they_were() -> None:
    for event in (TicketChanged(7, "opened"), NodeFigures("node-b", {"lines": {"lines": {"in_use": 3}}}),
                  ScreenPop(4, "ch-1", {"name": "Asha", "script": ["नमस्ते " * 40] * 30})):
        payload = encode("node-a", event)
        assert len(payload.encode()) < 8000
        assert decode(payload) == ("node-a", event)
    assert decode('{"n": "x", "t": "Nope", "f": {}}') is None
    with pytest.raises(ValueError, match="too large"):
        encode("node-a", ScreenPop(1, "c", {"blob": secrets.token_hex(6000)}))


def test_figures_of_several_nodes_add_up() -> None:
    a = {"lines": {"lines": {"lines": 10, "in_use": 4}}, "dialing": 1, "ringing": 2, "answered": 1, "ended": 10,
         "dispositions": {"answered": 6, "busy": 4}, "queue": {"waiting": 1, "longest_wait": 3.0, "calls": [1]},
         "links": {"ami": True, "ari": True}, "progressive": {"answered": 2, "connected": 2, "abandoned": 0}}
    b = {**a, "lines": {"lines": {"lines": 10, "in_use": 7}}, "ended": 10, "dispositions": {"answered": 2},
         "queue": {"waiting": 2, "longest_wait": 9.0, "calls": []}, "links": {"ami": False, "ari": True},
         "progressive": {"answered": 2, "connected": 1, "abandoned": 1}}
    assert merge("node-a", a, {}) is a, "a node alone shows its own figures as they are"
    got = merge("node-a", a, {"node-b": b})
    assert got["lines"] == {"node-a/lines": {"lines": 10, "in_use": 4}, "node-b/lines": {"lines": 10, "in_use": 7}}
    assert (got["dialing"], got["ringing"], got["ended"], got["answer_rate"]) == (2, 4, 20, 0.4)
    assert got["queue"]["waiting"] == 3 and got["queue"]["longest_wait"] == 9.0
    assert got["links"]["node-b/ami"] is False and got["nodes"] == ["node-a", "node-b"]
    assert got["progressive"] == {"answered": 4, "connected": 3, "abandoned": 1, "abandon_rate": 0.25}


def test_each_schema_of_a_database_has_its_own_relay_channel() -> None:
    from cluster.relay import CHANNEL, channel_for

    assert channel_for("postgresql://h/db") == CHANNEL
    one, two = (channel_for(f"postgresql://h/db?options=-csearch_path%3D{s}&application_name=x")
                for s in ("A_1", "b_2"))
    assert (one, two) == (f"{CHANNEL}_a_1", f"{CHANNEL}_b_2")


async def test_the_relay_carries_events_between_processes_through_postgresql() -> None:
    from cluster.relay import EventRelay
    from events.bus import EventBus
    from tests.conftest import PG_URL
    from tests.waiting import until

    url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    bus_a, bus_b = EventBus(), EventBus()
    channel = f"warroom_test_{uuid.uuid4().hex[:12]}"  # other test runs may share the database
    a, b = EventRelay(url, "node-a", bus_a, channel=channel), EventRelay(url, "node-b", bus_b, channel=channel)
    got_a: list[object] = []
    got_b: list[object] = []
    bus_a.subscribe(TicketChanged, got_a.append)
    bus_b.subscribe(TicketChanged, got_b.append)
    await a.start()
    await b.start()
    try:
        await until(lambda: a.up and b.up, 10, "both relays listening")
        bus_a.publish(TicketChanged(41, "opened"))
        await until(lambda: got_b, 5, "node-b to hear node-a's event")
        [heard] = got_b
        assert isinstance(heard, TicketChanged) and (heard.ticket_id, heard.what) == (41, "opened")
        assert got_a == [got_b[0]], "node-a heard only its own event, not an echo"
        assert b.received == 1 and a.received == 0
    finally:
        await a.stop()
        await b.stop()


async def test_a_web_only_process_needs_no_asterisk_and_shows_the_nodes_figures(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tests.conftest import PG_URL, pg_schema
    from tests.waiting import until
    from warroom.compose import build_service
    from warroom.settings import AsteriskSettings, ClusterSettings, Settings, with_secrets

    with pg_schema("web") as schema:
        settings = with_secrets(Settings(
            state_dir=tmp_path, database_url=f"{PG_URL}?options=-csearch_path%3D{schema}",
            asterisk=AsteriskSettings(node="web1", ami_port=1, http_port=1),  # nothing listens there: unused
            cluster=ClusterSettings(web_only=True, lease_seconds=6, heartbeat_seconds=1)))
        service = build_service(settings)
        await service.start()
        try:
            assert not service.ami.up and service.dialer.book.calls == {}
            assert set(await service.health()) == {"db"}
            service.bus.publish(NodeFigures("node-a", {"lines": {"lines": {"lines": 10, "in_use": 6}},
                                                       "ended": 4, "dispositions": {"answered": 2}}))
            figures = service.live_figures()
            assert figures["lines"] == {"node-a/lines": {"lines": 10, "in_use": 6}} and figures["answer_rate"] == 0.5
            listed = await service.registry.list()
            assert [(n["name"], n["web_only"], n["state"]) for n in listed] == [("web1", True, "alive")]
            with TestClient(service.app) as client:
                body = client.get("/healthz").json()
                assert body["status"] == "ok" and set(body["components"]) == {"db"}
            await until(lambda: service.relay is not None and service.relay.up, 10, "the relay listening")
        finally:
            await service.stop()
