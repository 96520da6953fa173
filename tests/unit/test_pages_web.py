"""The supervisors' and admins' pages over the whole web app (FastAPI's TestClient, no browser): forms that
say what is wrong next to the field, the same results as the command line on the same input, downloads, the
users page for admins only, both languages, and no inline script or style (the pages keep to their files
under /static/)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from db.audit import AuditEntry
from db.campaigns import Target
from db.models import Person, Unit
from tests import directory_builder
from tests.unit.test_web_auth import csrf_of, sign_in
from tests.web_app import WebApp, build_web_app
from warroom.cli import app as cli_app
from web.i18n_pages import EN, HI
from web.rendering import TEMPLATES

MESSY = ("level,name,phone,ac_no,booth_no,post\n"
         "booth,Asha Verma,98260 11111,112,1,BLA\n"       # created
         "booth,Bad Phone,12345,112,1,BLA\n"               # rejected: phone
         "booth,,9826011112,112,1,BLA\n"                   # rejected: name
         "booth,Asha Verma,+91 9826011111,112,1,BLA\n"     # merged with line 2
         "booth,b1_pres,9826000003,112,1,president\n")     # unchanged


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    app = build_web_app(tmp_path)
    with app.sessions.begin() as s:
        directory_builder.build(s)
    yield app
    app.services.close()
    app.engine.dispose()


def client(web: WebApp, user: str = "sup", **cookies: str) -> tuple[TestClient, str]:
    c = TestClient(web.app, cookies=cookies or None)
    sign_in(c, user)
    return c, csrf_of(c)


def cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st")}
    res = CliRunner().invoke(cli_app, list(args), env=env)
    return res.exit_code, res.output


def field_error(page: str, name: str) -> str | None:
    """The error shown next to field ``name`` (None when there is none), checking the field points at it."""
    found = re.search(rf'id="err-{name}"[^>]*>([^<]+)<', page)
    if found is None:
        return None
    assert f'aria-describedby="err-{name}"' in page, f"the {name} field points at its error"
    return html.unescape(found.group(1))


FORM = {"name": "by-page", "mode": "operator", "units": "mandal:1", "posts": ["President"],
        "levels": ["booth", "mandal"],
        "window_start": "10:00", "window_end": "18:00", "timezone": "Asia/Kolkata", "priority": "7",
        "busy_tries": "2", "busy_after": "5m", "starts_at": "2030-01-01T09:30", "trunk": "lines"}


def test_the_new_campaign_page_counts_who_it_reaches_and_creates_what_the_cli_creates(web: WebApp,
                                                                                     tmp_path: Path) -> None:
    sup, csrf = client(web)
    code, out = cli(tmp_path, "campaign", "create", "by-cli", "--mode", "operator", "--unit", "mandal:1", "--post",
                    "President", "--level", "booth", "--level", "mandal", "--window", "10:00-18:00", "--timezone",
                    "Asia/Kolkata", "--priority", "7", "--retry", "busy=2/5m", "--no-alternate", "--start",
                    "2030-01-01T04:00:00", "--dry-run", "--json")
    assert code == 0, out
    counted = json.loads(out)
    summary = sup.get("/campaigns/new/summary", params=FORM)
    assert summary.status_code == 200
    shown = re.search(r'data-testid="reach-people" data-count="(\d+)"', summary.text)
    assert shown and int(shown.group(1)) == counted["people"] == 3
    code, out = cli(tmp_path, "campaign", "create", "by-cli", "--mode", "operator", "--unit", "mandal:1", "--post",
                    "President", "--level", "booth", "--level", "mandal", "--window", "10:00-18:00", "--timezone",
                    "Asia/Kolkata", "--priority", "7", "--retry", "busy=2/5m", "--no-alternate", "--start",
                    "2030-01-01T04:00:00", "--json")
    assert code == 0, out
    by_cli = json.loads(out)
    resp = sup.post("/campaigns/new", data={**FORM, "csrf_token": csrf, "action": "draft"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    page_id = int(resp.headers["location"].rsplit("/", 1)[1])
    by_page = sup.get(f"/api/campaigns/{page_id}").json()
    assert {k: v for k, v in by_cli.items() if k not in ("id", "name")} == \
        {k: v for k, v in by_page.items() if k not in ("id", "name")}, "one behaviour, two doors"
    assert by_page["progress"]["targets"] == counted["people"] == by_page["progress"]["targets"]
    # "save and start", and the clone form filled with a campaign's settings
    started = sup.post("/campaigns/new", data={**FORM, "name": "and-start", "csrf_token": csrf, "action": "start"})
    assert started.status_code == 200 and 'data-state="running"' in started.text
    clone = sup.get(f"/campaigns/new?from={page_id}")
    assert 'value="by-page (copy)"' in clone.text and 'value="mandal:1"' in clone.text
    assert 'value="2030-01-01T09:30"' in clone.text, "the start, in the campaign's time zone"
    code, out = cli(tmp_path, "campaign", "clone", "by-cli", "by-cli-2", "--json")
    assert code == 0 and json.loads(out)["progress"]["targets"] == 3


def test_the_new_campaign_form_says_what_is_wrong_next_to_each_field(web: WebApp) -> None:
    sup, csrf = client(web)
    sup.post("/campaigns/new", data={**FORM, "csrf_token": csrf, "action": "draft"})
    for change, field, says in [
            ({"window_start": "25"}, "window_start", "a time like 09:00"),
            ({"starts_at": "tomorrow"}, "starts_at", "a date and time"),
            ({"priority": "high"}, "priority", "a whole number"),
            ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
            ({"units": "ac:404"}, "units", "no unit 'ac:404'"),
            ({"busy_tries": "x"}, "retry", "expected TRIES/AFTER"),
            ({"name": "by-page"}, "name", "already exists"),
            ({"window_start": "05:00", "name": "other"}, "window", "when campaign calls are banned")]:
        resp = sup.post("/campaigns/new", data={**FORM, **change, "csrf_token": csrf, "action": "draft"})
        assert resp.status_code == 422, (change, resp.status_code)
        shown = field_error(resp.text, field)
        assert shown is not None and says in shown, (field, shown)
    with web.sessions() as s:
        assert len(s.scalars(select(Target.campaign_id).distinct()).all()) == 1, "nothing more was created"
    checked = sup.post("/campaigns/new", data={**FORM, "name": "new", "csrf_token": csrf, "action": "check"})
    assert checked.status_code == 200 and 'data-testid="reach-people" data-count="3"' in checked.text


def test_a_campaigns_page_steers_it_filters_its_targets_and_exports_them(web: WebApp) -> None:
    sup, csrf = client(web)
    created = sup.post("/campaigns/new", data={"name": "booths", "units": "ac:112", "levels": "booth",
                                               "mode": "operator", "csrf_token": csrf, "action": "draft"},
                       follow_redirects=False)
    url = created.headers["location"]
    page = sup.get(url)
    assert page.status_code == 200 and page.text.count('data-testid="target-') == 5
    for action, state in (("start", "running"), ("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        resp = sup.post(f"{url}/action", data={"action": action, "csrf_token": csrf})
        assert resp.status_code == 200 and f'data-testid="campaign-state">{state}' in resp.text.replace(
            f'data-testid="campaign-state">{EN["state_" + state]}', f'data-testid="campaign-state">{state}')
    assert sup.post(f"{url}/action", data={"action": "start", "csrf_token": csrf}).status_code == 409
    found = sup.get(url, params={"q": "b2_"})
    assert found.text.count('data-testid="target-') == 2
    assert sup.get(url, params={"state": "weird"}).status_code == 422
    with web.sessions() as s:
        target = s.scalars(select(Target.id).order_by(Target.id)).first()
    detail = sup.get(f"{url}/targets/{target}")
    assert detail.status_code == 200 and "mandal_pres" in detail.text
    assert sup.get(f"{url}/targets/999").status_code == 404
    exported = sup.get(f"{url}/export", params={"format": "csv", "q": "b1"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["b1_pres", "b1_bla"]
    xlsx = sup.get(f"{url}/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 6
    cloned = sup.post(f"{url}/clone", data={"name": "booths again", "csrf_token": csrf})
    assert cloned.status_code == 200 and "booths again" in cloned.text
    with web.sessions() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "campaign.clone")) == "sup"


def test_the_directory_pages_a_persons_corrections_and_a_booths_status(web: WebApp) -> None:
    sup, csrf = client(web)
    top = sup.get("/directory")
    assert top.status_code == 200 and "Bhopal" in top.text and "under two reachable contacts" in top.text
    with web.sessions() as s:
        booth = s.scalars(select(Unit).where(Unit.key == "booth:112:1")).one()
        person = s.scalars(select(Person).where(Person.name == "b1_pres")).one()
    unit = sup.get("/directory", params={"unit": booth.id})
    assert "b1_pres" in unit.text and 'data-testid="booth-status">strong' in unit.text
    assert sup.get("/directory/units", params={"q": "school"}).json()[0]["key"] == "booth:112:1"
    assert "b1_pres" in sup.get("/directory/people", params={"q": "000003"}).text
    wrong = sup.post(f"/directory/people/{person.id}", data={"phone": "12345", "csrf_token": csrf})
    assert wrong.status_code == 422 and "not a valid Indian number" in (field_error(wrong.text, "phone") or "")
    assert 'value="12345"' in wrong.text, "what was typed stays in the field"
    correction = {"phone": "98260 55555", "alt_phone": "", "alt_phone_sent": "1", "dnd": "off", "language": "en"}
    fixed = sup.post(f"/directory/people/{person.id}", data={**correction, "csrf_token": csrf},
                     follow_redirects=False)
    assert fixed.status_code == 303 and fixed.headers["location"].endswith("saved=phone,alt_phone,language")
    page = sup.get(fixed.headers["location"])
    assert 'data-testid="person-phone">+919826055555' in page.text
    no_reason = sup.post(f"/directory/units/{booth.id}/status", data={"status": "swing", "csrf_token": csrf})
    assert no_reason.status_code == 422 and "needs a reason" in (field_error(no_reason.text, "reason") or "")
    set_ = sup.post(f"/directory/units/{booth.id}/status", data={"status": "swing", "reason": "new data",
                                                                 "csrf_token": csrf})
    assert set_.status_code == 200 and 'data-testid="booth-status">swing' in set_.text
    not_booth = sup.post(f"/directory/units/{booth.parent_id}/status", data={"status": "swing", "reason": "x",
                                                                             "csrf_token": csrf})
    assert not_booth.status_code == 422 and "only a booth" in not_booth.text


def _job_done(sup: TestClient, job: str) -> dict[str, Any]:
    started = time.monotonic()
    while (status := sup.get(f"{job}/status").json())["state"] in ("queued", "running"):
        assert time.monotonic() - started < 20, status
        time.sleep(0.05)  # the job runs in its own thread; the test has no event loop to wait in
    return status


def test_an_upload_is_checked_then_imported_with_the_same_accounting_and_rejects_as_the_cli(
        web: WebApp, tmp_path: Path) -> None:
    sup, csrf = client(web)
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(MESSY, encoding="utf-8")
    code, out = cli(tmp_path, "directory", "import", str(sheet), "--dry-run", "--json", "--rejects",
                    str(tmp_path / "cli-rejects.csv"))
    assert code == 0, out
    by_cli = json.loads(out)
    resp = sup.post("/directory/imports", files={"file": ("sheet.csv", MESSY.encode(), "text/csv")},
                    data={"dry_run": "on", "csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    job = resp.headers["location"]
    assert _job_done(sup, job)["state"] == "done"
    page = sup.get(job)
    counts = {k: int(m) for k, m in re.findall(r'data-testid="count-(\w+)">([\d,]+)<', page.text)}
    assert counts == {k: by_cli[k] for k in ("created", "updated", "unchanged", "merged", "rejected")} == \
        {"created": 1, "updated": 0, "unchanged": 1, "merged": 1, "rejected": 2}
    assert "&#39;12345&#39; is not a valid Indian number" in page.text and "missing name" in page.text
    rejects = sup.get(f"{job}/rejects")
    assert rejects.content == (tmp_path / "cli-rejects.csv").read_bytes(), "the same rejects file"
    real = sup.post(f"{job}/confirm", data={"csrf_token": csrf}, follow_redirects=False)
    assert _job_done(sup, real.headers["location"])["state"] == "done"
    with web.sessions() as s:
        assert s.scalar(select(Person.name).where(Person.phone == "+919826011111")) == "Asha Verma"
    listed = sup.get("/directory/imports")
    assert listed.text.count("sheet.csv") == 2
    bad = sup.post("/directory/imports", files={"file": ("sheet.pdf", b"x", "application/pdf")},
                   data={"csrf_token": csrf})
    assert bad.status_code == 422 and "upload a .csv or .xlsx file" in (field_error(bad.text, "file") or "")
    results = sup.post("/directory/results", files={"file": ("r.csv", b"ac_no,booth_no,year,PARTY,OTHER\n"
                                                              b"112,2,2023,600,200\n112,9,2023,1,1\n", "text/csv")},
                       data={"csrf_token": csrf})
    assert results.status_code == 200 and "no booth 9 in AC 112" in results.text


def test_an_admin_adds_an_operator_who_signs_in_and_only_admins_see_users(web: WebApp) -> None:
    adm, csrf = client(web, "adm")
    added = adm.post("/users", data={"username": "asha", "role": "operator", "name": "Asha Devi",
                                     "language": "hi", "csrf_token": csrf})
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    password = re.search(r'data-testid="new-password">([^<]+)<', added.text)
    assert password, "a generated password is shown once"
    operator = TestClient(web.app)
    assert sign_in(operator, "asha", password.group(1))[0] == 303
    assert operator.get("/users").status_code == 403 and operator.get("/campaigns").status_code == 403
    sup, _ = client(web)
    assert sup.get("/users").status_code == 403, "users are for admins"
    taken = adm.post("/users", data={"username": "asha", "role": "operator", "csrf_token": csrf})
    assert taken.status_code == 422 and "already exists" in (field_error(taken.text, "username") or "")
    short = adm.post("/users", data={"username": "ravi", "role": "operator", "password": "short",
                                     "csrf_token": csrf})
    assert "too short" in (field_error(short.text, "password") or "")
    reset = adm.post("/users/asha/reset-password", data={"csrf_token": csrf})
    new = re.search(r'data-testid="new-password">([^<]+)<', reset.text)
    assert new and new.group(1) != password.group(1)
    assert operator.get("/console", follow_redirects=False).status_code == 303, "a new password ends the sessions"
    assert adm.post("/users/asha/disable", data={"csrf_token": csrf}).status_code == 200
    assert sign_in(TestClient(web.app), "asha", new.group(1))[0] == 401
    assert adm.post("/users/asha/enable", data={"csrf_token": csrf}).status_code == 200
    assert adm.post("/users/asha/end-sessions", data={"csrf_token": csrf}).status_code == 200
    assert adm.post("/users/nobody/disable", data={"csrf_token": csrf}).status_code == 404


def test_instructions_are_added_heard_as_a_booth_hears_them_and_retired(web: WebApp) -> None:
    sup, csrf = client(web)
    wrong = sup.post("/instructions", data={"text": "x", "unit": "ac:404", "csrf_token": csrf})
    assert wrong.status_code == 422 and "no unit 'ac:404'" in (field_error(wrong.text, "unit") or "")
    added = sup.post("/instructions", data={"text": "Reach by seven.", "unit": "booth:112:1", "language": "en",
                                            "csrf_token": csrf})
    assert added.status_code == 200
    assert "The latest instructions: Reach by seven." in added.text, "on to what booth 112:1 hears"
    audio = sup.get("/instructions/hear", params={"booth": "booth:112:1", "lang": "en"})
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert sup.get("/instructions/hear", params={"booth": "ac:112", "lang": "en"}).status_code == 422
    retired = sup.post("/instructions/1/retire", data={"csrf_token": csrf})
    assert retired.status_code == 200 and 'class="retired"' in retired.text
    heard = sup.get("/instructions", params={"booth": "booth:112:1", "lang": "en"})
    assert "There are no new instructions for your booth." in heard.text


BAD_SCRIPT = """name: quick
languages: [en]
steps:
  - id: greet
    say: {en: "Hello {{ member.nickname }}"}
  - id: bye
    end: {en: "Bye."}
