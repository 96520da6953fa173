"""Two nodes, two services, one PostgreSQL: a campaign spread over both finishes with every target in one
terminal state; a node's service killed (-9), or its Asterisk stopped, mid-campaign leaves no phone dialed
twice at once and the campaign finishes on the other node; a hotline caller on one node reaches an operator
whose softphone is registered to the other."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user
from db.campaigns import Attempt, AttemptState, Campaign, Target, TargetState
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory, pg_schema
from tests.integration.cluster_harness import (
    daytime_zone,
    migrated,
    node2,
    node_settings,
    overlapping_calls,
    pg_url,
    spawn_node,
    start_node,
)
from tests.integration.dashboard_app import serve_dashboard
from tests.integration.dialer_harness import stop_harness
from tests.integration.test_console_browser import CHROMIUM, FLAGS
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
__all__ = ["node2"]  # the fixture, used by name
# every value each lines tile on the dashboard takes, as it changes (by tile)
SEEN = """() => {
  window.__seen = {};
  new MutationObserver(() => {
    for (const tile of document.querySelectorAll('[data-testid^=lines-]')) {
      const key = tile.dataset.testid, value = Number(tile.dataset.inUse);
      (window.__seen[key] = window.__seen[key] || []).push(value);
    }
  }).observe(document.getElementById('lines'), {childList: true, subtree: true});
}"""
RETRY = parse_retry(["no_answer=2/1s", "busy=2/1s", "congestion=2/1s", "failed=2/1s"])


def _people(sessions: sessionmaker[Session], count: int) -> dict[str, int]:
    with sessions.begin() as s:
        ac = Unit(key="ac:7", kind=UnitKind.ac, name="AC 7", number=7)
        s.add(ac)
        s.flush()
        committee = Committee(unit_id=ac.id)
        s.add(committee)
        s.flush()
        out = {}
        for i in range(count):
            phone = f"+9191{i:08d}"
            p = Person(name=f"member {i}", phone=phone)
            s.add(p)
            s.flush()
            s.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
            out[phone] = p.id
        return out


def _campaign(sessions: sessionmaker[Session], name: str) -> int:
    with sessions.begin() as s:
        c = create_campaign(s, name=name, mode="ivr", selection=Selection(), retry=RETRY, use_alternate=False,
                            rules={"timezone": daytime_zone()})
        change_state(s, name, "start")
        return c.id


def _state(sessions: sessionmaker[Session], cid: int) -> str:
    with sessions() as s:
        c = s.get(Campaign, cid)
        return c.state.value if c else "missing"


def _finished_cleanly(sessions: sessionmaker[Session], cid: int) -> list[Attempt]:
    with sessions() as s:
        attempts = list(s.scalars(select(Attempt).where(Attempt.campaign_id == cid)))
        targets = list(s.scalars(select(Target).where(Target.campaign_id == cid)))
    assert all(a.state is AttemptState.ended and a.disposition is not None for a in attempts)
    assert all(t.state in (TargetState.done, TargetState.removed) for t in targets), \
        [(t.id, t.state) for t in targets]
    return attempts


async def test_a_campaign_spreads_over_both_nodes(sandbox: Sandbox, settings: Settings, node2: tuple[Settings, Sandbox],
                                                  tmp_path: Path, phone_farm: FarmFactory) -> None:
    settings2, box2 = node2
    n1, n2 = settings.asterisk.node, settings2.asterisk.node
    with pg_schema("cl") as schema:
        url = pg_url(schema)
        sessions = migrated(url)
        phones = _people(sessions, 24)
        mix = {p: Behaviour("answer", hold_ms=2500) if i % 4 else Behaviour("busy") for i, p in enumerate(phones)}
        phone_farm(mix)  # node test's farm...
        from sandbox.phonefarm import PhoneFarm

        farm2 = PhoneFarm(mix, port=settings2.asterisk.farm_port, media_port=26000, workdir=tmp_path / "farm2")
        farm2.start()  # ...and node 2's: either node may dial any number
        a = await start_node(node_settings(settings, tmp_path / "a", url))
        b = await start_node(node_settings(settings2, tmp_path / "b", url))
        base, stop_web = await serve_dashboard(a)  # node test's own web app: it shows both nodes' lines
        try:
            with sessions.begin() as s:
                add_user(s, "sup", "supervisor", "Supervisor-pass-1")
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = await browser.new_page()
                await page.goto(f"{base}/dashboard")
                await page.fill("#username", "sup")
                await page.fill("#password", "Supervisor-pass-1")
                await page.click("button[type=submit]")
                await page.wait_for_url(f"{base}/dashboard")
                await page.evaluate(SEEN)  # every value each node's lines tile takes, as it changes
                cid = _campaign(sessions, "spread")
                a.dialer.wake()
                b.dialer.wake()
                await until(lambda: _state(sessions, cid) == "completed", 120, "the campaign to finish")
                seen = await page.evaluate("window.__seen")
                await expect(page.get_by_test_id(f"node-{n2}")).to_have_attribute("data-state", "alive")
                await browser.close()
            assert max(seen.get(f"lines-{n1}/lines", [0])) > 0 and max(seen.get(f"lines-{n2}/lines", [0])) > 0, \
                f"both nodes' lines went busy on the screen: {seen}"
            attempts = _finished_cleanly(sessions, cid)
            by_node = {n: sum(x.node == n for x in attempts) for n in (n1, n2)}
            assert by_node[n1] > 0 and by_node[n2] > 0, by_node
            assert overlapping_calls(sessions, [sandbox, box2]) == []
            figures = a.service.live_figures()
            assert set(figures.get("nodes", [])) == {n1, n2}, "each node sees the other's lines"
        finally:
            await stop_web()
            await stop_harness(b)
            await stop_harness(a)
            farm2.stop()
            sessions.kw["bind"].dispose()


def _open_on(sessions: sessionmaker[Session], node: str) -> int:
    with sessions() as s:
        return len(s.scalars(select(Attempt.id).where(Attempt.node == node, Attempt.state != AttemptState.ended)).all())


def _no_answered_call_dialed_again(attempts: list[Attempt]) -> None:
    for a in attempts:
        if a.answered_at is not None and a.disposition is not None and a.disposition.value == "answered":
            later = [x for x in attempts if x.person_id == a.person_id and x.created_at > a.created_at]
            assert later == [], f"person {a.person_id} answered ({a.channel_id}) and was dialed again"


async def test_one_nodes_service_killed_mid_campaign(sandbox: Sandbox, settings: Settings,
                                                     node2: tuple[Settings, Sandbox], tmp_path: Path,
                                                     phone_farm: FarmFactory) -> None:
    settings2, box2 = node2
    n1, n2 = settings.asterisk.node, settings2.asterisk.node
    with pg_schema("kill") as schema:
        url = pg_url(schema)
        sessions = migrated(url)
        phones = _people(sessions, 20)
        mix = {p: Behaviour("answer", hold_ms=6000) if i % 3 else Behaviour("noanswer") for i, p in enumerate(phones)}
        phone_farm(mix)
        from sandbox.phonefarm import PhoneFarm

        farm2 = PhoneFarm(mix, port=settings2.asterisk.farm_port, media_port=26000, workdir=tmp_path / "farm2")
        farm2.start()
        child = spawn_node(node_settings(settings2, tmp_path / "b", url), tmp_path / "node2.log")
        a = await start_node(node_settings(settings, tmp_path / "a", url))
        try:
            cid = _campaign(sessions, "kill")
            await until(lambda: _open_on(sessions, n2) >= 2, 60, f"node {n2} with calls in flight",
                        every=0.1)
            os.kill(child.pid, signal.SIGKILL)  # no goodbye: its lease must run out
            child.wait(10)
            await until(lambda: _state(sessions, cid) == "completed", 240, "the campaign to finish on node test")
            attempts = _finished_cleanly(sessions, cid)
            assert any(x.node == n2 for x in attempts) and any(x.node == n1 for x in attempts)
            assert any("lease ran out" in (x.detail or "") for x in attempts if x.node == n2)
            assert overlapping_calls(sessions, [sandbox, box2]) == [], "no phone dialed twice at once"
            _no_answered_call_dialed_again(attempts)
        finally:
            if child.poll() is None:
                child.kill()
            await stop_harness(a)
            farm2.stop()
            sessions.kw["bind"].dispose()


async def test_one_nodes_asterisk_stopped_mid_campaign(sandbox: Sandbox, settings: Settings,
                                                       node2: tuple[Settings, Sandbox], tmp_path: Path,
                                                       phone_farm: FarmFactory) -> None:
    settings2, box2 = node2
    n2 = settings2.asterisk.node
    with pg_schema("stop") as schema:
        url = pg_url(schema)
        sessions = migrated(url)
        phones = _people(sessions, 20)
        mix = {p: Behaviour("answer", hold_ms=5000) if i % 3 else Behaviour("noanswer") for i, p in enumerate(phones)}
        phone_farm(mix)
        from sandbox.phonefarm import PhoneFarm

        farm2 = PhoneFarm(mix, port=settings2.asterisk.farm_port, media_port=26000, workdir=tmp_path / "farm2")
        farm2.start()
        a = await start_node(node_settings(settings, tmp_path / "a", url))
        b = await start_node(node_settings(settings2, tmp_path / "b", url))
        try:
            cid = _campaign(sessions, "stop")
            await until(lambda: _open_on(sessions, n2) >= 2, 60, f"node {n2} with calls in flight",
                        every=0.1)
            await asyncio.to_thread(box2.down)  # its Asterisk goes, and its calls with it
            await until(lambda: _state(sessions, cid) == "completed", 240, "the campaign to finish on node test")
            attempts = _finished_cleanly(sessions, cid)
            assert overlapping_calls(sessions, [sandbox, box2]) == [], "no phone dialed twice at once"
            _no_answered_call_dialed_again(attempts)
            assert not b.ami.up
        finally:
            await stop_harness(b)
            await stop_harness(a)
            farm2.stop()
            sessions.kw["bind"].dispose()


async def test_a_hotline_caller_on_one_node_reaches_an_operator_on_the_other(
        sandbox: Sandbox, settings: Settings, node2: tuple[Settings, Sandbox], tmp_path: Path,
        phone_farm: FarmFactory) -> None:
    import uuid

    from accounts.service import add_user
    from cluster import nodes
    from db.models import utcnow
    from db.operators import OperatorState
    from events.types import OperatorCall
    from operators.states import change
    from sandbox.caller import call_in
    from sandbox.phonefarm import PhoneFarm
    from sandbox.softphone import register
    from tests.integration.ivr_harness import booth_directory

    settings2, box2 = node2
    with pg_schema("hot") as schema:
        url = pg_url(schema)
        sessions = migrated(url)
        booth_directory(sessions)
        name = f"op{uuid.uuid4().hex[:6]}"
        with sessions.begin() as s:
            user = add_user(s, name, "operator", "Operator-pass-1", "Asha Devi")
            user.home_node = settings2.asterisk.node
            user_id, endpoint, secret = user.id, user.sip_username, user.sip_secret
        a = await start_node(node_settings(settings, tmp_path / "a", url), ivr=True)
        b = await start_node(node_settings(settings2, tmp_path / "b", url))
        farm2 = None
        events: list[OperatorCall] = []
        a.bus.subscribe(OperatorCall, events.append)
        try:
            assert await b.softphones.sync() or True  # node 2 renders the operator homed there
            await until(lambda: b.service.peers.peers and a.service.peers.peers, 30, "the trunks between the nodes")
            port2 = settings2.asterisk.farm_port
            assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings2.asterisk.sip_port,
                                           workdir=tmp_path / "softphone", local_port=port2) == "registered"
            farm2 = PhoneFarm({endpoint: Behaviour("answer", hold_ms=8000)}, port=port2, media_port=26000,
                              workdir=tmp_path / "farm2")
            farm2.start()

            def registered_on_node2() -> bool:
                with sessions() as s:
                    return nodes.registered_on(s, settings2.asterisk.node, endpoint, utcnow(), 30)

            await until(registered_on_node2, 20, "node 2 to say the softphone is registered to it")
            with sessions.begin() as s:
                change(s, user_id, OperatorState.ready, registered=True)
            caller = asyncio.create_task(asyncio.to_thread(
                call_in, "09826012345", service="07552551234", sip_port=settings.asterisk.sip_port,
                workdir=tmp_path / "caller", digits="0", delay_ms=1500, hold_ms=30_000))
            await until(lambda: any(e.what == "connected" for e in events), 40,
                        "the caller on node 1 bridged to the operator on node 2", caller)
            result = await caller
            assert result.exit_code == 0, result.events
        finally:
            await stop_harness(b)
            await stop_harness(a)
            if farm2 is not None:
                farm2.stop()
            sessions.kw["bind"].dispose()
