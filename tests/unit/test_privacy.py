"""Erasure and retention (issue 13, finding 8), on SQLite and PostgreSQL: after a person is erased no copy of
their numbers (in any writing) or their name is left in any text column of any table, in the recordings or
in Asterisk's CDR files; a retention pass removes what is due, and its dry run says the same and changes
nothing."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from accounts.service import add_user
from audit.log import Actor
from db import migrate
from db.audit import AuditEntry
from db.campaigns import Attempt
from db.engine import Database, make_engine
from db.ivr import IvrCall, IvrRecording, QueueCall
from db.models import Person
from db.operators import CallDisposition, Disposition
from dialer.campaigns import Selection, create_campaign
from directory.outcomes import Outcome, apply_outcome
from privacy.job import RetentionJob
from privacy.phones import PhonePattern
from privacy.retention import RetentionPolicy
from privacy.service import PrivacyService
from tests import directory_builder
from tests.waiting import until
from tickets.service import open_ticket
from warroom.cli import app as cli

NUMBER, ALT, SHARED_BY = "+919826000003", "+919826000013", "b2_bla"
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
MASTER = ('"","{src}","07552551234","warroom-inbound","""Member"" <{src}>","PJSIP/lines-0000002a","","Stasis",'
          '"warroom,hotline,07552551234","{start}","{start}","{start}",26,26,"ANSWERED","DOCUMENTATION",'
          '"{uid}",""\n')
CUSTOM = '"{uid}","{uid}","PJSIP/lines-0000002a","","{src}","07552551234","warroom-inbound","ANSWERED",' \
         '"{start}","{start}","{start}","26","26","",""\n'


def write_cdr(log_dir: Path, rows: list[tuple[str, str, str]]) -> list[Path]:
    """Asterisk's two CDR files with ``(uniqueid, caller, start)`` records, as Asterisk writes them."""
    paths = [log_dir / "cdr-csv" / "Master.csv", log_dir / "cdr-custom" / "warroom.csv"]
    for path, line in zip(paths, (MASTER, CUSTOM), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line.format(uid=u, src=s, start=t) for u, s, t in rows))
    return paths


def full_scan(engine: Engine, *needles: re.Pattern[str] | str) -> list[str]:
    """Every cell of every table in the database (reflected, so tables no model knows are searched too)
    whose text holds one of ``needles``."""
    meta = MetaData()
    meta.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                for column, value in zip(table.columns, row, strict=True):
                    text = str(value)
                    for needle in needles:
                        hit = needle.search(text) if isinstance(needle, re.Pattern) else needle in text
                        if hit:
                            found.append(f"{table.name}.{column.name}: {text[:80]}")
    return found


def in_files(root: Path, pattern: re.Pattern[str]) -> list[str]:
    return [str(p) for p in root.rglob("*")
            if p.is_file() and pattern.search(p.read_bytes().decode("utf-8", "replace"))]


def fill(s: Session, recordings: Path) -> dict[str, Any]:
    """A member with calls, a voice note, a ticket, an operator's note, a campaign target and feed entries; a
    second member who gave the same number as their alternate; and someone else's call."""
    built = directory_builder.build(s)
    person, sharer = built.people["b1_pres"], built.people[SHARED_BY]
    sharer.alt_phone = NUMBER
    campaign = create_campaign(s, name="booths", mode="ivr", selection=Selection(levels=("booth",)))
    op = add_user(s, "asha", "operator", "Operator-pass-1")
    s.add_all([Attempt(channel_id="wr-1", action_id="wr-1", campaign_id=campaign.id, person_id=person.id,
                       phone=NUMBER, trunk="lines", detail=f"dialed {NUMBER}"),
               Attempt(channel_id="wr-2", action_id="wr-2", campaign_id=campaign.id, person_id=person.id, phone=ALT,
                       trunk="lines"),
               Attempt(channel_id="wr-3", action_id="wr-3", campaign_id=campaign.id,
                       person_id=built.people["b2_pres"].id, phone="+919826000005", trunk="lines")])
    call = IvrCall(channel_id="in-1", direction="inbound", person_id=person.id, caller_phone="09826000003",
                   script="hotline", language="hi", booth_id=built.units["booth:112:1"].id)
    s.add(call)
    s.flush()
    rec = IvrRecording(call_id=call.id, step="note", name=f"warroom/{call.id}-note-abc", format="wav", state="done")
    s.add(rec)
    s.add(QueueCall(channel_id="in-1", call_id=call.id, person_id=person.id, caller_phone=NUMBER,
                    note="Hotline: b1_pres (booth president, School 1)"))
    s.add(CallDisposition(user_id=op.id, channel_id="in-1", person_id=person.id, disposition=Disposition.call_back,
                          notes="asked to call 98260-00003 after six"))
    s.flush()
    ticket = open_ticket(s, category="material_shortage", source="hotline", booth_id=call.booth_id,
                         reporter_id=person.id, reporter_phone=NUMBER, call_id=call.id, recording_id=rec.id,
                         description="no ink; b1_pres says ring +91 98260 00003")
    apply_outcome(s, person.id, Outcome.wrong_number, phone=NUMBER)  # the feed now holds the alternate
    (recordings / "warroom").mkdir(parents=True, exist_ok=True)
    (recordings / f"{rec.name}.wav").write_bytes(b"RIFF....voice")
    (recordings / "warroom" / "other.wav").write_bytes(b"RIFF....other")
    return {"person": person.id, "sharer": sharer.id, "ticket": ticket.id}


