"""Directory import and export with real files (CSV UTF-8 / BOM / UTF-16, XLSX, Hindi headers), on SQLite
and PostgreSQL: every outcome, counts adding up, idempotence, dry run, rejects file, change feed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Change, Committee, Membership, Person, Unit
from directory.exporter import escape_cell, export_rows, write_csv, write_xlsx
from directory.importer import ImportOptions, ImportSummary, import_file
from directory.reader import FileFormatError

HINDI = ["जिला", "विधानसभा क्रमांक", "विधानसभा", "मंडल", "शक्ति केंद्र", "बूथ क्रमांक", "मतदान केंद्र", "स्तर", "पद", "नाम",
         "मोबाइल", "वैकल्पिक मोबाइल", "भाषा"]
ROWS = [
    # line 2: district president
    ["भोपाल", "", "", "", "", "", "", "जिला", "अध्यक्ष", "राम कुमार", "98260 12345", "", ""],
    # line 3: the same person, second post, Latin name -> kept as the other-script name
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "", "", "", "मंडल", "सदस्य", "Ram Kumar", "+91 9826012345", "", "en"],
    # line 4: booth BLA with an alternate phone
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "केंद्र 3", "45", "शासकीय शाला", "बूथ", "BLA", "सीता देवी", "098260-12346",
     "9826012347", "hi"],
    # line 5: duplicate of line 4 -> merged
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "केंद्र 3", "45", "शासकीय शाला", "बूथ", "BLA", "सीता देवी", "9826012346", "",
     "hi"],
    # line 6: booth number not a number
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "केंद्र 3", "4x", "", "बूथ", "BLA", "गीता", "9826012348", "", ""],
    # line 7: missing name
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "", "", "", "मंडल", "अध्यक्ष", "", "9826012349", "", ""],
    # line 8: invalid phone
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "", "", "", "मंडल", "अध्यक्ष", "मोहन", "12345", "", ""],
    # line 9: level does not fit (mandal row naming a booth)
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "", "45", "", "मंडल", "अध्यक्ष", "मोहन", "9826012350", "", ""],
    # line 10: unknown level
    ["भोपाल", "152", "भोपाल उत्तर", "", "", "", "", "प्रखंड", "अध्यक्ष", "मोहन", "9826012351", "", ""],
    # line 11: a second booth member (landline with STD code is valid too)
    ["भोपाल", "152", "भोपाल उत्तर", "मंडल 1", "केंद्र 3", "45", "शासकीय शाला", "बूथ", "सदस्य", "गोपाल", "0755-2551234",
     "", ""],
]
EXPECTED = {"rows": 10, "created": 4, "updated": 0, "unchanged": 0, "merged": 1, "rejected": 5}


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(HINDI)
        w.writerows(rows)
    return path


def _write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HINDI)
    for row in rows:
        ws.append([int(c) if c.isdigit() and len(c) < 5 else c for c in row])  # numbers as numbers, like Excel
    wb.save(path)
    return path


def _counts(s: ImportSummary) -> dict[str, int]:
    return {k: getattr(s, k) for k in EXPECTED}


FILES = {
    "utf8": lambda p: _write_csv(p / "d.csv", ROWS),
    "utf8-bom": lambda p: _write_csv(p / "d.csv", ROWS, "utf-8-sig"),
    "utf16-excel": lambda p: _write_csv(p / "d.txt", ROWS, "utf-16", "\t"),
    "xlsx": lambda p: _write_xlsx(p / "d.xlsx", ROWS),
}


@pytest.mark.parametrize("kind", list(FILES))
def test_every_outcome_from_each_file_kind(kind: str, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    path = FILES[kind](tmp_path)
    s = import_file(session_factory, path)
    assert _counts(s) == EXPECTED
    assert sum(_counts(s).values()) - s.rows == s.rows  # created+...+rejected == rows
    reasons = {r.line: (r.column, r.reason) for r in s.rejections}
    assert reasons[6] == ("booth_no", "booth number '4x' is not a number")
    assert reasons[7] == ("name", "missing name")
    assert reasons[8][0] == "phone" and "not a valid Indian number" in reasons[8][1]
    assert reasons[9][0] == "level" and "does not fit" in reasons[9][1]
    assert reasons[10][0] == "level" and "unknown level" in reasons[10][1]
    assert s.merges == [(5, 4)]
    with session_factory() as db:
        ram = db.scalar(select(Person).where(Person.phone == "+919826012345"))
        assert ram is not None and (ram.name, ram.name_alt, ram.language) == ("राम कुमार", "Ram Kumar", "en")
        assert db.scalar(select(func.count()).select_from(Membership).where(Membership.person_id == ram.id)) == 2
        sita = db.scalar(select(Person).where(Person.phone == "+919826012346"))
        assert sita is not None and sita.alt_phone == "+919826012347"
        booth = db.scalar(select(Unit).where(Unit.key == "booth:152:45"))
        assert booth is not None and booth.name == "शासकीय शाला" and booth.number == 45
        assert db.scalar(select(func.count()).select_from(Change)) == 4  # created rows are in the change feed


def test_same_file_twice_changes_nothing(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    path = FILES["utf8"](tmp_path)
    import_file(session_factory, path)

    def snapshot() -> tuple[object, ...]:
        with session_factory() as db:
            return tuple(tuple(db.execute(select(*inspect(m).columns).order_by(inspect(m).primary_key[0])).all())
                         for m in (Unit, Committee, Person, Membership, Change))

    before = snapshot()
    again = import_file(session_factory, path)
    assert _counts(again) == {"rows": 10, "created": 0, "updated": 0, "unchanged": 4, "merged": 1, "rejected": 5}
    assert snapshot() == before


def test_updates_are_counted_and_fed(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    import_file(session_factory, FILES["utf8"](tmp_path))
    changed = [list(r) for r in ROWS]
    changed[2][8] = "अध्यक्ष"  # line 4: the BLA becomes president
    changed[9][11] = "9826012399"  # line 11: a new alternate phone
    s = import_file(session_factory, _write_csv(tmp_path / "e.csv", changed))
    assert (s.updated, s.unchanged, s.created) == (2, 2, 0)
    with session_factory() as db:
        kinds = db.scalars(select(Change.kind).order_by(Change.id.desc()).limit(2)).all()
        assert kinds == ["updated", "updated"]


def test_dry_run_writes_nothing(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    s = import_file(session_factory, FILES["xlsx"](tmp_path), options=ImportOptions(dry_run=True, batch_size=3))
    assert _counts(s) == EXPECTED and s.dry_run
    with session_factory() as db:
        for model in (Unit, Person, Membership, Change):
            assert db.scalar(select(func.count()).select_from(model)) == 0


def test_rejects_file_corrects_and_reimports(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    from typer.testing import CliRunner

    from warroom.cli import app

    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"WARROOM_DATABASE_URL": db_url, "WARROOM_STATE_DIR": str(tmp_path / "state")}
    rejects = tmp_path / "rejects.csv"
    res = CliRunner().invoke(app, ["directory", "import", str(FILES["utf8"](tmp_path)), "--rejects", str(rejects)],
                             env=env)
    assert res.exit_code == 0, res.output
    assert "line 6, column booth_no: booth number '4x' is not a number" in res.output
    with open(rejects, encoding="utf-8-sig") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["line"] for r in rejected] == ["6", "7", "8", "9", "10"]
    fixes = {"6": {"booth_no": "46"}, "7": {"name": "हरि"}, "8": {"phone": "9826012352"}, "9": {"booth_no": ""},
             "10": {"level": "विधानसभा"}}
    for r in rejected:
        r.update(fixes[r["line"]])
    with open(rejects, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rejected[0]))
        w.writeheader()
        w.writerows(rejected)
    res = CliRunner().invoke(app, ["directory", "import", str(rejects), "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert '"created": 5' in res.output and '"rejected": 0' in res.output


def test_unreadable_files_are_clear_errors_and_write_nothing(tmp_path: Path,
                                                             session_factory: sessionmaker[Session]) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(FileFormatError, match="bad.xlsx: not a readable .xlsx workbook"):
        import_file(session_factory, bad)
    missing = _write_csv(tmp_path / "nophone.csv", [])
    missing.write_text("नाम,स्तर\nराम,जिला\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"nophone.csv: missing column\(s\) phone"):
        import_file(session_factory, missing)
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(Unit)) == 0


def test_export_round_trip_and_formula_escaping(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    rows = [list(r) for r in ROWS[:4]] + [["भोपाल", "", "", "", "", "", "", "जिला", "=HYPERLINK(\"x\")", "@evil",
                                          "9826012353", "", ""]]
    import_file(session_factory, _write_csv(tmp_path / "d.csv", rows))
    buf = io.StringIO()
    with session_factory() as db:
        n = write_csv(export_rows(db), buf)
        xlsx_rows = write_xlsx(export_rows(db), tmp_path / "out.xlsx")
    assert n == xlsx_rows == 4  # one row per post
    text = buf.getvalue()
    assert "'=HYPERLINK" in text and "'@evil" in text and "'+919826012345" in text
    assert escape_cell("-1") == "'-1" and escape_cell("राम") == "राम"
    (tmp_path / "out.csv").write_text(text, encoding="utf-8")
    for path in (tmp_path / "out.csv", tmp_path / "out.xlsx"):
        again = import_file(session_factory, path)
        assert (again.rows, again.unchanged) == (4, 4), path.name


def test_formula_without_saved_value_and_two_phones_in_one_cell(tmp_path: Path,
                                                                session_factory: sessionmaker[Session]) -> None:
    """An XLSX formula cell never calculated is rejected as such (not as a missing name); two numbers in
    the phone cell become phone and alternate phone, with a warning."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HINDI)
    ws.append(["भोपाल", 152, "भोपाल उत्तर", "मंडल 1", "", "", "", "मंडल", "अध्यक्ष",
               '=HYPERLINK("http://x/1","राम")', "9826012345", "", ""])
    ws.append(["भोपाल", 152, "भोपाल उत्तर", "मंडल 1", "", "", "", "मंडल", "सदस्य", "श्याम",
               "98260-11125 / 94250-11126", "", ""])
    ws.append(["भोपाल", 152, "भोपाल उत्तर", "मंडल 1", "", "", "", "मंडल", "सदस्य", "मोहन",
               "98260-11127 / 94250-11128", "9425011129", ""])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    s = import_file(session_factory, path)
    assert (s.created, s.rejected, s.warned) == (1, 2, 1)
    first, third = s.rejections
    assert (first.line, first.column) == (2, "name")
    assert first.reason == 'name is a formula with no saved value: =HYPERLINK("http://x/1","राम")'
    assert (third.line, third.column) == (4, "phone") and "alternate phone is given too" in third.reason
    assert s.warnings[0][:2] == (3, "phone") and "+919826011125" in s.warnings[0][2]
    with session_factory() as session:
        person = session.scalars(select(Person)).one()
        assert (person.phone, person.alt_phone) == ("+919826011125", "+919425011126")
