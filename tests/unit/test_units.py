"""The unit tree: its walks (pure, property-tested), reading it in one query, resolving unit references and
the booth status SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import BoothStatus, Unit, UnitKind
from dialer.campaigns import CampaignError
from dialer.campaigns import resolve_units as campaign_units
from dialer.store import AcIndex
from directory.units import (
    MAX_DEPTH,
    UnitNode,
    UnitNotFound,
    UnitTree,
    ancestor_units,
    as_id,
    booth_status_expr,
    resolve_units,
)
from tests.directory_builder import build

POLL = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
K = UnitKind


def node(uid: int, parent: int | None, kind: UnitKind, name: str = "", number: int | None = None,
         ac_id: int | None = None) -> UnitNode:
    return UnitNode(uid, parent, kind, f"{kind.value}:{uid}", name or f"{kind.value} {uid}", number, ac_id,
                    POLL if kind is K.ac else None)


def sample() -> UnitTree:
    """MP > Bhopal > 112 Bhopal Uttar > Mandal > Sector > 45 School (ac_id 3); AC 113 with booth 7 right
    under it; a mandal (9) that names no AC, under AC 113."""
    return UnitTree([node(1, None, K.state, "MP"), node(2, 1, K.district, "Bhopal"),
                     node(3, 2, K.ac, "Bhopal Uttar", 112), node(4, 3, K.mandal, "Mandal"),
                     node(5, 4, K.sector, "Sector", ac_id=3), node(6, 5, K.booth, "School", 45, ac_id=3),
                     node(8, 2, K.ac, "Bhopal Dakshin", 113), node(7, 8, K.booth, "Hall", 1, ac_id=8),
                     node(9, 8, K.mandal, "Mandal 2")])


def ids(nodes: Iterable[UnitNode]) -> list[int]:
    return [n.id for n in nodes]


def test_walks_up_the_tree() -> None:
    tree = sample()
    assert ids(tree.ancestors(6)) == [6, 5, 4, 3, 2, 1]
    assert ids(tree.ancestors(1)) == [1]
    assert tree.ancestors(None) == () and tree.ancestors(999) == ()
    ac = tree.ac_of(6)
    assert ac is not None and (ac.id, ac.label, ac.poll_end_at) == (3, "112 Bhopal Uttar", POLL)
    assert [getattr(tree.ac_of(u), "id", None) for u in (3, 4, 5, 7, 9, 2, 1, None, 999)] == \
        [3, 3, 3, 8, 8, None, None, None, None]
    assert [getattr(tree.district_of(u), "name", None) for u in (6, 3, 2, 1)] == ["Bhopal"] * 3 + [None]
    assert tree.path(6) == "MP > Bhopal > 112 Bhopal Uttar > Mandal > Sector > 45 School"
    assert tree.path(9, sep="/") == "MP/Bhopal/113 Bhopal Dakshin/Mandal 2"
    assert ids(tree.children(None)) == [1] and ids(tree.children(2)) == [3, 8] and tree.children(6) == []
    assert ids(tree.of_kind(K.booth)) == [6, 7] and len(tree) == 9 and 6 in tree and 99 not in tree


def test_labels_number_only_acs_and_booths() -> None:
    assert node(1, None, K.ac, "Bhopal Uttar", 112).label == "112 Bhopal Uttar"
    assert node(1, None, K.booth, "School", 45).label == "45 School"
    assert node(1, None, K.mandal, "Mandal", 3).label == "Mandal"


def test_a_named_ac_is_trusted_only_when_it_is_an_ac() -> None:
    tree = UnitTree([node(1, None, K.district), node(2, 1, K.ac, number=5), node(3, 2, K.sector, ac_id=1),
                     node(4, 3, K.booth, number=1, ac_id=77)])
    assert getattr(tree.ac_of(4), "id", None) == 2  # 77 is unknown, 1 is a district: the walk finds AC 2


def test_loops_and_overlong_chains_stop() -> None:
    loop = UnitTree([node(1, 3, K.sector), node(2, 1, K.booth), node(3, 2, K.mandal)])
    assert ids(loop.ancestors(2)) == [2, 1, 3]
    assert loop.ac_of(2) is None and loop.district_of(2) is None and loop.path(1) == "booth 2 > mandal 3 > sector 1"
    assert ids(UnitTree([node(1, 1, K.booth)]).ancestors(1)) == [1]
    chain = UnitTree(node(i, i - 1 if i > 1 else None, K.sector) for i in range(1, 3 * MAX_DEPTH))
    assert ids(chain.ancestors(3 * MAX_DEPTH - 1)) == list(range(3 * MAX_DEPTH - 1, 2 * MAX_DEPTH - 1, -1))


KINDS = st.sampled_from(list(UnitKind))


@settings(max_examples=300, deadline=None)
@given(parents=st.lists(st.one_of(st.none(), st.integers(1, 40)), min_size=1, max_size=40),
       kinds=st.lists(KINDS, min_size=40, max_size=40), start=st.integers(0, 42))
def test_any_parent_map_walks_parent_links_without_repeats(parents: list[int | None], kinds: list[UnitKind],
                                                           start: int) -> None:
    """Any parents at all (loops, unknown ids): the walk follows parent links, never repeats a unit, stops
    within the cap, and stops early only where the next parent is missing or already seen."""
    tree = UnitTree(node(i, p, kinds[i - 1]) for i, p in enumerate(parents, start=1))
    walk = tree.ancestors(start)
    assert [n.id for n in walk[:1]] == ([start] if start in tree else [])
    assert all(up.id == below.parent_id for below, up in zip(walk, walk[1:], strict=False))
    assert len({n.id for n in walk}) == len(walk) <= MAX_DEPTH
    if walk and len(walk) < MAX_DEPTH:
        last = walk[-1].parent_id
        assert last is None or last not in tree or last in {n.id for n in walk}
    first_ac = next((n for n in walk if n.kind is K.ac), None)
    assert tree.ac_of(start) == first_ac  # no unit names an AC here: the first AC on the way up
    assert tree.path(start).count(" > ") == max(len(walk) - 1, 0)


@st.composite
def forests(draw: st.DrawFn) -> UnitTree:
    """Well-formed hierarchies: each unit's parent is one level up (or it is a top unit)."""
    nodes: list[UnitNode] = []
    for uid in range(1, draw(st.integers(1, 60)) + 1):
        above = [n for n in nodes if n.kind.depth < len(UnitKind) - 1]
        parent = draw(st.one_of(st.none(), st.sampled_from(above))) if above else None
        kind = list(UnitKind)[parent.kind.depth + 1] if parent else draw(KINDS)
        nodes.append(node(uid, parent.id if parent else None, kind))
    return UnitTree(nodes)