NEEDLES = [PhonePattern.of(NUMBER).regex, PhonePattern.of(ALT).regex]


async def test_an_erased_person_leaves_no_copy_anywhere(database: Database, db_engine: Engine,
                                                        session_factory: sessionmaker[Session],
                                                        tmp_path: Path) -> None:
    recordings, logs = tmp_path / "recordings", tmp_path / "log"
    recordings.mkdir()
    with session_factory.begin() as s:
        ids = fill(s, recordings)
    cdr = write_cdr(logs, [("1.1", "09826000003", "2026-07-01 10:00:00"), ("1.2", "+919826000013",
                                                                            "2026-07-01 11:00:00"),
                           ("1.3", "9425098765", "2026-07-01 12:00:00")])
    inodes = [p.stat().st_ino for p in cdr]
    assert full_scan(db_engine, *NEEDLES) and in_files(logs, NEEDLES[0]), "the test's data holds the numbers"
    privacy = PrivacyService(database, recordings_dir=recordings, cdr_dir=logs)
    actor = Actor("adm", 1, "192.0.2.1")

    preview = await privacy.erase("098260-00003", dry_run=True, actor=actor)  # any writing of the number
    assert preview["dry_run"] is True and preview["recordings"] == 1 and preview["cdr_records"] == 4
    assert preview["posts"] == 1 and preview["alternate_phones"] == 1 and preview["person_id"] == ids["person"]
    with session_factory() as s:
        assert s.get(Person, ids["person"]) is not None and not s.scalars(select(AuditEntry)).all()
    assert in_files(logs, NEEDLES[0]) and (recordings / "warroom").exists()

    done = await privacy.erase("098260-00003", actor=actor)
    assert done["dry_run"] is False and done["recording_files"] == 1 and done["cdr_records"] == 4
    left = full_scan(db_engine, *NEEDLES, "b1_pres")
    assert left == [], left
    assert in_files(logs, NEEDLES[0]) == [] and in_files(logs, NEEDLES[1]) == []
    assert in_files(recordings, re.compile("voice")) == [] and (recordings / "warroom" / "other.wav").exists()
    assert [p.stat().st_ino for p in cdr] == inodes, "rewritten in place: Asterisk goes on appending to them"
    for path in cdr:
        rows = list(csv.reader(path.open()))
        assert len(rows) == 3 and any("9425098765" in c for c in rows[2]), "other callers' records stay"
        assert any("XXXXXX0003" in c for c in rows[0]), "the last four digits stay"
    with session_factory() as s:
        attempts = {a.channel_id: a for a in s.scalars(select(Attempt))}
        assert (attempts["wr-1"].phone, attempts["wr-2"].phone) == ("XXXXXX0003", "XXXXXX0013")
        assert attempts["wr-1"].person_id is None and attempts["wr-3"].phone == "+919826000005"
        assert s.scalars(select(IvrRecording)).all() == []
        sharer = s.get(Person, ids["sharer"])
        assert sharer is not None and sharer.alt_phone is None and sharer.phone == "+919826000006"
        note = s.scalars(select(CallDisposition)).one()
        assert note.notes is None and note.person_id is None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "person.erase")).one()
        assert (entry.actor, entry.target, entry.address) == ("adm", f"person:{ids['person']}", "192.0.2.1")
        assert entry.detail["recordings"] == 1 and entry.detail["cdr_records"] == 4


