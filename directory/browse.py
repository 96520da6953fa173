"""Browsing the directory: a unit with its path from the top, its committee's members, and each child with
the coverage of the committees under it (two reachable contacts each, as :mod:`directory.coverage` counts
them); finding units and people by what a supervisor types."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from db.models import Committee, Membership, Person, Unit, UnitKind
from directory.coverage import MIN_CONTACTS, reachable_expr

MAX_DEPTH = 20


@dataclass
class _Figures:
    committees: int = 0
    covered: int = 0
    members: int = 0
    booths: int = 0
    empty_booths: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"committees": self.committees, "covered": self.covered, "members": self.members,
                "booths": self.booths, "empty_booths": self.empty_booths,
                "coverage": round(self.covered / self.committees, 3) if self.committees else None}


def label(kind: UnitKind | str, name: str, number: int | None) -> str:
    """How a unit is named on screen: ACs and booths with their number."""
    return f"{number} {name}" if number is not None and str(kind) in ("ac", "booth") else name


def unit_row(unit: Unit) -> dict[str, Any]:
    row: dict[str, Any] = {"id": unit.id, "key": unit.key, "kind": unit.kind.value,
                           "name": label(unit.kind, unit.name, unit.number), "number": unit.number}
    if unit.kind is UnitKind.booth:
        row |= {"status": unit.status.value, "computed_status": unit.computed_status.value
                if unit.computed_status else None, "override": unit.status_override.value
                if unit.status_override else None, "override_reason": unit.override_reason,
                "override_by": unit.override_by, "override_at": unit.override_at.isoformat()
                if unit.override_at else None, "voters": unit.voter_count, "area": unit.area}
        ac_no, _, booth_no = unit.key.removeprefix("booth:").partition(":")
        row |= {"ac_no": int(ac_no) if ac_no.isdigit() else None,
                "booth_no": int(booth_no) if booth_no.isdigit() else None}
    if unit.kind is UnitKind.ac:
        row["poll_end_at"] = unit.poll_end_at.isoformat() if unit.poll_end_at else None
    return row


def unit_page(session: Session, unit_id: int | None = None) -> dict[str, Any]:
    """The unit (None: the top), its path, its committee's members, and its children with their figures."""
    units = {uid: (kind, name, number, parent) for uid, kind, name, number, parent in
             session.execute(select(Unit.id, Unit.kind, Unit.name, Unit.number, Unit.parent_id))}
    if unit_id is not None and unit_id not in units:
        raise NotFound(f"no unit {unit_id}")
    figures: dict[int | None, _Figures] = defaultdict(_Figures)

    def chain(uid: int | None) -> list[_Figures]:
        out: list[_Figures] = []
        while uid is not None and len(out) < MAX_DEPTH:
            out.append(figures[uid])
            uid = units[uid][3] if uid in units else None
        return [*out, figures[None]]

    staffed: set[int] = set()
    for uid, members, reachable in session.execute(
            select(Committee.unit_id, func.count(func.distinct(Membership.person_id)),
                   func.count(func.distinct(case((reachable_expr(), Membership.person_id)))))
            .select_from(Committee).outerjoin(Membership, Membership.committee_id == Committee.id)
            .outerjoin(Person, Person.id == Membership.person_id).group_by(Committee.unit_id)):
        if members:
            staffed.add(uid)
        for f in chain(uid):
            f.committees += 1
            f.covered += reachable >= MIN_CONTACTS
            f.members += members
    for uid, (kind, *_rest) in units.items():
        if kind == UnitKind.booth:
            for f in chain(uid):
                f.booths += 1
                f.empty_booths += uid not in staffed
    path: list[dict[str, Any]] = []
    at = unit_id
    while at is not None and len(path) < MAX_DEPTH:
        kind, name, number, parent = units[at]
        path.append({"id": at, "kind": kind.value, "name": label(kind, name, number)})
        at = parent
    children = sorted((uid for uid, u in units.items() if u[3] == unit_id),
                      key=lambda uid: (units[uid][2] if units[uid][2] is not None else 0, units[uid][1]))
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return {"unit": unit_row(unit) if unit is not None else None, "path": list(reversed(path)),
            "figures": figures[unit_id].as_dict(), "members": members_of(session, unit_id) if unit_id else [],
            "children": [{"id": uid, "kind": units[uid][0].value,
                          "name": label(units[uid][0], units[uid][1], units[uid][2]), **figures[uid].as_dict()}
                         for uid in children]}


def members_of(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """The members of a unit's committee, with their post and whether they can be reached."""
    rows = session.execute(
        select(Membership.id, Membership.post, Person, reachable_expr())
        .join(Committee, Committee.id == Membership.committee_id).join(Person, Person.id == Membership.person_id)
        .where(Committee.unit_id == unit_id).order_by(Membership.post, Person.name)).all()
    return [{"membership_id": mid, "post": post, **person_row(person), "reachable": bool(reachable)}
            for mid, post, person, reachable in rows]


def person_row(person: Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "name_alt": person.name_alt, "phone": person.phone,
            "alt_phone": person.alt_phone, "language": person.language, "status": person.status.value,
            "dnd": person.dnd, "verified_at": person.verified_at.isoformat() if person.verified_at else None}


def _like(column: Any, text: str) -> Any:
    return func.lower(column).contains(text.lower(), autoescape=True)


def find_units(session: Session, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Units whose name, key or number matches ``text``, shallow ones first, each with its place."""
    text = text.strip()
    if not text:
        return []
    where = [_like(Unit.name, text), _like(Unit.key, text)]
    if text.isascii() and text.isdigit() and len(text) < 9:
        where.append(Unit.number == int(text))
    found = session.scalars(select(Unit).where(or_(*where)).limit(limit * 5)).all()
    found = sorted(found, key=lambda u: (u.kind.depth, u.number or 0, u.name))[:limit]
    parents = {u.id: u.name for u in session.scalars(select(Unit).where(
        Unit.id.in_({u.parent_id for u in found if u.parent_id})))}
    return [{"id": u.id, "key": u.key, "kind": u.kind.value, "name": label(u.kind, u.name, u.number),
             "in": parents.get(u.parent_id or 0)} for u in found]


def find_people(session: Session, text: str, limit: int = 50) -> list[dict[str, Any]]:
    """People whose name (either script) matches ``text``, or whose phones hold its digits (3 or more)."""
    text = text.strip()
    if not text:
        return []
    where = [_like(Person.name, text), _like(Person.name_alt, text)]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        where += [Person.phone.contains(digits, autoescape=True), Person.alt_phone.contains(digits, autoescape=True)]
    people = session.scalars(select(Person).where(or_(*where)).order_by(Person.name, Person.id).limit(limit)).all()
    posts: dict[int, list[str]] = defaultdict(list)
    if people:
        for pid, post, kind, name, number in session.execute(
                select(Membership.person_id, Membership.post, Unit.kind, Unit.name, Unit.number)
                .join(Committee, Committee.id == Membership.committee_id).join(Unit, Unit.id == Committee.unit_id)
                .where(Membership.person_id.in_([p.id for p in people]))):
            posts[pid].append(f"{post}, {label(kind, name, number)}")
    return [{**person_row(p), "posts": posts.get(p.id, [])} for p in people]


def common_posts(session: Session, limit: int = 30) -> list[str]:
    """The posts people hold, most common first (what a campaign may choose)."""
    return list(session.scalars(select(Membership.post).group_by(Membership.post)
                                .order_by(func.count().desc(), Membership.post).limit(limit)))
