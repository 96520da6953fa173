"""Build a small directory by hand for tests (no importer needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from db.models import BoothStatus, Committee, Membership, Person, Unit, UnitKind


@dataclass
class Dir:
    units: dict[str, Unit] = field(default_factory=dict)
    committees: dict[str, Committee] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)


def build(session: Session) -> Dir:
    """State > district > AC 112 > mandal > sector > booths 1 (strong), 2 (weak); committees with people."""
    d = Dir()

    def unit(key: str, kind: UnitKind, name: str, parent: str | None, **kw: object) -> Unit:
        u = Unit(key=key, kind=kind, name=name, parent_id=d.units[parent].id if parent else None, **kw)
        session.add(u)
        session.flush()
        d.units[key] = u
        c = Committee(unit_id=u.id)
        session.add(c)
        session.flush()
        d.committees[key] = c
        return u

    unit("state:mp", UnitKind.state, "MP", None)
    unit("district:bhopal", UnitKind.district, "Bhopal", "state:mp")
    ac = unit("ac:112", UnitKind.ac, "Bhopal Uttar", "district:bhopal", number=112)
    unit("mandal:1", UnitKind.mandal, "Mandal 1", "ac:112")
    unit("sector:1", UnitKind.sector, "Sector 1", "mandal:1")
    unit("booth:112:1", UnitKind.booth, "School 1", "sector:1", number=1, ac_id=ac.id,
         computed_status=BoothStatus.strong)
    unit("booth:112:2", UnitKind.booth, "School 2", "sector:1", number=2, ac_id=ac.id,
         computed_status=BoothStatus.weak)

    def person(key: str, phone: str, committee: str, post: str, alt: str | None = None) -> Person:
        p = d.people.get(key)
        if p is None:
            p = Person(name=key, phone=phone, alt_phone=alt)
            session.add(p)
            session.flush()
            d.people[key] = p
        session.add(Membership(person_id=p.id, committee_id=d.committees[committee].id, post=post))
        session.flush()
        return p

    person("dist_pres", "+919826000001", "district:bhopal", "president")
    person("mandal_pres", "+919826000002", "mandal:1", "president")
    person("b1_pres", "+919826000003", "booth:112:1", "president", alt="+919826000013")
    person("b1_bla", "+919826000004", "booth:112:1", "BLA")
    person("b2_pres", "+919826000005", "booth:112:2", "president")
    person("b2_bla", "+919826000006", "booth:112:2", "BLA")
    person("mandal_pres", "+919826000002", "booth:112:2", "member")  # two posts: called once
    return d
