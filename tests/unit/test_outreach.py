"""Outreach lists, opt-outs, the do-not-call store and outreach campaigns, on SQLite and PostgreSQL: the
import's accounting (dedup across lists, members linked, formulas, two phones), scrubbing, the MCMC gate,
streamed planning that never dials an opted-out or DND number, the report, missed calls."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from core.errors import Conflict
from db.engine import Database
from db.models import Person, Unit, UnitKind
from db.outreach import Contact, ListEntry, MissedCall
from dialer.rules import CallingRules
from directory.files import RejectsFile
from outreach.dnd import DndList, build
from outreach.importer import ListImportOptions
from outreach.missed import MissedCallPolicy
from outreach.rows import COLUMNS
from outreach.service import OutreachConfig, OutreachService

NOON_IST = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
HEADER = ["mobile", "name", "language", "AC", "village", "consent", "caste note"]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


@pytest.fixture
def outreach(database: Database, tmp_path: Path) -> OutreachService:
    clock = [NOON_IST]
    service = OutreachService(database, OutreachConfig(tmp_path / "dnd.bin", CallingRules(min_gap=timedelta(0))),
                              clock=lambda: clock[0])
    with database.sessions.begin() as s:
        s.add(Person(name="राम कुमार", phone="+919826012345", language="hi"))
    return service


async def test_import_accounting_dedup_and_links(outreach: OutreachService, database: Database,
                                                 tmp_path: Path) -> None:
    first = _csv(tmp_path / "a.csv", [
        ["98260 12345", "Ram", "hi", "152", "Berasia", "form", ""],          # 2: a committee member: linked
        ["9826011111", "सीता", "hi", "152", "Berasia", "event", "x"],         # 3: created
        ["9826011111", "सीता", "hi", "152", "Berasia", "event", ""],          # 4: merged (line 3)
        ["12345", "bad", "", "", "", "form", ""],                           # 5: rejected phone
        ["9826011112", "गीता", "xx", "", "", "form", ""],                     # 6: rejected language
        ["9826011113 / 9425011114", "मोहन", "", "", "", "", ""],              # 7: two phones; default consent
    ])
    rejects = tmp_path / "rejects.csv"
    with RejectsFile(rejects, COLUMNS) as writer:
        s = await outreach.import_list(first, ListImportOptions("drive", default_consent="Member Referral"),
                                       on_reject=writer)
    assert (s.rows, s.created, s.updated, s.unchanged, s.merged, s.rejected, s.linked, s.warned) == \
        (6, 3, 0, 0, 1, 2, 1, 1)
    assert [(r.line, r.column) for r in s.rejections] == [(5, "phone"), (6, "language")]
    assert s.merges == [(4, 3)]
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 3
    dry = await outreach.import_list(first, ListImportOptions("drive", dry_run=True, default_consent="member referral"))
    assert (dry.created, dry.unchanged, dry.merged) == (0, 3, 1)
    second = _csv(tmp_path / "b.csv", [["+91 98260 11111", "", "", "153", "", "missed call", ""],
                                       ["9826011113", "", "", "", "", "form", ""]])
    s2 = await outreach.import_list(second, ListImportOptions("rally"))
    assert (s2.created, s2.updated, s2.unchanged) == (0, 2, 0)
    with database.sessions() as session:
        contacts = {c.phone: c for c in session.scalars(select(Contact))}
        assert len(contacts) == 3  # one contact per number across both lists
        member = contacts["+919826012345"]
        assert member.person_id is not None and member.name is None  # linked, not copied
        sita = contacts["+919826011111"]
        assert (sita.name, sita.ac_no, sita.booth, sita.consent_source) == ("सीता", 153, "Berasia", "missed call")
        assert sita.fields == {"caste note": "x"}
        assert contacts["+919826011113"].alt_phone == "+919425011114"
        assert contacts["+919826011113"].consent_source == "form"
        assert len(list(session.scalars(select(ListEntry)))) == 5


async def test_xlsx_formula_without_value_is_rejected_as_such(outreach: OutreachService, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    ws.append(["9826011111", '=HYPERLINK("http://x","Ram")', "hi", 152, "", "form", ""])
    ws.append(["9826011112", "Shyam", "hi", 152, "", "form", ""])
    wb.save(tmp_path / "f.xlsx")
    s = await outreach.import_list(tmp_path / "f.xlsx", ListImportOptions("x"))
    assert (s.created, s.rejected) == (1, 1)
    assert s.rejections[0].reason == 'name is a formula with no saved value: =HYPERLINK("http://x","Ram")'


async def test_campaign_law_scrub_plan_report(outreach: OutreachService, database: Database,
                                              tmp_path: Path) -> None:
    rows = [[f"98260{i:05d}", f"P{i}", "hi", "152" if i % 2 else "", "", "form", ""] for i in range(20, 40)]
    await outreach.import_list(_csv(tmp_path / "l.csv", rows), ListImportOptions("voters"))
    (tmp_path / "dnd.txt").write_text("+91 98260 00021\n09826000022\nnot a number\n")
    loaded = await outreach.load_dnd(tmp_path / "dnd.txt")
    assert (loaded.numbers, loaded.skipped) == (2, 1)
    await outreach.opt_out("9826000023", "keypad")
    await outreach.create_campaign("leader", "voters", caller_id="07554000000", trunk_category="140-series")
    with pytest.raises(Conflict, match="MCMC"):
        await outreach.start_campaign("leader")
    await outreach.set_mcmc("leader", "MCMC/BPL/2026/114")
    assert await outreach.scrub("leader") == {"dnd": 2, "opted_out": 1}
    await outreach.start_campaign("leader")
    due, passed = await outreach.plan_due("leader", 5)
    assert [d.phone for d in due] == ["+919826000020", "+919826000024", "+919826000025", "+919826000026",
                                      "+919826000027"]
    assert passed == {"dnd": 2, "opted_out": 1}
    assert (await outreach.figures("leader"))["scrubbed"] == {"dnd": 2, "opted_out": 1}
    for d in due:
        await outreach.record_attempt("leader", d, trunk="lines", outcome="listened")
    await outreach.opt_out("+919826000028", "operator")  # honoured from the next attempt
    with database.sessions.begin() as s:  # a member who pressed 9 in a directory campaign's call
        s.add(Person(name="Member", phone="+919826000030", dnd=True))
    due2, passed2 = await outreach.plan_due("leader", 100)
    assert "+919826000028" not in {d.phone for d in due2} and passed2 == {"opted_out": 2}
    assert len(due2) == 10
    eta = await outreach.eta("leader", lines=2, by=NOON_IST + timedelta(hours=1))
    assert (eta["answered"], eta["remaining"], eta["list_size"]) == (5, 0, 20)
    assert eta["finishes_at"] == NOON_IST.isoformat() and eta["lines_needed"] == 0
    report = list(outreach.report("leader"))
    assert len(report) == 5 and report[0][4:7] == ["07554000000", "lines", "140-series"]
    # an AC inside its silence: its people are passed over; no AC follows the earliest poll
    with database.sessions.begin() as s:
        s.add(Unit(kind=UnitKind.ac, name="AC 152", key="ac:152", number=152,
                   poll_end_at=NOON_IST + timedelta(hours=5)))
    await outreach.create_campaign("second", "voters", mcmc_ref="M/1", caller_id="07554000000", trunk_category="x")
    await outreach.start_campaign("second")
    due3, passed3 = await outreach.plan_due("second", 100)
    assert due3 == [] and passed3 == {"silence": 15, "dnd": 2, "opted_out": 3}
    assert (await outreach.figures("second"))["scrubbed"] == passed3


async def test_missed_calls(outreach: OutreachService, database: Database) -> None:
    outreach.config = OutreachConfig(outreach.config.dnd_file, outreach.config.rules,
                                     missed=MissedCallPolicy(callbacks_per_day=2, flood_calls=4, flood_minutes=10))
    taken = [await outreach.missed_call("5551001", c) for c in ("", "anonymous", "98260 12345", "9826012345",
                                                                 "9826012345", "9826012345", "9826012345")]
    assert [t.outcome for t in taken] == ["withheld", "withheld", "queued", "queued", "capped", "capped", "flood"]
    assert taken[2].callback_at == NOON_IST and taken[2].person_id is not None
    night = await outreach.missed_call("5551001", "9826099999")
    assert night.outcome == "queued"
    with database.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.phone == "+919826099999"))
        assert contact is not None and contact.consent_source == "missed call"
        assert session.scalar(select(MissedCall.purpose).limit(1)) == "call_back"
    assert await outreach.missed_figures() == {"withheld": 2, "queued": 3, "capped": 2, "flood": 1}


def test_dnd_store_is_constant_time_and_exact(tmp_path: Path) -> None:
    numbers = [6000000000, 6000000001, 7000004095, 7000004096, 9999999999] + list(range(8123400000, 8123400400, 7))
    (tmp_path / "n.txt").write_text("\n".join(f"+91{n}" for n in numbers) + "\n")
    build(tmp_path / "n.txt", tmp_path / "n.bin")
    with DndList(tmp_path / "n.bin") as dnd:
        assert len(dnd) == len(numbers)
        for n in numbers:
            assert f"+91{n}" in dnd
            assert (f"+91{n + 1}" in dnd) == (n + 1 in numbers)
        assert "+917552551234" not in dnd and "garbage" not in dnd
    assert "+916000000000" not in DndList(tmp_path / "absent.bin")
