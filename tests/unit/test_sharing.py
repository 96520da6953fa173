"""Operator campaigns running at once share the lines and the operators (dialer/sharing.py): properties of the
pure logic (never more calls than lines or than the operators allow, the shares sum to what there is, each
campaign with targets gets a fair part), then the dialer's pass with a fake AMI: two campaigns each get half,
and one without targets leaves everything to the other."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.campaigns import Attempt
from db.engine import Database
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign
from dialer.controller import Dialer, DialerConfig
from dialer.lines import Trunk
from dialer.rules import CallingRules
from dialer.sharing import Claim, apportion, share_lines, share_operator_room, water_fill
from events.bus import EventBus
from tests.fake_ami import FakeAmi
from tests.unit.test_dialer_unit import NOON_IST
from tests.waiting import until

counts = st.lists(st.integers(0, 40), min_size=1, max_size=8)


def fair(shares: Sequence[int], holding: Sequence[int], demand: Sequence[int | None]) -> bool:
    """Water-filling (equal weights): a campaign given anything holds at most one more than any campaign
    whose demand is not met."""
    after = [h + s for h, s in zip(holding, shares, strict=True)]
    unmet = [d is None or s < d for s, d in zip(shares, demand, strict=True)]
    return all(after[i] <= after[j] + 1 for i, s in enumerate(shares) if s for j in range(len(shares)) if unmet[j])


@given(st.integers(0, 200), counts, st.data())
def test_water_fill_hands_out_what_there_is_fairly(total: int, holding: list[int], data: st.DataObject) -> None:
    demand = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 60)), min_size=len(holding),
                                max_size=len(holding)))
    given_ = water_fill(total, [Claim(i, h, d) for i, (h, d) in enumerate(zip(holding, demand, strict=True))])
    shares = [given_[i] for i in range(len(holding))]
    assert all(s >= 0 for s in shares)
    assert all(d is None or s <= d for s, d in zip(shares, demand, strict=True))
    wanted = math.inf if any(d is None for d in demand) else sum(d or 0 for d in demand)
    assert sum(shares) == min(total, wanted)  # the shares sum to the total (or to all that is wanted)
    assert fair(shares, holding, demand)


@given(st.integers(0, 500), st.lists(st.integers(1, 5).map(float), min_size=1, max_size=8))
def test_apportion_sums_to_the_total_and_gives_each_its_quota(total: int, weights: list[float]) -> None:
    parts = apportion(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    assert all(p >= math.floor(total * w / whole + 1e-9) for p, w in zip(parts, weights, strict=True))
    even = apportion(total, [1.0] * len(weights))
    assert max(even) - min(even) <= 1 and even == sorted(even, reverse=True)  # the earlier get the odd one


@given(st.integers(0, 120), counts)
def test_lines_never_more_than_free_and_all_handed_out(free: int, holding: list[int]) -> None:
    shares = share_lines(free, holding)
    assert sum(shares) == free and all(s >= 0 for s in shares)
    assert fair(shares, holding, [None] * len(holding))
    if not any(holding):  # nobody holds a line yet: an even split, the earlier ones first
        assert shares == apportion(free, [1.0] * len(holding))


@given(st.integers(-3, 80), counts, st.data())
def test_operator_room_never_exceeded_and_each_progressive_campaign_gets_its_part(
        room: int, ringing: list[int], data: st.DataObject) -> None:
    progressive = data.draw(st.lists(st.booleans(), min_size=len(ringing), max_size=len(ringing)))
    elsewhere = data.draw(st.integers(0, 10))
    shares = share_operator_room(room, ringing, progressive, elsewhere=elsewhere)
    assert all(s >= 0 for s in shares)
    # never more new calls than the operators allow, all campaigns' ringing calls counted
    assert sum(shares) <= max(0, room - sum(ringing) - elsewhere)
    parts = apportion(max(0, room), [1.0] * len(ringing))
    for s, part, r, p in zip(shares, parts, ringing, progressive, strict=True):
        assert s <= max(0, part - r) and (p or s == 0)  # a campaign's calls stay within its part
    # what the room allows is used, up to each campaign's part: nothing is left idle that one could take
    wanted = sum(max(0, part - r) for part, r, p in zip(parts, ringing, progressive, strict=True) if p)
    assert sum(shares) == min(wanted, max(0, room - sum(ringing) - elsewhere))


@settings(max_examples=200)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(1, 6))
def test_a_pass_of_fresh_campaigns_splits_lines_and_operators_evenly(lines: int, room: int, n: int) -> None:
    """Campaigns with nothing out yet: each gets an even part of both, never more calls than lines or room."""
    line_parts = share_lines(lines, [0] * n)
    op_parts = share_operator_room(room, [0] * n)
    calls = [min(a, b) for a, b in zip(line_parts, op_parts, strict=True)]
    assert sum(calls) <= min(lines, room)
    assert max(calls) - min(calls) <= 1
    assert sum(line_parts) == lines and sum(op_parts) == room


# -- the dialer's pass, with a fake AMI -------------------------------------------------------------------

def _areas(session: Session, sizes: Sequence[int]) -> list[int]:
    """An AC per size with that many booth members; returns the ACs' unit ids."""
    acs = []
    for a, per_area in enumerate(sizes, start=1):
        ac = Unit(key=f"ac:{a}", kind=UnitKind.ac, name=f"AC{a}", number=a)
        session.add(ac)
        session.flush()
        booth = Unit(key=f"booth:{a}:1", kind=UnitKind.booth, name="B", number=1, parent_id=ac.id, ac_id=ac.id)
        session.add(booth)
        session.flush()
        committee = Committee(unit_id=booth.id)
        session.add(committee)
        session.flush()
        for i in range(per_area):
            p = Person(name=f"p{a}-{i}", phone=f"+9198260{a}{i:04d}")
            session.add(p)
            session.flush()
            session.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
        acs.append(ac.id)
    return acs


