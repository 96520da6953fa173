"""A service's typed error is answered one way over HTTP (the kind's status, ``{"detail": message}``) and one
way on the command line (``error: <message>``, exit code 1); the same refusal reads the same on both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Unavailable
from tests import directory_builder
from tests.unit.test_web_auth import csrf_of, sign_in
from tests.web_app import build_web_app
from warroom.cli import app as cli_app
from warroom.cli_errors import fail, reported, run
from web.errors import install

KINDS: list[tuple[type[ServiceError], int]] = [(Invalid, 422), (NotFound, 404), (Conflict, 409), (Forbidden, 403),
                                               (Unavailable, 503), (ServiceError, 400)]


def _raising_app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/{kind}")
    async def fails(kind: str, message: str = "") -> dict[str, Any]:
        raise {k.__name__: k for k, _status in KINDS}[kind](message or f"the {kind} message")

    return app


@pytest.mark.parametrize(("kind", "status"), KINDS, ids=[k.__name__ for k, _s in KINDS])
def test_each_kind_of_service_error_has_its_http_status_and_message(kind: type[ServiceError], status: int) -> None:
    resp = TestClient(_raising_app()).get(f"/{kind.__name__}")
    assert resp.status_code == status
    assert resp.json() == {"detail": f"the {kind.__name__} message"}


def test_http_error_bodies_keep_other_scripts_and_survive_lone_surrogates() -> None:
    client = TestClient(_raising_app())
    resp = client.get("/NotFound", params={"message": "no campaign 'बूथ'"})
    assert "no campaign 'बूथ'" in resp.text and resp.json()["detail"] == "no campaign 'बूथ'"

    app = FastAPI()
    install(app)

    @app.get("/")
    async def surrogate() -> None:
        raise Invalid("bad '\ud800'")

    resp = TestClient(app).get("/")
    assert resp.status_code == 422 and resp.json()["detail"] == "bad '\ud800'"


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def service(kind: str) -> None:
        async def work() -> None:
            raise {k.__name__: k for k, _status in KINDS}[kind](f"the {kind} message")
        run(work())

    @app.command()
    def block(kind: str) -> None:
        with reported():
            raise {k.__name__: k for k, _status in KINDS}[kind](f"the {kind} message")

    @app.command()
    def refuse() -> None:
        fail("--format pdf: use csv or xlsx", code=2)

    return app


@pytest.mark.parametrize("kind", [k.__name__ for k, _s in KINDS])
def test_every_kind_ends_a_command_with_its_message_and_exit_code_1(kind: str) -> None:
    for how in ("service", "block"):
        res = CliRunner().invoke(_cli(), [how, kind])
        assert res.exit_code == 1 and f"error: the {kind} message" in res.output, (how, res.output)
    res = CliRunner().invoke(_cli(), ["refuse"])
    assert res.exit_code == 2 and "error: --format pdf: use csv or xlsx" in res.output


def _command(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st")}
    res = CliRunner().invoke(cli_app, list(args), env=env)
    return res.exit_code, res.output


def test_campaign_creation_gives_the_same_campaign_and_the_same_refusals_from_the_cli_and_http(
        tmp_path: Path) -> None:
    web = build_web_app(tmp_path)  # the CLI below works on the same database file
    with web.sessions.begin() as s:
        directory_builder.build(s)
    sup = TestClient(web.app)
    sign_in(sup, "sup")
    h = {"X-CSRF-Token": csrf_of(sup)}

    code, out = _command(tmp_path, "campaign", "create", "by-cli", "--mode", "operator", "--unit", "mandal:1",
                         "--post", "President", "--level", "booth", "--level", "mandal", "--window", "10:00-18:00",
                         "--timezone", "Asia/Kolkata", "--priority", "7", "--retry", "busy=2/5m", "--no-alternate",
                         "--start", "2030-01-01T04:00:00", "--json")
    assert code == 0, out
    by_cli = json.loads(out)
    resp = sup.post("/api/campaigns", headers=h, json={
        "name": "by-http", "mode": "operator", "units": ["mandal:1"], "posts": ["President"],
        "levels": ["booth", "mandal"], "window_start": "10:00", "window_end": "18:00", "timezone": "Asia/Kolkata",
        "priority": 7, "retry": ["busy=2/5m"], "use_alternate": False, "starts_at": "2030-01-01T04:00:00"})
    assert resp.status_code == 201, resp.text
    by_http = resp.json()
    assert by_cli["progress"]["targets"] == 3, "the presidents of the mandal and of its two booths"
    assert {k: v for k, v in by_cli.items() if k not in ("id", "name")} == \
        {k: v for k, v in by_http.items() if k not in ("id", "name")}

    for cli_args, body, message in [
            (("--unit", "ac:404"), {"units": ["ac:404"]}, "no unit 'ac:404' in the directory"),
            (("--retry", "ringing=3/1m"), {"retry": ["ringing=3/1m"]},
             "retry 'ringing=3/1m': outcome must be one of"),
            (("--status", "hot"), {}, "booth status hot")]:
        code, out = _command(tmp_path, "campaign", "create", "bad", "--mode", "operator", *cli_args)
        assert code == 1 and f"error: {message}" in out, out
        if body:
            resp = sup.post("/api/campaigns", headers=h, json={"name": "bad", "mode": "operator", **body})
            assert resp.status_code == 422 and message in resp.json()["detail"], resp.text
    code, out = _command(tmp_path, "campaign", "create", "by-cli", "--mode", "operator")
    assert code == 1 and "a campaign named 'by-cli' already exists" in out
    resp = sup.post("/api/campaigns", headers=h, json={"name": "by-cli", "mode": "operator"})
    assert resp.status_code == 422 and "a campaign named 'by-cli' already exists" in resp.json()["detail"]

    code, out = _command(tmp_path, "campaign", "start", "by-cli")
    assert code == 0
    code, out = _command(tmp_path, "campaign", "start", "by-cli")
    resp = sup.post("/api/campaigns/by-cli/start", headers=h)
    assert code == 1 and resp.status_code == 409
    assert "error: cannot start campaign 'by-cli': it is running" in out
    assert resp.json()["detail"] == "cannot start campaign 'by-cli': it is running"
    code, out = _command(tmp_path, "campaign", "show", "nope")
    resp = sup.get("/api/campaigns/nope")
    assert code == 1 and "error: no campaign 'nope'" in out
    assert resp.status_code == 404 and resp.json()["detail"] == "no campaign 'nope'"
    web.engine.dispose()


def test_assigning_a_ticket_to_someone_who_is_no_user_is_refused_alike_by_the_cli_and_http(tmp_path: Path) -> None:
    web = build_web_app(tmp_path)
    sup = TestClient(web.app)
    sign_in(sup, "sup")
    h = {"X-CSRF-Token": csrf_of(sup)}
    from tickets.service import open_ticket

    with web.sessions.begin() as s:
        open_ticket(s, category="other", source="hotline")
    code, out = _command(tmp_path, "tickets", "assign", "1", "nobody")
    resp = sup.post("/api/tickets/1/assign", json={"to": "nobody"}, headers=h)
    assert code == 1 and "error: cannot assign ticket #1: there is no user 'nobody'" in out
    assert resp.status_code == 409 and resp.json()["detail"] == "cannot assign ticket #1: there is no user 'nobody'"
    code, out = _command(tmp_path, "tickets", "assign", "1", "OP")
    assert code == 0 and "ticket #1 assigned to op" in out
    code, out = _command(tmp_path, "tickets", "assign", "2", "op")
    resp = sup.post("/api/tickets/2/assign", json={"to": "op"}, headers=h)
    assert code == 1 and "error: no ticket #2" in out
    assert resp.status_code == 404 and resp.json()["detail"] == "no ticket #2"
    web.engine.dispose()
