"""The use cases the pages added to the services, on SQLite and PostgreSQL: a campaign counted without
creating it (the count equals the targets created, the calling rules' reasons), clones, targets filtered and
exported, a person corrected through the change feed (and the dialer's sync following), instructions
retired, a password reset, scripts checked and saved into the running library, and import jobs. Every change
is in the audit log, without personal data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from accounts.service import UserService, add_user
from audit.log import Actor
from core.errors import Conflict, Invalid, NotFound, Unavailable
from db.audit import AuditEntry
from db.campaigns import Attempt, AttemptState, Disposition, Target, TargetState
from db.engine import Database
from db.ivr import IvrAnswer, IvrCall
from db.jobs import ImportJob, JobState
from db.models import Change, Membership, MemberStatus, Person, Unit, utcnow
from dialer.rules import CallingRules
from dialer.service import CampaignService, CampaignSpec
from dialer.sync import DirectorySync
from dialer.targets import TargetFilter
from directory.people import PersonEdit
from directory.service import DirectoryService
from directory.status import StatusRules
from hotline.lookup import latest_instruction
from hotline.service import InstructionService
from ivr_scripts.library import ScriptLibrary
from ivr_scripts.problems import ScriptInvalid
from ivr_scripts.service import ScriptService
from reports.export import to_csv
from reports.service import ReportService
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from tests import directory_builder
from tests.directory_builder import Dir
from tests.waiting import until

NOON_IST = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 12:00 in Asia/Kolkata
NIGHT_IST = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # 23:00 in Asia/Kolkata
ADMIN = Actor("meera", 1, "127.0.0.1")


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Database]:
    database = Database(db_engine)
    yield database
    database.close()


@pytest.fixture
def built(db: Database) -> Dir:
    with db.sessions.begin() as s:
        return directory_builder.build(s)


def audit(db: Database) -> list[tuple[str, str | None, dict[str, Any]]]:
    with db.sessions() as s:
        return [(a.action, a.target, a.detail) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def campaigns(db: Database, clock: datetime = NOON_IST) -> CampaignService:
    return CampaignService(db, defaults=CallingRules(), clock=lambda: clock)


async def test_the_count_equals_the_targets_created_and_says_who_the_rules_hold_back_and_why(
        db: Database, built: Dir) -> None:
    with db.sessions.begin() as s:
        s.execute(update(Person).where(Person.id == built.people["b1_bla"].id).values(dnd=True))
        s.execute(update(Person).where(Person.id == built.people["b2_bla"].id).values(
            status=MemberStatus.wrong_number))
        b2 = s.get(Person, built.people["b2_pres"].id)
        assert b2 is not None
        s.add(Attempt(channel_id="c1", action_id="a1", person_id=b2.id, phone=b2.phone, trunk="lines",
                      state=AttemptState.ended, disposition=Disposition.no_answer,
                      created_at=NOON_IST - timedelta(minutes=5)))
    svc = campaigns(db)
    spec = CampaignSpec(name="x", units=["ac:112"], levels=["booth", "mandal"])
    reach = await svc.reach(spec)
    assert (reach["people"], reach["committees"], reach["held_back"]) == (5, 2, 3), "mandal_pres: at booth 2"
    assert {r["rule"]: r["count"] for r in reach["reasons"]} == {"dnd": 1, "status": 1, "gap": 1}
    assert next(r for r in reach["reasons"] if r["rule"] == "status")["reason"] == "marked wrong number"
    assert reach["calls_from"] is None, "the window is open at noon"
    assert reach["by_status"] == {"strong": 2, "weak": 3, "swing": 0, "unknown": 0}
    assert set(reach["samples"]) == {"strong", "weak"}
    created = await svc.create(spec)
    assert created["progress"]["targets"] == reach["people"]
    # at night, calls begin at the next opening of the window; nobody is held back by the window itself
    late = await campaigns(db, NIGHT_IST).reach(spec)
    assert late["calls_from"] is not None and late["calls_from"].startswith("2026-11-21T09:00")
    assert {r["rule"] for r in late["reasons"]} == {"dnd", "status"}, "the gap has passed by then"
    # the silence period of the AC, and a campaign that ends before it could call
    with db.sessions.begin() as s:
        s.execute(update(Unit).where(Unit.key == "ac:112").values(poll_end_at=NOON_IST + timedelta(hours=10)))
    silent = await svc.reach(CampaignSpec(name="y", units=["ac:112"], levels=["booth"]))
    assert {r["rule"]: r["count"] for r in silent["reasons"]} == {"dnd": 1, "status": 1, "silence": 3}
    ended = await campaigns(db, NIGHT_IST).reach(CampaignSpec(name="z", ends_at=NIGHT_IST + timedelta(hours=1)))
    assert ended["ends_before_calling"] is True
    # the count refuses what creation refuses (but the name)
    for bad, field in ((CampaignSpec(name="", units=["ac:404"]), "units"),
                       (CampaignSpec(name="", statuses=["hot"]), "statuses"),
                       (CampaignSpec(name="", window="23:00-23:30"), "window")):
        with pytest.raises(Invalid) as refused:
            await svc.reach(bad)
        assert refused.value.field == field, refused.value


async def test_a_clone_has_the_settings_and_its_own_targets_and_is_audited(db: Database, built: Dir) -> None:
    svc = campaigns(db)
    first = await svc.create(CampaignSpec(name="first", mode="operator", units=["mandal:1"], posts=["President"],
                                          window="10:00-18:00", timezone="Asia/Kolkata", priority=7,
                                          retry=["busy=2/5m"], use_alternate=False,
                                          starts_at=datetime(2030, 1, 1, 4, tzinfo=UTC)))
    spec = await svc.spec_of("first")
    assert (spec.units, spec.posts, spec.window_start, spec.priority) == (["mandal:1"], ["President"], "10:00", 7)
    assert "busy=2/5m" in spec.retry and "no_answer=3/30m" in spec.retry
    second = await svc.clone("first", "second", ADMIN)
    same = ("mode", "selection", "rules", "retry", "use_alternate", "priority", "starts_at", "scripts", "fields")
    assert {k: first[k] for k in same} == {k: second[k] for k in same}
    assert second["progress"]["targets"] == first["progress"]["targets"] == 3
    assert ("campaign.clone", f"campaign:{second['id']}", {"from": first["id"]}) in audit(db)
    with pytest.raises(Invalid, match="already exists"):
        await svc.clone("first", "second", ADMIN)


async def test_targets_are_searched_filtered_paged_and_exported_with_their_answers(db: Database, built: Dir) -> None:
    svc = campaigns(db)
    c = await svc.create(CampaignSpec(name="booths", units=["ac:112"], levels=["booth"]))
    with db.sessions.begin() as s:
        rows = {t.person_id: t for t in s.scalars(select(Target).where(Target.campaign_id == c["id"]))}
        b1 = rows[built.people["b1_pres"].id]
        b1.state, b1.last_disposition, b1.tries = TargetState.done, "answered", 1
        bla = rows[built.people["b1_bla"].id]
        bla.blocked_rule, bla.blocked_by = "window", "window: outside the calling window"
        s.get(Person, built.people["b2_bla"].id).name = "=HYPERLINK(\"x\")"  # type: ignore[union-attr]
        attempt = Attempt(channel_id="ch-1", action_id="ac-1", campaign_id=c["id"], target_id=b1.id,
                          person_id=b1.person_id, phone="+919826000003", trunk="lines", state=AttemptState.ended,
                          disposition=Disposition.answered, talk_seconds=40)
        s.add(attempt)
        s.flush()
        call = IvrCall(channel_id="ch-1", direction="outbound", attempt_id=attempt.id, campaign_id=c["id"],
                       person_id=b1.person_id, script="strong", language="hi")
        s.add(call)
        s.flush()
        s.add(IvrAnswer(call_id=call.id, step="ready", question="Booth ready", key="1", value="yes"))
        s.add(IvrAnswer(call_id=call.id, step="ready", question="Booth ready", key="7", valid=False))
    page = await svc.targets("booths")
    assert page["targets"]["total"] == 5 and page["choices"]["rules"] == ["window"]
    assert page["choices"]["acs"] == [{"id": built.units["ac:112"].id, "name": "112 Bhopal Uttar"}]
    found = {flt: [r["name"] for r in (await svc.targets("booths", flt))["targets"]["rows"]] for flt in (
        TargetFilter(search="B1_"), TargetFilter(search="0006"), TargetFilter(disposition="none"),
        TargetFilter(disposition="answered"), TargetFilter(rule="window"), TargetFilter(state="done"),
        TargetFilter(ac=built.units["ac:112"].id), TargetFilter(ac=built.units["mandal:1"].id))}
    everyone = ["mandal_pres", "b1_pres", "b1_bla", "b2_pres", "=HYPERLINK(\"x\")"]
    assert list(found.values()) == [["b1_pres", "b1_bla"], ["=HYPERLINK(\"x\")"],
                                    [n for n in everyone if n != "b1_pres"], ["b1_pres"], ["b1_bla"], ["b1_pres"],
                                    everyone, []]
    paged = (await svc.targets("booths", page=2))["targets"]
    assert paged["page"] == 1 and paged["pages"] == 1, "a page past the last shows the last"
    detail = await svc.target("booths", b1.id)
    [tried] = detail["attempts"]
    assert (tried["disposition"], tried["talk_seconds"], detail["booth_status"]) == ("answered", 40, "strong")
    assert tried["answers"] == [{"question": "Booth ready", "key": "1", "value": "yes"}]
    with pytest.raises(NotFound):
        await svc.target("booths", 999)
    report = await ReportService(db, timezone="Asia/Kolkata", shifts=parse_shifts(DEFAULT_SHIFTS)).targets(
        "booths", TargetFilter(ac=built.units["ac:112"].id))
    table = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [r["name"] for r in table] == [*everyone[:-1], "'=HYPERLINK(\"x\")"], "formula-safe"
    assert table[1]["answers"] == "Booth ready: yes" and table[1]["ac"] == "112 Bhopal Uttar"


def directory(db: Database, tmp_path: Path | None = None) -> DirectoryService:
    return DirectoryService(db, rules=StatusRules("PARTY"), work_dir=tmp_path)


async def test_a_persons_page_and_corrections_through_the_change_feed_that_the_dialer_follows(
        db: Database, built: Dir) -> None:
    svc = directory(db)
    c = await campaigns(db).create(CampaignSpec(name="booths", units=["ac:112"], levels=["booth"]))
    person = built.people["b1_pres"]
    with db.sessions.begin() as s:
        s.execute(update(Person).where(Person.id == person.id).values(status=MemberStatus.wrong_number,
                                                                      phone_invalid_at=utcnow()))
        s.execute(update(Target).where(Target.person_id == person.id).values(
            state=TargetState.done, last_disposition="invalid_number", tries=1))
    sync = DirectorySync(db)
    await sync.start()
    await sync.stop()
    page = await svc.person(person.id)
    assert page["phone_invalid"] and page["status"] == "wrong_number"
    assert [p["unit"] for p in page["posts"]] == ["1 School 1"]
    with pytest.raises(Invalid) as taken:
        await svc.edit_person(person.id, PersonEdit(phone="+91 98260 00004"), ADMIN)
    assert taken.value.field == "phone" and "already person" in taken.value.message
    for edit, field in ((PersonEdit(phone="12345"), "phone"), (PersonEdit(alt_phone="98260 00003"), "alt_phone"),
                        (PersonEdit(language="fr"), "language"), (PersonEdit(remove_posts=(999,)), "remove_posts")):
        with pytest.raises(Invalid) as refused:
            await svc.edit_person(person.id, edit, ADMIN)
        assert refused.value.field == field
    changed = await svc.edit_person(person.id, PersonEdit(phone="098260-77001", alt_phone="", language="en"), ADMIN)
    assert changed == ["phone", "alt_phone", "language", "status"]
    page = await svc.person(person.id)
    assert (page["phone"], page["alt_phone"], page["language"], page["status"], page["phone_invalid"]) == \
        ("+919826077001", None, "en", "active", False)
    # the dialer's sync: the corrected person's unanswered target starts again
    assert sync.step()
    with db.sessions() as s:
        target = s.scalars(select(Target).where(Target.person_id == person.id)).one()
        assert (target.state, target.tries_by) == (TargetState.queued, {})
        mandal = s.scalars(select(Membership).where(Membership.person_id == built.people["mandal_pres"].id,
                                                    Membership.post == "member")).one()
    # taken away from a post: the campaign that chose them for it lets them go
    await svc.edit_person(built.people["mandal_pres"].id, PersonEdit(remove_posts=(mandal.id,)), ADMIN)
    assert sync.step()
    with db.sessions() as s:
        gone = s.scalars(select(Target).where(Target.person_id == built.people["mandal_pres"].id,
                                              Target.campaign_id == c["id"])).one()
        assert (gone.state, gone.blocked_by) == (TargetState.removed, "directory: removed from the post")
        kinds = [ch.kind for ch in s.scalars(select(Change).order_by(Change.id))]
    assert kinds[-2:] == ["corrected", "post_removed"]
    assert await svc.edit_person(person.id, PersonEdit(phone="+919826077001"), ADMIN) == [], "nothing new"
    entries = [e for e in audit(db) if e[0] == "person.edit"]
    assert entries == [("person.edit", f"person:{person.id}",
                        {"fields": ["phone", "alt_phone", "language", "status"], "posts_removed": 0}),
                       ("person.edit", f"person:{built.people['mandal_pres'].id}", {"fields": [], "posts_removed": 1})]
    assert "77001" not in str(audit(db)), "no phone number in the audit log"
    dnd = await svc.edit_person(person.id, PersonEdit(dnd=True), ADMIN)
    assert dnd == ["dnd"] and (await svc.person(person.id))["dnd_source"] == "supervisor meera"


async def test_a_retired_instruction_is_read_to_no_one(db: Database, built: Dir) -> None:
    svc = InstructionService(db)
    booth = built.units["booth:112:1"].id
    old = await svc.add("पुराना निर्देश", unit="ac:112", language="hi", by="hq")
    new = await svc.add("नया निर्देश", unit="booth:112:1", language="hi", by="hq")
    with db.sessions() as s:
        assert latest_instruction(s, booth, "hi") == "नया निर्देश"
    retired = await svc.retire(new["id"], ADMIN)
    assert retired["retired_by"] == "meera" and retired["unit"] == "booth:112:1"
    with db.sessions() as s:
        assert latest_instruction(s, booth, "hi") == "पुराना निर्देश"
    with pytest.raises(Conflict):
        await svc.retire(new["id"], ADMIN)
    with pytest.raises(NotFound):
        await svc.retire(999, ADMIN)
    assert [i["id"] for i in await svc.list(retired=False)] == [old["id"]]
    assert ("instruction.retire", f"instruction:{new['id']}",
            {"unit_id": booth, "language": "hi"}) in audit(db)
    with pytest.raises(Invalid) as bad:
        await svc.add("x", language="fr")
    assert bad.value.field == "language"


async def test_a_reset_password_is_new_ends_the_sessions_and_is_audited(db: Database) -> None:
    with db.sessions.begin() as s:
        add_user(s, "asha", "operator", "Operator-pass-01")
    users = UserService(db)
    old = (await users.sign_in("asha", "Operator-pass-01", "127.0.0.1", timedelta(hours=1))).token
    assert old is not None
    password = await users.reset_password("asha", ADMIN)
    assert len(password) >= 16 and await users.principal(old) is None
    assert (await users.sign_in("asha", "Operator-pass-01", None, timedelta(hours=1))).token is None
    assert (await users.sign_in("asha", password, None, timedelta(hours=1))).token is not None
    assert ("user.reset_password", "user:asha", {"softphone_secret": "rotated", "sessions": "ended"}) in audit(db)
    assert password not in str(audit(db))


QUICK = """\
name: quick
title: Quick
languages: [en, hi]
fields: [date]
steps:
  - id: greet
    say: {en: "Hello {{ member.name }}, on {{ campaign.date }}.", hi: "नमस्ते {{ member.name }}।"}
  - id: bye
    end: {en: "Bye.", hi: "धन्यवाद।"}
