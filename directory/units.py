"""The organisation hierarchy as one tree: state > district > AC > mandal > sector > booth.

:class:`UnitTree` holds every unit (or a chain of them) read in one query, and answers the questions the
war room asks of the hierarchy: the ancestors of a unit, the AC a booth (or mandal, sector) is in, the
district of a unit, a unit's readable path. Every walk goes through :meth:`UnitTree.ancestors`, the one
place with the depth cap and the cycle guard, and needs no database, so it is tested on its own.

Also here: unit references as people write them (``ac:112``, ``booth:112:45`` or an id) resolved to ids,
and the SQL for a booth's status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, func, literal_column, or_, select
from sqlalchemy.orm import Session

from db.models import BoothStatus, Unit, UnitKind

# The hierarchy has six levels; a longer chain of parents is a loop or bad data, and the walk stops there.
MAX_DEPTH = 16
MAX_ID = 2**31 - 1  # database ids are 32-bit: a larger number is no id
NUMBERED = (UnitKind.ac, UnitKind.booth)  # numbered kinds: their number is part of their label


class UnitNode(NamedTuple):
    """What the tree keeps of one unit."""

    id: int
    parent_id: int | None
    kind: UnitKind
    key: str
    name: str
    number: int | None = None
    ac_id: int | None = None
    poll_end_at: datetime | None = None
    area: str | None = None
    voter_count: int | None = None

    @property
    def label(self) -> str:
        """How people name it: ``112 Bhopal Uttar`` for ACs and booths, the plain name otherwise."""
        return f"{self.number} {self.name}" if self.number is not None and self.kind in NUMBERED else self.name

    @classmethod
    def of(cls, unit: Unit) -> UnitNode:
        """The node of a loaded :class:`Unit` row."""
        return cls(unit.id, unit.parent_id, UnitKind(unit.kind), unit.key, unit.name, unit.number, unit.ac_id,
                   unit.poll_end_at, unit.area, unit.voter_count)


COLUMNS = (Unit.id, Unit.parent_id, Unit.kind, Unit.key, Unit.name, Unit.number, Unit.ac_id, Unit.poll_end_at,
           Unit.area, Unit.voter_count)  # in UnitNode's field order


class UnitTree:
    """Units by id, with the walks over them. Ids it does not hold have no ancestors, AC or district."""

    def __init__(self, nodes: Iterable[UnitNode] = ()) -> None:
        self._nodes: dict[int, UnitNode] = {n.id: n for n in nodes}
        self._up: dict[int, tuple[UnitNode, ...]] = {}  # ancestors by unit, as walked
        self._children: dict[int | None, list[int]] = defaultdict(list)
        for node in self._nodes.values():
            self._children[node.parent_id].append(node.id)

    @classmethod
    def load(cls, session: Session) -> UnitTree:
        """Every unit of the directory, in one query (in id order)."""
        return cls(UnitNode._make(row) for row in session.execute(select(*COLUMNS).order_by(Unit.id)))

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[UnitNode]:
        return iter(self._nodes.values())

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._nodes

    def get(self, unit_id: int | None) -> UnitNode | None:
        """The unit, or None when the tree does not hold it."""
        return self._nodes.get(unit_id) if unit_id is not None else None

    def __getitem__(self, unit_id: int) -> UnitNode:
        return self._nodes[unit_id]

    def of_kind(self, kind: UnitKind) -> list[UnitNode]:
        """The units of one kind (every booth, every AC...)."""
        return [n for n in self._nodes.values() if n.kind is kind]

    def children(self, unit_id: int | None) -> list[UnitNode]:
        """The units right under ``unit_id``; with None, the units at the top (those without a parent)."""
        return [self._nodes[c] for c in self._children.get(unit_id, ())]

    def ancestors(self, unit_id: int | None) -> tuple[UnitNode, ...]:
        """The unit and every unit above it, nearest first. The walk stops at a parent the tree does not
        hold, at a unit seen before (a loop) and after :data:`MAX_DEPTH` units."""
        if unit_id is None or unit_id not in self._nodes:
            return ()
        if unit_id in self._up:
            return self._up[unit_id]
        out: list[UnitNode] = []
        seen: set[int] = set()
        node = self.get(unit_id)
        while node is not None and node.id not in seen and len(out) < MAX_DEPTH:
            out.append(node)
            seen.add(node.id)
            node = self.get(node.parent_id)
        self._up[unit_id] = walk = tuple(out)
        return walk

    def ac_of(self, unit_id: int | None) -> UnitNode | None:
        """The assembly constituency the unit is in: the first unit on the way up that is an AC or names its
        AC (booths, sectors and mandals carry ``ac_id``); None above the ACs."""
        for node in self.ancestors(unit_id):
            if node.kind is UnitKind.ac:
                return node
            named = self.get(node.ac_id)
            if named is not None and named.kind is UnitKind.ac:
                return named
        return None

    def district_of(self, unit_id: int | None) -> UnitNode | None:
        """The district the unit is in (a district is in itself); None above the districts."""
        return next((n for n in self.ancestors(unit_id) if n.kind is UnitKind.district), None)

    def path(self, unit_id: int | None, sep: str = " > ") -> str:
        """The unit's labels from the top down: ``MP > Bhopal > 112 Bhopal Uttar > ...``."""
        return sep.join(n.label for n in reversed(self.ancestors(unit_id)))


