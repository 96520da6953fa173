"""Two nodes, two services, one PostgreSQL: a campaign spread over both finishes with every target in one
terminal state; a node's service killed (-9), or its Asterisk stopped, mid-campaign leaves no phone dialed
twice at once and the campaign finishes on the other node; a hotline caller on one node reaches an operator
whose softphone is registered to the other."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

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
    start_node,
)
from tests.integration.dialer_harness import stop_harness
from tests.waiting import until
from warroom.settings import Settings

pytestmark = pytest.mark.integration
__all__ = ["node2"]  # the fixture, used by name
RETRY = parse_retry(["no_answer=2/1s", "busy=2/1s", "congestion=2/1s", "failed=2/1s"])


def _people(sessions, count: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
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


def _campaign(sessions, name: str) -> int:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        c = create_campaign(s, name=name, mode="ivr", selection=Selection(), retry=RETRY, use_alternate=False,
                            rules={"timezone": daytime_zone()})
        change_state(s, name, "start")
        return c.id


def _state(sessions, cid: int) -> str:  # type: ignore[no-untyped-def]
    with sessions() as s:
        c = s.get(Campaign, cid)
        return c.state.value if c else "missing"


def _finished_cleanly(sessions, cid: int) -> list[Attempt]:  # type: ignore[no-untyped-def]
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
    with pg_schema("cl") as schema:
        url = pg_url(schema)
        sessions = migrated(url)
        phones = _people(sessions, 24)
        mix = {p: Behaviour("answer", hold_ms=2500) if i % 4 else Behaviour("busy") for i, p in enumerate(phones)}
        phone_farm(mix)  # node test's farm...
        from sandbox.phonefarm import PhoneFarm

        farm2 = PhoneFarm(mix, port=settings2.asterisk.farm_port, media_port=26000, workdir=tmp_path / "farm2")
        farm2.start()  # ...and node test2's: either node may dial any number
        a = await start_node(node_settings(settings, tmp_path / "a", url))
        b = await start_node(node_settings(settings2, tmp_path / "b", url))
        try:
            cid = _campaign(sessions, "spread")
            a.dialer.wake()
            b.dialer.wake()
            await until(lambda: _state(sessions, cid) == "completed", 120, "the campaign to finish")
            attempts = _finished_cleanly(sessions, cid)
            by_node = {n: sum(x.node == n for x in attempts) for n in ("test", "test2")}
            assert by_node["test"] > 0 and by_node["test2"] > 0, by_node
            assert overlapping_calls(sessions, [sandbox, box2]) == []
            figures = a.service.live_figures()
            assert set(figures.get("nodes", [])) == {"test", "test2"}, "each node sees the other's lines"
        finally:
            await stop_harness(b)
            await stop_harness(a)
            farm2.stop()
            sessions.kw["bind"].dispose()