"""


def scripts(db: Database, folder: Path) -> ScriptService:
    from ari_handlers.ivr_store import inbound_info

    async def made(prompt: Any) -> tuple[str, Path]:
        path = folder.parent / "sounds" / f"{abs(hash(prompt.text))}.wav"
        path.parent.mkdir(exist_ok=True)
        path.write_text(prompt.text, encoding="utf-8")
        return f"sound:{path}", path

    return ScriptService(db, ScriptLibrary([folder]), inbound_info=inbound_info, party="PARTY", make_prompt=made)


async def test_a_script_is_checked_then_saved_into_the_running_library_unless_a_live_campaign_would_break(
        db: Database, built: Dir, tmp_path: Path) -> None:
    folder = tmp_path / "own"
    svc = scripts(db, folder)
    broken = QUICK.replace("goto_nowhere", "").replace("  - id: bye\n", "  - id: bye\n    next: nowhere\n")
    problems = svc.check(broken)
    assert [(p.line, "unknown step 'nowhere'" in p.message) for p in problems] == [(9, True)], "the line of next:"
    with pytest.raises(ScriptInvalid):
        await svc.save(broken, ADMIN)
    assert not folder.exists() and "quick" not in svc.library.names(), "nothing changed"
    saved = await svc.save(QUICK, ADMIN)
    assert saved == {"name": "quick", "file": str(folder / "quick.yaml"), "was": "new", "steps": 2}
    assert svc.library.get("quick").steps[0].id == "greet" and svc.library.origin("quick") == "own"
    preview = await svc.preview("quick", language="en", fields={"date": "5 December"})
    assert preview["texts"][0]["text"] == "Hello Ramesh Kumar, on 5 December."
    sound = await svc.audio("quick", "greet", member=built.people["b1_pres"].id, language="en",
                            fields={"date": "5 Dec"})
    assert sound.read_text(encoding="utf-8") == "Hello b1_pres, on 5 Dec."
    with pytest.raises(NotFound):
        await svc.audio("quick", "nowhere")
    # a running campaign plays it with its field: a version needing another field is refused, nothing written
    c = await campaigns(db).create(CampaignSpec(name="q", scripts={"strong": "quick"}, fields={"date": "5 Dec"}))
    await campaigns(db).change(str(c["id"]), "start")
    listing = await svc.scripts()
    row = next(r for r in listing["scripts"] if r["name"] == "quick")
    assert row["campaigns"] == [{"id": c["id"], "name": "q", "state": "running", "statuses": ["strong"],
                                 "fields": {"date": "5 Dec"}}]
    needs_place = QUICK.replace("fields: [date]", "fields: [date, place]").replace(
        "on {{ campaign.date }}", "at {{ campaign.place }}")
    with pytest.raises(Conflict, match="does not give the field"):
        await svc.save(needs_place, ADMIN)
    assert (folder / "quick.yaml").read_text(encoding="utf-8") == QUICK
    # a built-in script replaced by the war room's own version
    strong = svc.source("strong")
    replaced = await svc.save(strong + "\n# the war room's own copy\n", ADMIN)
    assert replaced["was"] == "built-in" and svc.library.origin("strong") == "replaces built-in"
    assert [e[0] for e in audit(db) if e[0] == "ivr_script.save"] == ["ivr_script.save"] * 2
    without_folder = ScriptService(db, ScriptLibrary(), inbound_info=lambda *a, **k: None, party="PARTY")
    with pytest.raises(Unavailable):
        await without_folder.save(QUICK, ADMIN)


async def test_what_a_booth_worker_hears_is_the_hotlines_own_text(db: Database, built: Dir, tmp_path: Path) -> None:
    svc = scripts(db, tmp_path / "own")
    added = await InstructionService(db).add("Reach the booth by 7.", unit="ac:112", language="en", by="hq")
    heard = await svc.booth_hears("booth:112:1", "en")
    assert heard["instruction"] == "Reach the booth by 7."
    assert heard["text"] == "The latest instructions: Reach the booth by 7."
    assert (await svc.booth_audio("booth:112:1", "en")).read_text(encoding="utf-8") == heard["text"]
    other = await svc.booth_hears("booth:112:2", "hi")
    assert other["text"] == "नवीनतम निर्देश: Reach the booth by 7.", "none in Hindi: the newest in any language"
    await InstructionService(db).retire(added["id"], ADMIN)
    none = await svc.booth_hears("booth:112:2", "hi")
    assert none["instruction"] is None and "कोई नया निर्देश नहीं" in none["text"]
    for booth, language in (("ac:112", "en"), ("booth:112:1", "fr"), ("booth:9:9", "en")):
        with pytest.raises(Invalid):
            await svc.booth_hears(booth, language)


MESSY = ("level,name,phone,ac_no,booth_no\nbooth,Asha,98260 11111,112,1\nbooth,Bad,12345,112,1\n"
         "booth,,9826011112,112,1\n")


async def test_an_import_job_dry_run_then_for_real_with_its_rejects_file(db: Database, built: Dir,
                                                                         tmp_path: Path) -> None:
    svc = directory(db, tmp_path / "imports")
    job = await svc.start_import("../sheet.csv", io.BytesIO(MESSY.encode()), ADMIN)
    assert job["filename"] == "sheet.csv" and job["dry_run"] and job["state"] in ("queued", "running", "done")
    await _done(svc, job["id"])
    done = await svc.import_job(job["id"])
    assert {k: done["summary"][k] for k in ("created", "rejected", "rows")} == {"created": 1, "rejected": 2, "rows": 3}
    assert [(r["line"], r["column"]) for r in done["summary"]["rejections"]] == [(3, "phone"), (4, "name")]
    assert done["percent"] == 100 and done["rejects"]
    with db.sessions() as s:
        assert s.scalar(select(Person.id).where(Person.phone == "+919826011111")) is None, "a dry run writes nothing"
    rejects = list(csv.DictReader(io.StringIO((await svc.rejects_file(job["id"])).read_text(encoding="utf-8-sig"))))
    assert [(r["line"], r["phone"], r["reason"][:9]) for r in rejects] == [("3", "12345", "'12345' i"),
                                                                           ("4", "9826011112", "missing n")]
    real = await svc.confirm_import(job["id"], ADMIN)
    assert not real["dry_run"] and real["checked_by"] == job["id"]
    await _done(svc, real["id"])
    with db.sessions() as s:
        assert s.scalar(select(Person.id).where(Person.phone == "+919826011111")) is not None
    assert (await svc.import_job(job["id"]))["imported_as"] == real["id"]
    with pytest.raises(Conflict, match="already imported"):
        await svc.confirm_import(job["id"], ADMIN)
    with pytest.raises(Conflict, match="not a finished dry run"):
        await svc.confirm_import(real["id"], ADMIN)
    assert not (tmp_path / "imports" / str(job["id"]) / "sheet.csv").exists(), "imported: the upload is deleted"
    actions = [(a, t, d.get("created")) for a, t, d in audit(db) if a.startswith("directory.import")]
    assert actions == [("directory.import.start", f"import:{job['id']}", None),
                       ("directory.import.dry_run", f"import:{job['id']}", 1),
                       ("directory.import.start", f"import:{real['id']}", None),
                       ("directory.import", f"import:{real['id']}", 1)]
    with pytest.raises(Invalid) as wrong:
        await svc.start_import("notes.pdf", io.BytesIO(b"x"), ADMIN)
    assert wrong.value.field == "file"
    unreadable = await svc.start_import("empty.csv", io.BytesIO(b""), ADMIN)
    await _done(svc, unreadable["id"], "failed")
    assert "nothing was imported" in (await svc.import_job(unreadable["id"]))["error"]
    svc.close()


async def test_a_job_the_service_was_running_when_it_stopped_reads_interrupted(db: Database, tmp_path: Path) -> None:
    with db.sessions.begin() as s:
        s.add(ImportJob(filename="big.csv", state=JobState.running, created_by="meera",
                        created_at=utcnow() - timedelta(minutes=5)))
    svc = directory(db, tmp_path)
    [job] = await svc.import_jobs()
    assert job["state"] == "interrupted" and "service stopped" in job["error"]
    without = directory(db)
    with pytest.raises(Unavailable):
        await without.start_import("a.csv", io.BytesIO(b""), ADMIN)


async def _done(svc: DirectoryService, job_id: int, state: str = "done") -> None:
    async def ended() -> bool:
        return (await svc.import_job(job_id))["state"] == state

    await until(ended, 20, f"import #{job_id} to end {state}")