@settings(max_examples=200, deadline=None)
@given(tree=forests())
def test_well_formed_trees_walk_to_their_top(tree: UnitTree) -> None:
    for unit in tree:
        walk = tree.ancestors(unit.id)
        assert walk[-1].parent_id is None and [n.kind.depth for n in walk] == \
            list(range(unit.kind.depth, unit.kind.depth - len(walk), -1))
        ac, district = tree.ac_of(unit.id), tree.district_of(unit.id)
        assert ac == next((n for n in walk if n.kind is K.ac), None)
        assert district == next((n for n in walk if n.kind is K.district), None)
        assert unit in tree.children(unit.parent_id)


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_loads_in_one_query_and_reads_ancestors_as_rows(session_factory: sessionmaker[Session],
                                                        db_engine: Engine) -> None:
    with session_factory.begin() as s:
        d = build(s)
        s.execute(update(Unit).where(Unit.key == "ac:112").values(poll_end_at=POLL))
    booth = d.units["booth:112:2"].id
    with session_factory() as s, counting(db_engine) as statements:
        tree = UnitTree.load(s)
        assert len(statements) == 1 and len(tree) == 7
        b2 = tree[booth]
        assert (b2.key, b2.kind, b2.label, b2.ac_id) == ("booth:112:2", K.booth, "2 School 2", d.units["ac:112"].id)
        assert tree.path(booth) == "MP > Bhopal > 112 Bhopal Uttar > Mandal 1 > Sector 1 > 2 School 2"
        assert getattr(tree.ac_of(booth), "poll_end_at", None) == POLL
        rows = ancestor_units(s, booth)
        assert len(statements) == 2, "the chain of rows in one more query"
        assert [u.key for u in rows] == ["booth:112:2", "sector:1", "mandal:1", "ac:112", "district:bhopal",
                                         "state:mp"]
        assert isinstance(rows[0], Unit) and ancestor_units(s, None) == [] and ancestor_units(s, 999_999) == []
    with session_factory() as s:
        index = AcIndex()
        assert index.poll_end(booth) is None, "not loaded: nothing known"
        index.load(s)
        assert index.poll_end(booth) == POLL and index.poll_end(d.units["district:bhopal"].id) is None


def test_a_loop_in_the_database_ends_the_walk(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        d = build(s)
        s.execute(update(Unit).where(Unit.key == "state:mp").values(parent_id=d.units["booth:112:1"].id))
    with session_factory() as s:
        walk = [u.key for u in ancestor_units(s, d.units["sector:1"].id)]
        assert walk == ["sector:1", "mandal:1", "ac:112", "district:bhopal", "state:mp", "booth:112:1"]
        assert UnitTree.load(s).path(d.units["state:mp"].id).startswith("Bhopal > 112 Bhopal Uttar")


def test_resolves_keys_and_ids_in_order(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        d = build(s)
    ac, booth = d.units["ac:112"].id, d.units["booth:112:2"].id
    with session_factory() as s:
        assert resolve_units(s, ["booth:112:2", f" {ac} ", "ac:112", str(booth)]) == (booth, ac, ac, booth)
        assert resolve_units(s, []) == ()
        assert campaign_units(s, ["ac:112"]) == (ac,)


@pytest.mark.parametrize("ref", ["ac:999", "booth:112", "AC:112", "0", "999999", "99999999999", "²", "", "-1"])
def test_bad_references_are_named(session_factory: sessionmaker[Session], ref: str) -> None:
    with session_factory.begin() as s:
        build(s)
    message = f"no unit '{ref}' in the directory (use keys like ac:112 or booth:112:45)"
    with session_factory() as s:
        with pytest.raises(UnitNotFound) as found:
            resolve_units(s, ["ac:112", f"  {ref}"])
        assert str(found.value) == message
        with pytest.raises(CampaignError) as failed:
            campaign_units(s, [ref])
        assert str(failed.value) == message


def test_as_id_takes_only_plain_32_bit_ids() -> None:
    assert [as_id(r) for r in ("1", "007", "2147483647")] == [1, 7, 2**31 - 1]
    assert [as_id(r) for r in ("0", "2147483648", "1" * 5000, "²", "١", "-3", "ac:1", "")] == [None] * 8


def test_booth_status_sql(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        build(s)
        s.execute(update(Unit).where(Unit.key == "booth:112:2").values(status_override=BoothStatus.swing))
    with session_factory() as s:
        status = {key: value for key, value in s.execute(select(Unit.key, booth_status_expr()))}
    assert (status["booth:112:1"], status["booth:112:2"], status["sector:1"]) == ("strong", "swing", "unknown")