def ancestor_units(session: Session, unit_id: int | None) -> list[Unit]:
    """The unit and every unit above it as rows, nearest first, read in one query (the walk is
    :meth:`UnitTree.ancestors`, with its depth cap and cycle guard)."""
    if unit_id is None:
        return []
    up = select(Unit.id, Unit.parent_id, literal_column("1", Integer).label("depth")).where(Unit.id == unit_id) \
        .cte("up", recursive=True)
    up = up.union_all(select(Unit.id, Unit.parent_id, up.c.depth + 1).join(up, Unit.id == up.c.parent_id)
                      .where(up.c.depth < MAX_DEPTH))
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(select(up.c.id))))}
    return [units[n.id] for n in UnitTree(UnitNode.of(u) for u in units.values()).ancestors(unit_id)]


class UnitNotFound(LookupError):
    """A unit reference names no unit of the directory; the message says which and how to write one."""


def as_id(ref: str) -> int | None:
    """``ref`` as a database id, or None when it cannot be one (then it is a key or a name). Only 0-9:
    ``str.isdigit`` also takes ``²``, which ``int`` refuses, and ``int`` refuses more than 4300 digits."""
    if not (ref.isascii() and ref.isdigit()) or len(ref) > len(str(MAX_ID)):
        return None
    number = int(ref)
    return number if 0 < number <= MAX_ID else None


def resolve_units(session: Session, refs: Iterable[str]) -> tuple[int, ...]:
    """Unit references (``ac:112``, ``booth:112:45``, ``district:<state id>:<name>`` or an id) -> ids, in
    the order given; :class:`UnitNotFound` names the first that matches no unit."""
    wanted = [(ref.strip(), as_id(ref.strip())) for ref in refs]
    if not wanted:
        return ()
    ids = {n for _, n in wanted if n is not None}
    keys = {ref for ref, n in wanted if n is None}
    by_id: dict[int, int] = {}
    by_key: dict[str, int] = {}
    for uid, key in session.execute(select(Unit.id, Unit.key).where(or_(Unit.id.in_(ids), Unit.key.in_(keys)))):
        by_id[uid], by_key[key] = uid, uid
    out = []
    for ref, number in wanted:
        found = by_id.get(number) if number is not None else by_key.get(ref)
        if found is None:
            raise UnitNotFound(f"no unit '{ref}' in the directory (use keys like ac:112 or booth:112:45)")
        out.append(found)
    return tuple(out)


def booth_status_expr() -> Any:
    """SQL for :attr:`Unit.status`: the manual override, else the status from results, else unknown."""
    return func.coalesce(Unit.status_override, Unit.computed_status, BoothStatus.unknown.value)