"""


def test_an_invalid_script_shows_its_problem_at_its_line_and_changes_nothing(web: WebApp, tmp_path: Path) -> None:
    sup, csrf = client(web)
    before = web.services.scripts.library.names()
    bad = sup.post("/scripts", files={"file": ("quick.yaml", BAD_SCRIPT.encode(), "application/yaml")},
                   data={"csrf_token": csrf})
    assert bad.status_code == 422
    assert 'data-testid="bad-line-5"' in bad.text and "undefined variable &#39;member.nickname&#39;" in bad.text
    assert "Nothing was saved." in bad.text
    assert web.services.scripts.library.names() == before and not (tmp_path / "scripts").exists()
    good = sup.post("/scripts", data={"text": BAD_SCRIPT.replace("nickname", "name"), "csrf_token": csrf},
                    follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/scripts/quick?saved=new"
    assert "quick" in web.services.scripts.library.names() and (tmp_path / "scripts" / "quick.yaml").exists()
    page = sup.get("/scripts/quick", params={"lang": "en"})
    assert "Hello Ramesh Kumar" in page.text
    with web.sessions() as s:
        member = s.scalar(select(Person.id).where(Person.name == "b1_pres"))
    assert "Hello b1_pres" in sup.get("/scripts/quick", params={"member": member}).text
    sound = sup.get("/scripts/quick/audio", params={"step": "greet", "lang": "en"})
    assert sound.status_code == 200 and sound.content[:4] == b"RIFF"
    assert sup.get("/scripts/quick/audio", params={"step": "nowhere"}).status_code == 404
    assert sup.get("/scripts/nope").status_code == 404
    listing = sup.get("/scripts")
    assert 'data-testid="script-quick"' in listing.text


PAGES = ["/campaigns", "/campaigns/new", "/directory", "/directory/people?q=b1", "/directory/imports",
         "/instructions?booth=booth:112:1", "/scripts", "/scripts/strong", "/users", "/outreach"]


def test_every_page_in_hindi_and_english_with_nothing_inline(web: WebApp) -> None:
    assert set(EN) == set(HI), "every word in both languages"
    for lang, word in (("hi", "नया अभियान"), ("en", "New campaign")):
        adm, _ = client(web, "adm", warroom_lang=lang)
        for path in PAGES:
            page = adm.get(path)
            assert page.status_code == 200 and f'<html lang="{lang}">' in page.text, (lang, path)
        assert word in adm.get("/campaigns/new").text
    for template in (TEMPLATES / "pages").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{template.name}: an inline script"
        assert not re.search(r"<style|\sstyle=", text), f"{template.name}: inline style"
        assert not re.search(r"\son[a-z]+=", text), f"{template.name}: an inline event handler"
