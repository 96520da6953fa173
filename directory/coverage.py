"""Coverage of the directory against the war room's rule: at least two reachable people per committee.

Figures by district and AC: committees under two reachable contacts, booths without a booth committee
(or with nobody in it), members not verified for N days; and phones shared by several people.
Aggregates run in SQL; the hierarchy is walked once in memory.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.models import Committee, Membership, MemberStatus, Person, UnitKind, utcnow
from directory.units import UnitTree

MIN_CONTACTS = 2


def reachable_expr() -> Any:
    """SQL for Person.reachable: active, not DND, with a dialable phone."""
    return and_(Person.status == MemberStatus.active, Person.dnd.is_(False),
                or_(Person.phone_invalid_at.is_(None),
                    and_(Person.alt_phone.is_not(None), Person.alt_phone_invalid_at.is_(None))))


@dataclass
class AreaFigures:
    district: str
    ac: str
    committees: int = 0
    under_covered: int = 0
    booths: int = 0
    booths_without_committee: int = 0
    members: int = 0
    unverified: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Coverage:
    verify_days: int
    areas: list[AreaFigures] = field(default_factory=list)
    under_covered: list[dict[str, Any]] = field(default_factory=list)   # worst first
    booths_without_committee: list[dict[str, Any]] = field(default_factory=list)
    shared_phones: list[dict[str, Any]] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ["committees", "under_covered", "booths", "booths_without_committee", "members", "unverified"]
        return {k: sum(getattr(a, k) for a in self.areas) for k in keys} | {"shared_phones": len(self.shared_phones)}

    def as_dict(self) -> dict[str, Any]:
        return {"verify_days": self.verify_days, "totals": self.totals(), "by_area": [a.as_dict() for a in self.areas],
                "under_covered": self.under_covered, "booths_without_committee": self.booths_without_committee,
                "shared_phones": self.shared_phones}


def _area(tree: UnitTree, uid: int) -> tuple[str, str]:
    """unit id -> (district name, AC label), empty above them."""
    district, ac = tree.district_of(uid), tree.ac_of(uid)
    return district.name if district else "", ac.label if ac else ""


def coverage(session: Session, verify_days: int = 30, now: datetime | None = None, limit: int = 50) -> Coverage:
    """Compute the coverage report."""
    now = now or utcnow()
    tree = UnitTree.load(session)
    report = Coverage(verify_days)
    areas: dict[tuple[str, str], AreaFigures] = {}

    def area(uid: int) -> AreaFigures:
        district, ac = _area(tree, uid)
        return areas.setdefault((district, ac), AreaFigures(district, ac))

    stale = or_(Person.verified_at.is_(None), Person.verified_at < now - timedelta(days=verify_days))
    per_committee = session.execute(
        select(Committee.unit_id, func.count(func.distinct(Membership.person_id)),
               func.count(func.distinct(case((reachable_expr(), Membership.person_id)))),
               func.count(func.distinct(case((stale, Membership.person_id)))))
        .select_from(Committee).outerjoin(Membership, Membership.committee_id == Committee.id)
        .outerjoin(Person, Person.id == Membership.person_id).group_by(Committee.unit_id)).all()
    staffed: set[int] = set()
    under = []
    for unit_id, members, reachable, unverified in per_committee:
        figures = area(unit_id)
        figures.committees += 1
        figures.members += members
        figures.unverified += unverified
        if members:
            staffed.add(unit_id)
        if reachable < MIN_CONTACTS:
            figures.under_covered += 1
            under.append({"unit": tree.path(unit_id), "level": tree[unit_id].kind.value,
                          "reachable": reachable, "members": members})
    for booth in tree.of_kind(UnitKind.booth):
        figures = area(booth.id)
        figures.booths += 1
        if booth.id not in staffed:
            figures.booths_without_committee += 1
            if len(report.booths_without_committee) < limit:
                report.booths_without_committee.append({"booth": tree.path(booth.id)})
    under.sort(key=lambda u: (u["reachable"], u["unit"]))
    report.under_covered = under[:limit]
    report.areas = sorted(areas.values(), key=lambda a: (a.district, a.ac))
    report.shared_phones = shared_phones(session, limit)
    return report


def shared_phones(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """Phones that belong to more than one person: one's phone is another's alternate, or alternates shared."""
    other = aliased(Person)
    cross = session.execute(select(Person.phone, func.count(other.id) + 1).join(other, other.alt_phone == Person.phone)
                            .group_by(Person.phone).limit(limit)).all()
    alts = session.execute(select(Person.alt_phone, func.count()).where(Person.alt_phone.is_not(None))
                           .group_by(Person.alt_phone).having(func.count() > 1).limit(limit)).all()
    merged: dict[str, int] = defaultdict(int)
    for phone, people in [*cross, *alts]:
        if phone is not None:
            merged[phone] = max(merged[phone], int(people))
    return [{"phone": p, "people": n} for p, n in sorted(merged.items())][:limit]
