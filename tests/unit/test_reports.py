"""Reports: exact figures per campaign, day (IST midnight), operator and shift (a call across a shift
boundary, off-shift time), AC (coverage, a mandal's calls); CSV/XLSX formula escaping; the CLI's --json.
Database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from accounts.service import add_user
from db import migrate
from db.campaigns import Attempt, AttemptState, Disposition, Target, TargetState
from db.engine import make_engine
from db.ivr import CallResult, IvrAnswer, IvrCall
from db.models import Unit, UnitKind
from db.operators import CallDisposition
from db.operators import Disposition as Kind
from db.operators import OperatorState as S
from db.tickets import Ticket, TicketStatus
from dialer.campaigns import Selection, create_campaign, progress
from operators.states import change
from reports.areas import ac_report
from reports.calls import campaign_report, day_report
from reports.export import FORMULA_START, escape_cell, to_csv, to_text, to_xlsx
from reports.model import Period, Report, ReportError
from reports.operators import operator_report, shift_report
from reports.shifts import DEFAULT_SHIFTS, OFF_SHIFT, ShiftError, parse_shifts, split
from tests.directory_builder import build
from warroom.cli import app
from warroom.settings import ReportSettings

IST = Period().tz
EVIL = "=HYPERLINK(\"http://x\",\"click\")"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST).astimezone(UTC)


def world(s: Session) -> dict[str, int]:
    """AC 112 (booths 1 and 2) and an empty AC 113; an IVR campaign to the booth committees (named like a
    formula) with attempts either side of IST midnight, an operator campaign to the mandal; tickets."""
    d = build(s)
    s.add(Unit(key="ac:113", kind=UnitKind.ac, name="Bhopal Dakshin", number=113,
               parent_id=d.units["district:bhopal"].id))
    d.people["b1_bla"].dnd = True  # booth 1 is left with one reachable contact: not covered
    ivr = create_campaign(s, name=EVIL, mode="ivr", selection=Selection(levels=("booth",)))
    mandal = create_campaign(s, name="mandal calls", mode="operator", selection=Selection(levels=("mandal",)))
    targets = list(s.scalars(select(Target).where(Target.campaign_id == ivr.id)))
    people = d.people
    states = {"b1_pres": (TargetState.done, None), "b1_bla": (TargetState.done, None),
              "b2_pres": (TargetState.removed, None), "b2_bla": (TargetState.queued, "window"),
              "mandal_pres": (TargetState.dialing, None)}
    for key, (state, rule) in states.items():
        t = next(t for t in targets if t.person_id == people[key].id)
        t.state, t.blocked_rule = state, rule

    def attempt(n: int, campaign: int, person: str, at: str, disposition: Disposition | None,
                talk: int | None = None, result: str | None = None) -> Attempt:
        target = s.scalar(select(Target).where(Target.campaign_id == campaign,
                                               Target.person_id == people[person].id))
        assert target is not None
        a = Attempt(channel_id=f"ch-{n}", action_id=f"ac-{n}", campaign_id=campaign, target_id=target.id,
                    person_id=people[person].id, phone=people[person].phone, trunk="lines",
                    state=AttemptState.ended if disposition else AttemptState.dialing, disposition=disposition,
                    talk_seconds=talk, result=result, created_at=utc(at))
        s.add(a)
        s.flush()
        return a

    a1 = attempt(1, ivr.id, "b1_pres", "2024-05-10T18:00", Disposition.answered, 60, "completed")   # 23:30 IST
    attempt(2, ivr.id, "b2_pres", "2024-05-10T18:45", Disposition.answered, 120, "partial")         # 00:15 IST
    attempt(3, ivr.id, "b2_bla", "2024-05-10T19:00", Disposition.no_answer)
    attempt(4, mandal.id, "mandal_pres", "2024-05-11T05:00", Disposition.busy)
    attempt(5, ivr.id, "mandal_pres", "2024-05-11T06:00", None)                                    # in flight
    call = IvrCall(channel_id="ch-1", direction="outbound", attempt_id=a1.id, campaign_id=ivr.id,
                   person_id=people["b1_pres"].id, booth_id=d.units["booth:112:1"].id, script="strong",
                   language="hi", result=CallResult.completed, started_at=utc("2024-05-10T18:00"))
    s.add(call)
    s.flush()
    for step, key, valid in (("q1", "1", True), ("q2", "9", False), ("q2", "2", True)):
        s.add(IvrAnswer(call_id=call.id, step=step, question=step, key=key, valid=valid,
                        at=utc("2024-05-10T18:05")))
    s.add_all([
        Ticket(booth_id=d.units["booth:112:1"].id, category="other", source="hotline",
               status=TicketStatus.resolved, created_at=utc("2024-05-10T18:29"),            # 23:59 IST
               resolved_at=utc("2024-05-10T18:31")),                                         # 00:01 IST
        Ticket(booth_id=d.units["booth:112:2"].id, category="other", source="hotline", call_id=call.id,
               created_at=utc("2024-05-11T04:00")),
        Ticket(category="other", source="operator", created_at=utc("2024-05-12T10:00"))])
    s.flush()
    return {"ivr": ivr.id, "mandal": mandal.id}


def test_campaign_report_counts_targets_attempts_and_results(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        report = campaign_report(s)
        live = progress(s, ids["ivr"])
    rows = report.as_dict()["rows"]
    assert [r["name"] for r in rows] == [EVIL, "mandal calls"]
    assert report.rows[0] == [ids["ivr"], EVIL, "ivr", "draft", 5, 3, 1, 1, 1, 4, 3, 2, 0.667, 1, 0, 0, 0, 0, 0,
                              180, 90.0, 1, 1, 0, 0]
    assert report.rows[1] == [ids["mandal"], "mandal calls", "operator", "draft", 1, 0, 1, 0, 0, 1, 1, 0, 0.0, 0,
                              1, 0, 0, 0, 0, 0, None, 0, 0, 0, 0]
    assert (rows[0]["targets"], rows[0]["done"], rows[0]["due"], rows[0]["blocked"]) == \
        (live["targets"], live["done"], live["due"], sum(live["blocked"].values()))
    with session_factory() as s:
        later = campaign_report(s, Period(since=date(2024, 5, 11)), campaign_id=ids["ivr"])
        with pytest.raises(ReportError, match="no campaign with id 999"):
            campaign_report(s, campaign_id=999)
    assert len(later.rows) == 1
    assert later.rows[0][9:13] == [3, 2, 1, 0.5]  # a2, a3, a5 were dialled on 11 May IST
    assert later.meta == {"since": "2024-05-11", "until": None, "timezone": "Asia/Kolkata",
                          "campaign_id": ids["ivr"]}


def test_days_are_local_days_across_ist_midnight(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        all_days = day_report(s)
        one = day_report(s, Period(since=date(2024, 5, 11), until=date(2024, 5, 11)))
        framed = day_report(s, Period(since=date(2024, 5, 9), until=date(2024, 5, 10)))
        ivr = day_report(s, campaign_id=ids["ivr"])
        utc_days = day_report(s, Period(timezone="UTC"))
    assert all_days.columns == ["day", "attempts", "answered", "answer_rate", "talk_minutes", "avg_talk_seconds",
                                "ivr_completed", "tickets_opened", "tickets_resolved"]
    assert all_days.rows == [["2024-05-10", 1, 1, 1.0, 1.0, 60.0, 1, 1, 0],
                             ["2024-05-11", 4, 1, 0.333, 2.0, 120.0, 0, 1, 1],
                             ["2024-05-12", 0, 0, None, 0.0, None, 0, 1, 0]]
    assert one.rows == [all_days.rows[1]]
    assert framed.rows == [["2024-05-09", 0, 0, None, 0.0, None, 0, 0, 0], all_days.rows[0]]
    # one campaign: its attempts, and only the tickets raised from its calls
    assert ivr.rows == [["2024-05-10", 1, 1, 1.0, 1.0, 60.0, 1, 0, 0],
                        ["2024-05-11", 3, 1, 0.5, 2.0, 120.0, 0, 1, 0]]
    assert utc_days.rows[0] == ["2024-05-10", 3, 2, 0.667, 3.0, 90.0, 1, 1, 1]


def test_period_checks() -> None:
    with pytest.raises(ReportError, match="ends \\(2024-05-01\\) before it starts"):
        Period(since=date(2024, 5, 2), until=date(2024, 5, 1))
    with pytest.raises(ReportError, match="unknown time zone 'Mars/Base'"):
        Period(timezone="Mars/Base")
    p = Period(since=date(2024, 5, 10), until=date(2024, 5, 10))
    assert (p.start, p.end) == (utc("2024-05-09T18:30"), utc("2024-05-10T18:30"))


def test_ac_report_coverage_calls_answers_tickets(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        report = ac_report(s)
        mandal = ac_report(s, campaign_id=ids["mandal"])
        later = ac_report(s, Period(since=date(2024, 5, 11)))
    # AC 112: committees of the AC, mandal, sector and two booths; booth 2 alone has two reachable people;
    # the mandal campaign's call counts through the mandal's committee (the mandal has no ac_id)
    assert report.rows == [[112, "Bhopal Uttar", "Bhopal", 2, 5, 1, 0.2, 5, 2, 0.5, 2, 1, 1],
                           [113, "Bhopal Dakshin", "Bhopal", 0, 0, 0, None, 0, 0, None, 0, 0, 0]]
    assert mandal.rows[0][7:] == [1, 0, 0.0, 0, 0, 0]
    assert later.rows[0][7:] == [4, 1, 0.333, 0, 1, 0]


def operators_world(s: Session) -> dict[str, int]:
    """asha on 10 May (IST): ready 08:30, a call 14:00-15:30 across the shift change, wrap-up, ready, a
    missed offer at 16:00, paused 16:00:20 until she signs out at 21:30. bina: ready from 20:00 on."""
    asha = add_user(s, "asha", "operator", "Operator-pass-1", display_name="Asha").id
    bina = add_user(s, "bina", "operator", "Operator-pass-2", display_name="Bina").id
    add_user(s, "sup", "supervisor", "Super-pass-01")
    steps = [(asha, S.ready, "08:30", False, None), (asha, S.on_call, "14:00", True, None),
             (asha, S.wrap_up, "15:30", True, None), (asha, S.ready, "15:31", True, None),
             (asha, S.on_call, "16:00", True, None), (asha, S.paused, "16:00:20", True, "missed a call"),
             (asha, S.signed_out, "21:30", False, None), (bina, S.ready, "20:00", False, None)]
    for user, to, at, by_system, reason in steps:
        change(s, user, to, by_system=by_system, reason=reason, channel_id="ch-9", at=ist(f"2024-05-10T{at}"))
    s.add_all([CallDisposition(user_id=asha, channel_id="ch-9", disposition=Kind.reached,
                               created_at=ist("2024-05-10T14:30")),
               CallDisposition(user_id=asha, channel_id="ch-8", disposition=Kind.not_available,
                               created_at=ist("2024-05-10T21:10"))])
    return {"asha": asha, "bina": bina}


def test_operator_report_time_in_states_calls_and_dispositions(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        operators_world(s)
    with session_factory() as s:
        report = operator_report(s, now=ist("2024-05-10T22:00"))
        day = operator_report(s, Period(since=date(2024, 5, 10), until=date(2024, 5, 10)),
                              now=ist("2024-05-12T00:00"))
        next_day = operator_report(s, Period(since=date(2024, 5, 11)), now=ist("2024-05-11T01:00"))
    assert report.columns[2:] == ["calls", "missed", "talk_seconds", "avg_talk_seconds", "reached",
                                  "wrong_number", "call_back", "opted_out", "not_available", "signed_in_seconds",
                                  "ready_seconds", "paused_seconds", "on_call_seconds", "wrap_up_seconds"]
    assert report.rows == [["asha", "Asha", 1, 1, 5400, 5400.0, 1, 0, 0, 0, 1, 46800, 21540, 19780, 5420, 60],
                           ["bina", "Bina", 0, 0, 0, None, 0, 0, 0, 0, 0, 7200, 7200, 0, 0, 0]]
    assert day.rows[0] == report.rows[0]
    assert day.rows[1][-5:] == [14400, 14400, 0, 0, 0]  # ready until the period's end (midnight IST)
    # the state at the period's start comes from the last change before it
    assert next_day.rows == [["asha", "Asha", 0, 0, 0, None, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                             ["bina", "Bina", 0, 0, 0, None, 0, 0, 0, 0, 0, 3600, 3600, 0, 0, 0]]


def test_shift_report_splits_time_at_the_shift_boundary(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        operators_world(s)
    with session_factory() as s:
        report = shift_report(s, parse_shifts(DEFAULT_SHIFTS), now=ist("2024-05-10T22:00"))
    assert report.columns[:3] == ["operator", "name", "shift"]
    assert report.rows == [
        # the 14:00-15:30 call counts in the morning (where it began); its time is split 3600 / 1800
        ["asha", "Asha", "morning", 1, 0, 3600, 3600.0, 1, 0, 0, 0, 0, 21600, 18000, 0, 3600, 0],
        ["asha", "Asha", "evening", 0, 1, 1800, None, 0, 0, 0, 0, 0, 21600, 1740, 17980, 1820, 60],
        ["asha", "Asha", OFF_SHIFT, 0, 0, 0, None, 0, 0, 0, 0, 1, 3600, 1800, 1800, 0, 0],
        ["bina", "Bina", "evening", 0, 0, 0, None, 0, 0, 0, 0, 0, 3600, 3600, 0, 0, 0],
        ["bina", "Bina", OFF_SHIFT, 0, 0, 0, None, 0, 0, 0, 0, 0, 3600, 3600, 0, 0, 0]]
    assert report.meta["shifts"] == "morning=09:00-15:00,evening=15:00-21:00"


def test_shift_specs_parse_split_and_fail_clearly() -> None:
    night = parse_shifts("day=09:00-21:00, night=21:00-09:00")
    assert [(x.name, x.start, x.end) for x in night] == [("day", 32400, 75600), ("night", 75600, 32400)]
    assert split(night, ist("2024-05-10T20:00"), ist("2024-05-11T10:00"), IST) == {"day": 7200.0,
                                                                                  "night": 43200.0}
    shifts = parse_shifts(DEFAULT_SHIFTS)
    assert split(shifts, ist("2024-05-10T08:00"), ist("2024-05-11T10:00"), IST) == \
        {OFF_SHIFT: 12 * 3600.0 + 3600, "morning": 6 * 3600.0 + 3600, "evening": 6 * 3600.0}
    assert parse_shifts("late=18:00-24:00")[0].end == 24 * 3600
    assert split(parse_shifts("all=00:00-24:00"), ist("2024-05-10T20:00"), ist("2024-05-11T01:00"), IST) == \
        {"all": 5 * 3600.0}
    bad = {"": "no shifts in ''",
           "morning 09:00-15:00": "shift 'morning 09:00-15:00': expected NAME=HH:MM-HH:MM",
           "morning=9-15": "shift 'morning=9-15': '9' is not a time HH:MM",
           "a=09:00-25:00": "shift 'a=09:00-25:00': '25:00' is not a time",
           "a=09:00-09:00": "shift 'a=09:00-09:00': it starts when it ends",
           "a=09:00-12:00,a=13:00-14:00": "shift 'a=13:00-14:00': there is already a shift named 'a'",
           "a=09:00-12:00,b=11:30-13:00": "shift 'b=11:30-13:00' overlaps shift 'a=09:00-12:00'",
           "a=20:00-10:00,b=09:00-12:00": "shift 'b=09:00-12:00' overlaps shift 'a=20:00-10:00'",
           "off-shift=01:00-02:00": "'off-shift' is the name of the time outside every shift"}
    for spec, message in bad.items():
        with pytest.raises(ShiftError) as err:
            parse_shifts(spec)
        assert message in str(err.value), spec
    with pytest.raises(ValidationError, match="shift 'x=1'"):
        ReportSettings(shifts="x=1")
    assert ReportSettings().shifts == DEFAULT_SHIFTS


def sample() -> Report:
    return Report("Sheet: [x]", ["name", "n"], [["=1+2", -5], ["+x", 1.5], ["@a", None], ["\tt", 0], ["-y", 2],
                                                ["ok", 3], ["\rz", 4], ["'=kept", 5]])


def test_csv_escapes_formula_text_and_keeps_numbers() -> None:
    text = to_csv(sample())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["name", "n"], ["'=1+2", "-5"], ["'+x", "1.5"], ["'@a", ""], ["'\tt", "0"], ["'-y", "2"],
                    ["ok", "3"], ["'\rz", "4"], ["'=kept", "5"]]


def test_xlsx_has_no_formulas_a_bold_frozen_header_and_numbers() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(sample())))
    ws = wb.active
    assert ws is not None
    assert ws.title == "Sheet   x "
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert [c.value for c in ws[1]] == ["name", "n"] and all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    # text kept as it was (XML reads a bare carriage return back as a line feed)
    assert values == [["=1+2", -5], ["+x", 1.5], ["@a", None], ["\tt", 0], ["-y", 2], ["ok", 3], ["\nz", 4],
                      ["'=kept", 5]]
    assert ws["A2"].data_type == "s" and ws["A2"].quotePrefix and not ws["A7"].quotePrefix
    assert ws["B2"].data_type == "n"
    assert ws.column_dimensions["A"].width == 8
    odd = openpyxl.load_workbook(io.BytesIO(to_xlsx(Report("t", ["c"], [["a\x01b\x1f"]])))).active
    assert odd is not None and odd["A2"].value == "ab"  # control characters XLSX cannot hold are dropped


@given(st.text())
def test_escaped_csv_cells_never_start_like_a_formula(value: str) -> None:
    escaped = escape_cell(value)
    assert not escaped.startswith(FORMULA_START)
    assert escaped == value or escaped == "'" + value
    cell = list(csv.reader(io.StringIO(to_csv(Report("t", ["c"], [[value]])), newline="")))[1]
    assert cell == [escaped] if value else cell in ([], [""])


def test_text_table_aligns_numbers_right() -> None:
    text = to_text(Report("T", ["name", "n"], [["a", 5], ["bbb", 10], ["c", None]], {"since": "2024-05-10"}))
    assert text.splitlines() == ["T (since 2024-05-10)", "name   n", "----  --", "a      5", "bbb   10", "c"]
    assert to_text(Report("T", ["x"], [])).splitlines()[-1] == "(no rows)"


def cli(tmp_path: Path, *args: str) -> Any:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st")}
    return CliRunner().invoke(app, list(args), env=env)


def test_cli_reports_as_json_files_and_clear_errors(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    migrate.upgrade(engine)
    with sessionmaker(engine).begin() as s:
        world(s)
        operators_world(s)
    engine.dispose()

    res = cli(tmp_path, "report", "day", "--since", "2024-05-10", "--until", "2024-05-11", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["meta"] == {"since": "2024-05-10", "until": "2024-05-11", "timezone": "Asia/Kolkata",
                            "campaign_id": None}
    assert [(r["day"], r["attempts"], r["answered"], r["tickets_resolved"]) for r in data["rows"]] == \
        [("2024-05-10", 1, 1, 0), ("2024-05-11", 4, 1, 1)]

    res = cli(tmp_path, "report", "campaign", "--campaign", "mandal calls", "--json")
    assert res.exit_code == 0, res.output
    assert [(r["name"], r["attempts"], r["busy"]) for r in json.loads(res.stdout)["rows"]] == [("mandal calls", 1, 1)]

    res = cli(tmp_path, "report", "shift", "--since", "2024-05-10", "--until", "2024-05-10", "--json",
              "--shifts", "all=00:00-24:00")
    assert res.exit_code == 0, res.output
    assert [(r["operator"], r["shift"], r["signed_in_seconds"]) for r in json.loads(res.stdout)["rows"]] == \
        [("asha", "all", 46800), ("bina", "all", 14400)]

    out_csv, out_xlsx = tmp_path / "c.csv", tmp_path / "c.xlsx"
    res = cli(tmp_path, "report", "campaign", "--csv", str(out_csv), "--xlsx", str(out_xlsx))
    assert res.exit_code == 0, res.output
    assert f"2 rows written to {out_csv}" in res.output
    assert list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))[1][:2] == ["1", "'" + EVIL]
    ws = openpyxl.load_workbook(out_xlsx).active
    assert ws is not None and ws["B2"].value == EVIL and ws["B2"].data_type == "s"

    res = cli(tmp_path, "report", "ac")
    assert res.exit_code == 0 and "Bhopal Uttar" in res.output and res.output.startswith("Assembly constituencies")

    for args, message in [(("day", "--since", "10/05/2024"), "--since '10/05/2024': expected YYYY-MM-DD"),
                          (("day", "--since", "2024-05-11", "--until", "2024-05-10"), "before it starts"),
                          (("ac", "--timezone", "Mars/Base"), "unknown time zone 'Mars/Base'"),
                          (("day", "--campaign", "nope"), "no campaign 'nope'"),
                          (("shift", "--shifts", "a=09:00-12:00,b=11:00-13:00"), "overlaps shift")]:
        res = cli(tmp_path, "report", *args)
        assert res.exit_code == 1 and message in res.output, (args, res.output)
    res = cli(tmp_path, "report", "operator", "--help")
    assert res.exit_code == 0 and "--since" in res.output and "--xlsx" in res.output
