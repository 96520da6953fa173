"""Who did what (issue 13, finding 7): each use case writes its audit entry in its own transaction (a refused
change writes none), the web passes the signed-in user and their address, the command line its OS user;
admins read the log on a page, as CSV (itself recorded) and with ``warroom audit``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from accounts.service import UserService
from audit.log import Actor
from audit.service import AuditFilter, AuditService
from core.errors import ServiceError
from db.audit import AuditEntry
from db.engine import Database
from db.users import User
from dialer.campaigns import CampaignConflict
from dialer.service import CampaignService, CampaignSpec
from directory.service import DirectoryService
from directory.status import StatusRules
from operators.listen import AuditedListen, ListenError
from reports.service import ReportService
from reports.shifts import DEFAULT_SHIFTS, parse_shifts
from tests import directory_builder
from tests.unit.test_directory_import import FILES
from tests.unit.test_web_auth import csrf_of, sign_in
from tests.web_app import WebApp, build_web_app
from tickets.service import TicketService, open_ticket
from warroom.cli import app as cli

ASHA = Actor("asha", 7, "192.0.2.7")


def entries(db: Database) -> list[tuple[str, str, str | None, str]]:
    with db.sessions() as s:
        return [(e.actor, e.action, e.target, e.outcome) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def test_campaigns_tickets_users_reports_and_the_directory_are_recorded(database: Database,
                                                                              tmp_path: Path) -> None:
    with database.sessions.begin() as s:
        built = directory_builder.build(s)
        ticket = open_ticket(s, category="other", source="hotline", booth_id=built.units["booth:112:1"].id).id
    campaigns = CampaignService(database)
    made = await campaigns.create(CampaignSpec("booths", mode="operator", levels=("booth",)), ASHA)
    for action in ("start", "pause", "resume", "stop"):
        await campaigns.change("booths", action, ASHA)
    with pytest.raises(CampaignConflict):
        await campaigns.change("booths", "start", ASHA)  # refused: a stopped campaign; nothing recorded
    users = UserService(database)
    await users.add("ravi", "operator", "Operator-pass-1", actor=ASHA)
    tickets = TicketService(database)
    await tickets.assign(ticket, "ravi", ASHA)
    await tickets.resolve(ticket, "sent ink", by="asha", actor=ASHA)
    reports = ReportService(database, timezone="Asia/Kolkata", shifts=parse_shifts(DEFAULT_SHIFTS))
    await reports.build("day", since=date(2026, 1, 1), actor=ASHA, fmt="csv")
    await reports.build("day")  # no one took it away: nothing to record
    directory = DirectoryService(database, rules=StatusRules("PARTY", 0.1, 0.1, 2))
    await directory.import_members(FILES["utf8"](tmp_path), actor=ASHA)
    await directory.export(lambda rows: sum(1 for _ in rows), ASHA)
    await directory.set_status(112, 1, "swing", "new candidate", "asha", ASHA)
    c = f"campaign:{made['id']}"
    assert entries(database) == [
        ("asha", "campaign.create", c, "ok"), ("asha", "campaign.start", c, "ok"),
        ("asha", "campaign.pause", c, "ok"), ("asha", "campaign.resume", c, "ok"),
        ("asha", "campaign.stop", c, "ok"), ("asha", "user.add", "user:ravi", "ok"),
        ("asha", "ticket.assign", f"ticket:{ticket}", "ok"), ("asha", "ticket.resolve", f"ticket:{ticket}", "ok"),
        ("asha", "report.download", "report:day", "ok"), ("asha", "directory.import", None, "ok"),
        ("asha", "directory.export", None, "ok"), ("asha", "booth.set_status", f"unit:{built.units['booth:112:1'].id}",
                                                   "ok")]
    with database.sessions() as s:
        details = {e.action: e.detail for e in s.scalars(select(AuditEntry))}
    assert details["campaign.create"] == {"mode": "operator", "targets": 5}
    assert details["directory.import"]["created"] == 4 and details["directory.import"]["file"] == "d.csv"
    assert details["report.download"]["format"] == "csv" and details["directory.export"]["rows"] >= 6
    assert all("98260" not in json.dumps(d) for d in details.values()), "no phone number in any detail"


async def test_user_changes_and_the_softphone_secret(database: Database) -> None:
    users = UserService(database)
    await users.add("ravi", "operator", "Operator-pass-1")
    secret = lambda: database.transaction(lambda s: s.scalar(select(User.sip_secret)))  # noqa: E731
    first = secret()
    await users.set_password("ravi", "Monsoon-Booth-88", ASHA)
    second = secret()
    assert second != first, "a new password, a new softphone secret"
    await users.rotate_sip_secret("ravi", ASHA)
    assert secret() not in (first, second)
    await users.disable("ravi", ASHA)
    await users.enable("ravi", ASHA)
    await users.end_sessions("ravi", ASHA)
    assert [a for _w, a, t, _o in entries(database)] == [
        "user.add", "user.set_password", "user.rotate_sip_secret", "user.disable", "user.enable",
        "user.end_sessions"]
    assert entries(database)[0][0] == "system"


async def test_listening_in_is_recorded_refused_or_not(database: Database) -> None:
    async def listen(supervisor: int, operator: int, mode: str) -> str:
        if operator != 3:
            raise ListenError(f"operator {operator} is not on a call")
        return "spy-1"

    audited = AuditedListen(database, listen)  # type: ignore[arg-type]
    assert await audited(2, 3, "whisper", ASHA) == "spy-1"
    with pytest.raises(ServiceError):
        await audited(2, 4, "barge", ASHA)
    assert entries(database) == [("asha", "listen.whisper", "operator:3", "ok"),
                                 ("asha", "listen.barge", "operator:4", "refused")]


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    built = build_web_app(tmp_path)
    yield built
    built.engine.dispose()


def signed_in(web: WebApp, user: str) -> TestClient:
    client = TestClient(web.app)
    assert sign_in(client, user)[0] == 303
    return client


def test_web_actions_name_the_signed_in_user_and_admins_read_the_log(web: WebApp) -> None:
    sup = signed_in(web, "sup")
    headers = {"X-CSRF-Token": csrf_of(sup)}
    made = sup.post("/api/campaigns", json={"name": "c1", "mode": "operator"}, headers=headers).json()
    assert sup.post(f"/api/campaigns/{made['id']}/start", headers=headers).status_code == 200
    assert sup.get("/api/reports/campaign?format=csv").status_code == 200
    assert web.listened == [] and sup.post("/api/listen", json={"operator_id": 3}, headers=headers).status_code == 201
    with web.sessions() as s:
        mine = [(e.actor, e.action, e.address) for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "sup"))]
    assert mine == [("sup", "sign_in", "testclient"), ("sup", "campaign.create", "testclient"),
                    ("sup", "campaign.start", "testclient"), ("sup", "report.download", "testclient"),
                    ("sup", "listen.listen", "testclient")]
    assert sup.get("/admin/audit").status_code == 403 and sup.get("/api/audit").status_code == 403

    adm = signed_in(web, "adm")
    page = adm.get("/admin/audit", params={"action": "campaign"})
    assert page.status_code == 200 and 'data-action="campaign.start"' in page.text
    assert 'data-action="sign_in"' not in page.text, "filtered by action"
    rows = adm.get("/api/audit", params={"actor": "sup", "limit": 2}).json()
    assert [r["action"] for r in rows] == ["listen.listen", "report.download"]
    download = adm.get("/api/audit", params={"format": "csv", "action": "campaign."})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(download.text)))
    assert table[0] == ["at", "actor", "action", "target", "outcome", "address", "detail"]
    assert [r[2] for r in table[1:]] == ["campaign.start", "campaign.create"]
    assert adm.get("/api/audit", params={"actor": "adm", "action": "audit.export"}).json()[0]["detail"]["rows"] == 2
    bad = adm.get("/admin/audit", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 422 and "before since" in bad.text


def test_an_admin_gives_a_user_a_new_softphone_secret(web: WebApp) -> None:
    adm = signed_in(web, "adm")
    before = web.sessions().scalar(select(User.sip_secret).where(User.username == "op"))
    resp = adm.post("/api/users/op/sip-secret", headers={"X-CSRF-Token": csrf_of(adm)})
    assert resp.status_code == 200 and resp.json()["username"] == "op" and "secret" not in resp.text
    with web.sessions() as s:
        assert s.scalar(select(User.sip_secret).where(User.username == "op")) != before
    assert adm.post("/api/users/nobody/sip-secret", headers={"X-CSRF-Token": csrf_of(adm)}).status_code == 404


def cli_run(tmp_path: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st"),
           "WARROOM_ASTERISK__SANDBOX_CACHE": str(tmp_path / "cache")}
    res = CliRunner().invoke(cli, list(args), env=env, input=input)
    return res.exit_code, res.output


def test_the_command_line_is_recorded_as_its_os_user_and_reads_the_log(tmp_path: Path) -> None:
    assert cli_run(tmp_path, "users", "add", "ravi", "--role", "operator", "--generate-password")[0] == 0
    assert cli_run(tmp_path, "users", "new-sip-secret", "ravi")[0] == 0
    code, out = cli_run(tmp_path, "audit", "--json")
    rows: list[dict[str, Any]] = json.loads(out)
    assert code == 0 and [r["action"] for r in rows] == ["user.rotate_sip_secret", "user.add"]
    assert rows[0]["actor"] == Actor.cli().name and rows[0]["target"] == "user:ravi"
    code, out = cli_run(tmp_path, "audit", "--action", "user.add")
    assert code == 0 and "user.add" in out and "rotate" not in out
    code, out = cli_run(tmp_path, "audit", "--csv", "-", "--target", "user:ravi")
    assert code == 0 and out.splitlines()[0].startswith("at,actor,action") and len(out.splitlines()) == 3
    code, out = cli_run(tmp_path, "audit", "--action", "audit.export", "--json")
    assert json.loads(out)[0]["detail"] == {"rows": 2, "target": "user:ravi"}
    code, out = cli_run(tmp_path, "audit", "--since", "yesterday")
    assert code == 1 and "expected YYYY-MM-DD" in out


async def test_the_log_is_read_newest_first_with_filters(database: Database) -> None:
    service = AuditService(database)
    for n in range(3):
        await UserService(database).add(f"user{n}", "operator", "Operator-pass-1", actor=ASHA)
    rows = await service.entries(AuditFilter(action="user", limit=2))
    assert [r["target"] for r in rows] == ["user:user2", "user:user1"]
    assert await service.entries(AuditFilter(actor="someone else")) == []
    with pytest.raises(ServiceError, match="limit 0"):
        await service.entries(AuditFilter(limit=0))
