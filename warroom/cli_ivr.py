"""``warroom ivr ...``: check, list and preview IVR scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from ari_handlers.ivr_store import CallInfo, inbound_info
from db.campaigns import Campaign
from db.models import Committee, Membership, Person
from dialer.campaigns import CampaignError, get_campaign
from ivr_scripts.context import sample_context
from ivr_scripts.engine import Engine
from ivr_scripts.library import UnknownScript
from ivr_scripts.loader import load_script
from ivr_scripts.model import Script, field_name
from ivr_scripts.problems import ScriptInvalid
from ivr_scripts.render import RenderError
from warroom.cli_db import sessions
from warroom.compose import script_library
from warroom.settings import load_settings

ivr_app = typer.Typer(help="IVR scripts: check them, list them, preview what a member will hear.",
                      no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@ivr_app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="script files (YAML)")], as_json: JsonOpt = False
             ) -> None:
    """Check scripts: unknown steps or settings, jumps to missing steps, unreachable steps, missing
    languages, undefined template variables. Every problem is printed with its line; exit 1 if any."""
    report: list[dict[str, Any]] = []
    for path in files:
        try:
            script = load_script(path)
        except ScriptInvalid as exc:
            report.append({"file": str(path), "ok": False,
                           "problems": [{"line": p.line, "message": p.message} for p in exc.problems]})
            continue
        report.append({"file": str(path), "ok": True, "name": script.name, "steps": len(script.steps),
                       "languages": script.languages})
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        for r in report:
            if r["ok"]:
                typer.echo(f"{r['file']}: ok ({r['name']}: {r['steps']} steps, {', '.join(r['languages'])})")
            else:
                for p in r["problems"]:
                    typer.echo(f"{r['file']}:{p['line']}: {p['message']}")
    if not all(r["ok"] for r in report):
        raise typer.Exit(1)


@ivr_app.command("list")
def list_scripts(as_json: JsonOpt = False) -> None:
    """The scripts the service can play: built-in ones and the war room's own (WARROOM_IVR__SCRIPTS_DIR)."""
    library = script_library(load_settings())
    rows: list[dict[str, Any]] = [{"name": s.name, "title": s.title, "languages": s.languages,
                                   "steps": len(s.steps), "fields": s.fields, "file": s.source}
                                  for s in map(library.get, library.names())]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            needs = f"; fields: {', '.join(r['fields'])}" if r["fields"] else ""
            typer.echo(f"{r['name']:<12} {', '.join(r['languages']):<7} {r['steps']:>2} steps  {r['title']}{needs}")
    for problem in library.problems:
        typer.secho(f"left out (fix it, then `warroom ivr validate`):\n{problem}", fg=typer.colors.YELLOW,
                    err=True)


def _member_context(member: int, language: str | None, campaign: str | None, party: str) -> CallInfo:
    with sessions()() as s:
        person = s.get(Person, member)
        if person is None:
            raise CampaignError(f"no member with id {member}")
        booth_id = s.scalar(select(Committee.unit_id).join(Membership, Membership.committee_id == Committee.id)
                            .where(Membership.person_id == member).order_by(Committee.unit_id.desc()))
        info = inbound_info(s, phone=person.phone, person_id=member, booth_id=booth_id, language=language,
                            party=party)
        if campaign:
            c: Campaign = get_campaign(s, campaign)
            info.context["campaign"] = {"name": c.name, **{field_name(k): v for k, v in (c.fields or {}).items()}}
    return info


@ivr_app.command("preview")
def preview(
    script: Annotated[str, typer.Argument(help="a script name (see `warroom ivr list`) or a script file")],
    member: Annotated[int | None, typer.Option(help="a member's id: render with their booth, AC...")] = None,
    lang: Annotated[str | None, typer.Option(help="hi or en (default: the member's language)")] = None,
    campaign: Annotated[str | None, typer.Option(help="a campaign whose fields the templates use")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print every text of a script as the member would hear it (a made-up member without --member)."""
    settings = load_settings()
    try:
        chosen: Script = load_script(Path(script)) if script.endswith((".yaml", ".yml")) else \
            script_library(settings).get(script)
        if member is not None:
            info = _member_context(member, lang, campaign, settings.directory.party)
            context, language = info.context, lang or info.language
        else:
            language = lang or chosen.languages[0]
            context = sample_context(language)
        engine = Engine(chosen, language, context)
        rows = []
        for step in chosen.steps:
            for part, text in step.texts().items():
                if text:
                    prompt = engine.prompt(step, part)
                    rows.append({"step": step.id, "kind": step.kind, "part": part, "text": prompt.text})
    except (ScriptInvalid, UnknownScript, CampaignError, RenderError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"script": chosen.name, "language": engine.language, "texts": rows},
                              ensure_ascii=False))
        return
    typer.echo(f"{chosen.name} ({engine.language}){': ' + chosen.title if chosen.title else ''}")
    for r in rows:
        label = r["step"] if r["part"] == "text" else f"{r['step']} ({r['part']})"
        typer.echo(f"  [{r['kind']}] {label}: {r['text']}")