async def test_erasing_by_id_and_refusals(database: Database, session_factory: sessionmaker[Session],
                                          tmp_path: Path) -> None:
    with session_factory.begin() as s:
        built = directory_builder.build(s)
        pid = built.people["b2_pres"].id
    privacy = PrivacyService(database)
    with pytest.raises(Exception, match="neither a directory id nor a phone"):
        await privacy.erase("not a number")
    with pytest.raises(Exception, match="no person with id 999999"):
        await privacy.erase("999999")
    with pytest.raises(Exception, match="nothing is held about that number"):
        await privacy.erase("9425098765")
    done = await privacy.erase(str(pid))
    assert done["person_id"] == pid and done["posts"] == 1
    with session_factory() as s:
        assert s.get(Person, pid) is None


async def test_retention_dry_run_says_what_the_real_pass_removes(database: Database, db_engine: Engine,
                                                                 session_factory: sessionmaker[Session],
                                                                 tmp_path: Path) -> None:
    recordings, logs = tmp_path / "recordings", tmp_path / "log"
    recordings.mkdir()
    with session_factory.begin() as s:
        fill(s, recordings)
        old_call = s.scalars(select(IvrCall)).one()
        s.add(IvrRecording(call_id=old_call.id, step="fresh", name="warroom/fresh", format="wav", state="done",
                           at=NOW - timedelta(days=10)))
        for rec in s.scalars(select(IvrRecording).where(IvrRecording.step == "note")):
            rec.at = NOW - timedelta(days=100)
        for row in [*s.scalars(select(Attempt)), *s.scalars(select(QueueCall))]:
            setattr(row, "created_at" if isinstance(row, Attempt) else "entered_at", NOW - timedelta(days=60))
        old_call.started_at = NOW - timedelta(days=60)
        s.add(Attempt(channel_id="wr-new", action_id="wr-new", phone="+919826000099", trunk="lines",
                      created_at=NOW - timedelta(days=1)))
    (recordings / "warroom" / "fresh.wav").write_bytes(b"RIFF")
    write_cdr(logs, [("1.1", "09826000003", "2026-05-01 10:00:00"), ("1.2", "9425098765", "2026-07-31 10:00:00")])
    policy = RetentionPolicy(recordings_days=90, phones_days=180, election_date=date(2026, 1, 15))
    privacy = PrivacyService(database, recordings_dir=recordings, cdr_dir=logs, policy=policy, clock=lambda: NOW)
    before = full_scan(db_engine, re.compile(r"\+91982600000\d"))

    dry = await privacy.apply_retention(dry_run=True)
    expected = {"recordings": 1, "phones:attempts": 3, "phones:ivr_calls": 1, "phones:queue_calls": 1,
                "cdr_records": 2}
    assert {k: dry.get(k) for k in expected} == expected, dry
    assert dry["phones_cutoff"] == "2026-07-14T00:00:00+00:00"
    assert full_scan(db_engine, re.compile(r"\+91982600000\d")) == before, "a dry run changes nothing"
    assert (recordings / "warroom").exists() and len(list((recordings / "warroom").iterdir())) == 3
    assert "09826000003" in (logs / "cdr-csv" / "Master.csv").read_text()

    real = await privacy.apply_retention(actor=Actor.cli())
    assert {k: real.get(k) for k in expected} == expected and real["recording_files"] == 1
    with session_factory() as s:
        phones = {a.channel_id: a.phone for a in s.scalars(select(Attempt))}
        assert phones == {"wr-1": "XXXXXX0003", "wr-2": "XXXXXX0013", "wr-3": "XXXXXX0005",
                          "wr-new": "+919826000099"}, "newer than the cutoff: kept"
        assert [r.step for r in s.scalars(select(IvrRecording))] == ["fresh"]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.apply")).one()
        assert entry.actor.startswith("cli:") and entry.detail["recordings"] == 1
    assert sorted(p.name for p in (recordings / "warroom").iterdir()) == ["fresh.wav", "other.wav"]
    for name in ("cdr-csv/Master.csv", "cdr-custom/warroom.csv"):
        text = (logs / name).read_text()
        assert "09826000003" not in text and "9425098765" in text, "records after the cutoff stay"
    again = await privacy.apply_retention(dry_run=True)
    assert not any(k.startswith("phones:") or k in ("recordings", "cdr_records") for k in again), again


