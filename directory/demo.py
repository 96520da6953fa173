"""A realistic demo directory: districts > ACs > mandals > shakti kendras (5 booths) > booths, committees
with Hindi names (Faker ``hi_IN``), Indian mobiles, a few committees deliberately under two contacts,
alternate and shared phones, two past elections per booth giving a mix of statuses, and candidates.
Rows go through the same importer as real files."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import BoothResult, Candidate, Election, Unit, UnitKind
from directory.importer import ImportOptions, ImportSummary, import_rows
from directory.phones import PhoneError, normalise_phone
from directory.results import recompute_status, status_mix
from directory.status import StatusRules

POSTS = {"district": ["अध्यक्ष", "महामंत्री", "कोषाध्यक्ष", "मंत्री"], "mandal": ["अध्यक्ष", "महामंत्री", "सदस्य"],
         "sector": ["संयोजक", "सह-संयोजक", "सदस्य"], "booth": ["अध्यक्ष", "BLA", "सदस्य", "पन्ना प्रमुख"]}
RIVALS = ["RIVAL", "OTHERS"]


@dataclass(frozen=True)
class DemoSpec:
    districts: int = 2
    acs: int = 3                 # per district
    booths_per_ac: int = 20
    seed: int = 2026
    state: str = "मध्य प्रदेश"


class _Phones:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd, self.used = rnd, set[str]()

    def new(self) -> str:
        while True:
            raw = f"{self.rnd.choice('6789')}{self.rnd.randrange(10**9):09d}"
            try:
                phone = normalise_phone(raw)
            except PhoneError:
                continue
            if phone not in self.used:
                self.used.add(phone)
                return phone


def demo_rows(spec: DemoSpec, empty_booths: list[dict[str, str]] | None = None
              ) -> Iterator[tuple[int, dict[str, str]]]:
    """Directory rows (canonical columns), deterministic for a seed. Booths left without anybody are
    appended to ``empty_booths`` (they have no row to import)."""
    rnd = random.Random(spec.seed)
    fake = Faker("hi_IN")
    fake.seed_instance(spec.seed)
    latin = Faker("en_IN")
    latin.seed_instance(spec.seed)
    phones = _Phones(rnd)
    line = 1
    ac_no = 0
    last_phone = ""

    def members(level: str, count: int, base: dict[str, str]) -> Iterator[dict[str, str]]:
        nonlocal last_phone
        for i in range(count):
            phone = phones.new()
            alt = ""
            if rnd.random() < 0.15:
                alt = last_phone if (last_phone and rnd.random() < 0.1) else phones.new()  # some shared phones
            last_phone = phone
            post = POSTS[level][i] if i < len(POSTS[level]) else POSTS[level][-1]
            yield {**base, "level": level, "post": post, "name": f"{fake.first_name()} {fake.last_name()}",
                   "name_alt": latin.name() if rnd.random() < 0.1 else "", "phone": phone, "alt_phone": alt,
                   "language": "en" if rnd.random() < 0.05 else "hi"}

    for d in range(spec.districts):
        district = fake.city() if d else "भोपाल"
        for row in members("district", rnd.randint(3, 4), {"state": spec.state, "district": district}):
            line += 1
            yield line, row
        for _ in range(spec.acs):
            ac_no += 1
            ac = {"state": spec.state, "district": district, "ac_no": str(ac_no), "ac_name": f"{fake.city()} {ac_no}"}
            mandals = max(1, spec.booths_per_ac // 20)
            booth_no = 0
            for m in range(mandals):
                mandal = {**ac, "mandal": f"{fake.street_name()} मंडल {m + 1}"}
                for row in members("mandal", rnd.randint(2, 4), mandal):
                    line += 1
                    yield line, row
                per_mandal = spec.booths_per_ac // mandals + (1 if m < spec.booths_per_ac % mandals else 0)
                for k in range(0, per_mandal, 5):
                    sector = {**mandal, "sector": f"शक्ति केंद्र {m + 1}.{k // 5 + 1}"}
                    for row in members("sector", rnd.randint(2, 3), sector):
                        line += 1
                        yield line, row
                    for _ in range(min(5, per_mandal - k)):
                        booth_no += 1
                        booth = {**sector, "booth_no": str(booth_no), "booth_name": f"शासकीय शाला {fake.city()}",
                                 "area": fake.city(), "voters": str(rnd.randint(800, 1500))}
                        # a few booths are short of people: the coverage report should find them
                        count = rnd.choices([0, 1, 2, 3, 4, 5], weights=[2, 4, 30, 30, 20, 14])[0]
                        if count == 0 and empty_booths is not None:
                            empty_booths.append(booth)
                        for row in members("booth", count, booth):
                            line += 1
                            yield line, row


def _result(rnd: random.Random, party: str, electors: int, profile: str) -> dict[str, int]:
    polled = int(electors * rnd.uniform(0.55, 0.8))
    ours = {"strong": rnd.uniform(0.55, 0.68), "weak": rnd.uniform(0.22, 0.35),
            "swing": rnd.uniform(0.44, 0.5)}[profile]
    rival = min(1 - ours, {"strong": rnd.uniform(0.25, 0.35), "weak": rnd.uniform(0.5, 0.65),
                           "swing": rnd.uniform(0.44, 0.5)}[profile])
    votes = {party: int(polled * ours), RIVALS[0]: int(polled * rival)}
    votes[RIVALS[1]] = max(0, polled - sum(votes.values()))
    return votes


def load_demo(sessions: sessionmaker[Session], spec: DemoSpec, rules: StatusRules) -> dict[str, Any]:
    """Import the demo directory, then results for two elections and candidates; returns a summary."""
    empty: list[dict[str, str]] = []
    summary: ImportSummary = import_rows(sessions, demo_rows(spec, empty), options=ImportOptions(source="demo-data"))
    rnd = random.Random(spec.seed + 1)
    fake = Faker("hi_IN")
    fake.seed_instance(spec.seed + 1)
    phones = _Phones(rnd)
    with sessions.begin() as session:
        elections = []
        for year in (2018, 2023):
            election = session.scalar(select(Election).where(Election.year == year, Election.kind == "assembly"))
            if election is None:
                election = Election(year=year, kind="assembly")
                session.add(election)
                session.flush()
            elections.append(election)
        for booth_row in empty:  # booths nobody has been found for yet
            key = f"booth:{booth_row['ac_no']}:{booth_row['booth_no']}"
            if session.scalar(select(Unit.id).where(Unit.key == key)) is None:
                ac = session.scalar(select(Unit).where(Unit.key == f"ac:{booth_row['ac_no']}"))
                sector = session.scalar(select(Unit).where(Unit.kind == UnitKind.sector, Unit.ac_id == ac.id,
                                                           Unit.name == booth_row["sector"])) if ac else None
                if ac is not None:
                    session.add(Unit(key=key, kind=UnitKind.booth, name=booth_row["booth_name"], ac_id=ac.id,
                                     number=int(booth_row["booth_no"]), parent_id=(sector or ac).id,
                                     voter_count=int(booth_row["voters"])))
        session.flush()
        have = {b for (b,) in session.execute(select(BoothResult.booth_id))}
        booths = session.scalars(select(Unit).where(Unit.kind == UnitKind.booth).order_by(Unit.id)).all()
        for booth in booths:
            if booth.id in have or rnd.random() < 0.05:  # some booths have no past results: unknown
                continue
            profile = rnd.choices(["strong", "weak", "swing", "flip"], weights=[35, 30, 25, 10])[0]
            electors = booth.voter_count or rnd.randint(800, 1500)
            for i, election in enumerate(elections):
                kind = profile if profile != "flip" else ("strong" if i == 0 else "weak")
                votes = _result(rnd, rules.party, electors, kind)
                session.add(BoothResult(booth_id=booth.id, election_id=election.id, electors=electors,
                                        votes_polled=sum(votes.values()), party_votes=votes))
        session.flush()
        recompute_status(session, rules)
        for ac in session.scalars(select(Unit).where(Unit.kind == UnitKind.ac)):
            if session.scalar(select(Candidate.id).where(Candidate.ac_id == ac.id)) is None:
                session.add(Candidate(ac_id=ac.id, name=fake.name(), party=rules.party, phone=phones.new()))
        mix = status_mix(session)
    return {"import": {k: getattr(summary, k) for k in ("rows", "created", "updated", "unchanged", "merged",
                                                          "rejected")},
            "booths": len(booths), "statuses": mix}
