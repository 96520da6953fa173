"""Coverage report, booth results import and status overrides, demo data (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import BoothResult, BoothStatus, Person, Unit, utcnow
from directory.coverage import coverage
from directory.demo import DemoSpec, load_demo
from directory.results import import_results, set_override
from directory.status import StatusRules
from tests.directory_builder import Dir, build

RULES = StatusRules("PARTY")


@pytest.fixture
def directory(session_factory: sessionmaker[Session]) -> Dir:
    with session_factory.begin() as s:
        return build(s)


def test_coverage_figures(session_factory: sessionmaker[Session], directory: Dir) -> None:
    with session_factory.begin() as s:
        people = directory.people
        s.execute(update(Person).where(Person.id == people["b2_bla"].id).values(dnd=True))
        s.execute(update(Person).where(Person.id == people["b1_pres"].id).values(
            verified_at=utcnow() - timedelta(days=2)))
        s.execute(update(Person).where(Person.id == people["b1_bla"].id).values(alt_phone="+919826000005"))
        ac = directory.units["ac:112"]
        s.add(Unit(key="booth:112:3", kind="booth", name="Empty", number=3, parent_id=directory.units["sector:1"].id,
                   ac_id=ac.id))
    with session_factory() as s:
        report = coverage(s, verify_days=30)
    t = report.totals()
    # committees: state, district, ac, mandal, sector, booth 1, booth 2 (7); reachable counts:
    # state 0, district 1, ac 0, mandal 1, sector 0, booth 1: 2, booth 2: b2_pres + mandal_pres = 2 (b2_bla is DND)
    assert t["committees"] == 7 and t["under_covered"] == 5
    assert t["booths"] == 3 and t["booths_without_committee"] == 1
    assert t["members"] == 7 and t["unverified"] == 6  # one membership per person-committee; b1_pres verified
    assert report.shared_phones == [{"phone": "+919826000005", "people": 2}]
    assert [b["booth"].split(" > ")[-1] for b in report.booths_without_committee] == ["3 Empty"]
    ac_area = next(a for a in report.areas if a.ac == "112 Bhopal Uttar")
    assert ac_area.booths == 3 and ac_area.district == "Bhopal"


def _results_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("ac_no,booth_no,year,electors,votes_polled,PARTY,RIVAL\n" + "\n".join(rows) + "\n")
    return path


def test_results_import_sets_status_and_override_wins(session_factory: sessionmaker[Session], directory: Dir,
                                                       tmp_path: Path) -> None:
    path = _results_csv(tmp_path / "r.csv", ["112,1,2023,1000,700,450,250", "112,1,2018,1000,690,420,270",
                                             "112,2,2023,1000,700,200,500", "112,9,2023,1000,700,1,2",
                                             "112,x,2023,1,1,1,1", "112,2,2023,1000,700,,"])
    s = import_results(session_factory, path, RULES)
    assert (s.rows, s.created, s.rejected) == (6, 3, 3)
    reasons = {r["line"]: r["reason"] for r in s.rejections}
    assert reasons[5] == "no booth 9 in AC 112 in the directory (import it first)"
    assert reasons[6] == "booth no 'x' is not a number" and reasons[7] == "no party vote columns"
    with session_factory() as db:
        b1, b2 = (db.scalar(select(Unit).where(Unit.key == k)) for k in ("booth:112:1", "booth:112:2"))
        assert b1 is not None and b2 is not None
        assert (b1.computed_status, b2.computed_status) == (BoothStatus.strong, BoothStatus.weak)
    again = import_results(session_factory, path, RULES)
    assert (again.created, again.unchanged, again.updated) == (0, 3, 0)
    with session_factory.begin() as db:
        with pytest.raises(ValueError, match="needs a reason"):
            set_override(db, 112, 2, "swing", "", "")
        set_override(db, 112, 2, "swing", "new candidate", "Sharma ji")
    with session_factory() as db:
        b2 = db.scalar(select(Unit).where(Unit.key == "booth:112:2"))
        assert b2 is not None and b2.status is BoothStatus.swing and b2.computed_status is BoothStatus.weak
        assert db.scalar(select(func.count()).select_from(BoothResult)) == 3


def test_demo_data_is_deterministic_with_a_status_mix(session_factory: sessionmaker[Session]) -> None:
    spec = DemoSpec(districts=1, acs=2, booths_per_ac=25, seed=7)
    first = load_demo(session_factory, spec, RULES)
    assert first["import"]["rejected"] == 0 and first["import"]["created"] == first["import"]["rows"] > 50
    assert first["booths"] == 50
    assert sum(1 for v in first["statuses"].values() if v) >= 3  # a real mix
    with session_factory() as s:
        report = coverage(s)
        assert report.totals()["under_covered"] >= 1
        phones = s.scalars(select(Person.phone)).all()
        assert all(p.startswith("+91") and len(p) == 13 for p in phones)
        assert any("\u0900" <= ch <= "\u097f" for p in s.scalars(select(Person.name)) for ch in p)
    again = load_demo(session_factory, spec, RULES)
    assert again["import"]["unchanged"] == first["import"]["rows"]