async def test_without_an_election_date_phones_are_kept(database: Database,
                                                        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        s.add(Attempt(channel_id="wr-1", action_id="wr-1", phone="+919826000003", trunk="lines",
                      created_at=NOW - timedelta(days=900)))
    done = await PrivacyService(database, clock=lambda: NOW).apply_retention()
    assert done["phones_cutoff"] is None
    with session_factory() as s:
        assert s.scalars(select(Attempt.phone)).one() == "+919826000003"


def test_the_number_in_every_writing() -> None:
    p = PhonePattern.of("+919826012345")
    for text in ("+919826012345", "919826012345", "09826012345", "9826012345", "+91 98260 12345", "98260-12345",
                 '"" <+919826012345>', "PJSIP/+919826012345@lines", "0091 9826012345"):
        assert p.scrub(text).count("XXXXXX2345") == 1, text
    for other in ("19826012345", "98260123456", "9826012346"):
        assert not p.found(other), other


class Prompts:
    def __init__(self) -> None:
        self.asked: list[float] = []

    def prune(self, unused_for: float) -> int:
        self.asked.append(unused_for)
        return 3


async def test_the_daily_job_runs_the_retention_pass_until_stopped(database: Database) -> None:
    prompts = Prompts()
    job = RetentionJob(PrivacyService(database, clock=lambda: NOW), every=0.05, first_after=0, prompts=prompts,
                       prompt_days=2)
    job.start()
    try:
        await until(lambda: job.runs >= 2, 5, "two retention passes")
    finally:
        await job.stop()
    assert prompts.asked[:2] == [2 * 24 * 3600] * 2  # the prompts no call played for two days, each pass
    assert (await job.run_once())["prompts_deleted"] == 3
    runs = job.runs
    await asyncio.sleep(0.2)  # proving that a stopped job runs no more
    assert job.runs == runs
    with database.sessions() as s:
        assert {e.actor for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.apply"))} == \
            {"system"}


def test_people_erase_and_retention_apply_on_the_command_line(tmp_path: Path) -> None:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st"),
           "WARROOM_ASTERISK__SANDBOX_CACHE": str(tmp_path / "cache"),
           "WARROOM_PRIVACY__ELECTION_DATE": "2020-01-01"}
    runner = CliRunner()
    engine = make_engine(env["WARROOM_DATABASE_URL"])
    migrate.upgrade(engine)
    with sessionmaker(engine).begin() as s:
        directory_builder.build(s)
        s.add(Attempt(channel_id="wr-1", action_id="wr-1", phone="+919826000004", trunk="lines"))
    engine.dispose()
    res = runner.invoke(cli, ["people", "erase", "9826000004", "--dry-run"], env=env)
    assert res.exit_code == 0 and "would erase" in res.output and "posts" in res.output, res.output
    res = runner.invoke(cli, ["people", "erase", "9826000004"], env=env, input="n\n")
    assert res.exit_code == 1 and "Aborted" in res.output
    res = runner.invoke(cli, ["people", "erase", "9826000004", "--yes", "--json"], env=env)
    assert res.exit_code == 0 and json.loads(res.output)["masked:attempts"] == 1
    res = runner.invoke(cli, ["people", "erase", "9826000004", "--yes"], env=env)
    assert res.exit_code == 1 and "nothing is held about that number" in res.output
    res = runner.invoke(cli, ["retention", "apply", "--dry-run", "--json"], env=env)
    assert res.exit_code == 0 and json.loads(res.output)["policy"]["election_date"] == "2020-01-01"
    res = runner.invoke(cli, ["audit", "--json"], env=env)
    assert [r["action"] for r in json.loads(res.output)] == ["person.erase"], "dry runs change nothing"