async def _dialer(database: Database, lines: int, room: Callable[[], Awaitable[int]]) -> tuple[Dialer, FakeAmi]:
    bus = EventBus()
    ami = FakeAmi(bus)
    config = DialerConfig(trunks=[Trunk("lines", lines)], rules=CallingRules(min_gap=timedelta(0), max_per_day=20),
                          settle_seconds=0.1, poll_interval=0.05, reconcile_grace=0, sweep_after=60)
    return Dialer(ami, bus, database, config, clock=lambda: NOON_IST, operator_room=room), ami


def _calls_by_campaign(database: Database) -> dict[int, int]:
    with database.sessions() as s:
        out: dict[int, int] = {}
        for cid in s.scalars(select(Attempt.campaign_id)):
            assert cid is not None
            out[cid] = out.get(cid, 0) + 1
        return out


@pytest.fixture
async def areas(database: Database) -> AsyncIterator[list[int]]:
    yield database.transaction(_areas, [6, 6, 0])  # the third has nobody to call


def _campaigns(database: Database, units: list[list[int]]) -> list[int]:
    ids = []
    with database.sessions.begin() as s:
        for i, u in enumerate(units):
            c = create_campaign(s, name=f"calls{i}", mode="operator", selection=Selection(units=tuple(u)))
            change_state(s, c.name, "start")
            ids.append(c.id)
    return ids


async def test_two_operator_campaigns_share_the_operators_evenly(database: Database, areas: list[int]) -> None:
    async def room() -> int:
        return 4  # four operators ready, none of their calls answered yet

    first, second = _campaigns(database, [[areas[0]], [areas[1]]])
    dialer, ami = await _dialer(database, lines=10, room=room)
    await dialer.start()
    try:
        await until(lambda: len(ami.originated) >= 4, 10, "four calls")
        await asyncio.sleep(0.3)  # more passes: the operators' room is used up, nothing more starts
        assert len(ami.originated) == 4
        assert _calls_by_campaign(database) == {first: 2, second: 2}  # not 4 for the first
    finally:
        await dialer.stop()


async def test_lines_are_shared_and_a_campaign_without_targets_leaves_its_share(database: Database,
                                                                                areas: list[int]) -> None:
    async def room() -> int:
        return 20

    first, second, empty = _campaigns(database, [[areas[0]], [areas[1]], [areas[2]]])
    dialer, ami = await _dialer(database, lines=6, room=room)
    await dialer.start()
    try:
        await until(lambda: len(ami.originated) >= 6, 10, "six calls")
        await asyncio.sleep(0.3)
        assert _calls_by_campaign(database) == {first: 3, second: 3}  # the lines split, none idle for "empty"
        assert len(ami.originated) == 6 and empty not in _calls_by_campaign(database)
    finally:
        await dialer.stop()
