"""``warroom ivr ...``: check, list and preview IVR scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ari_handlers.ivr_store import inbound_info
from ivr_scripts.loader import load_script
from ivr_scripts.problems import ScriptInvalid
from ivr_scripts.service import ScriptService
from warroom.cli_db import open_database
from warroom.cli_errors import run
from warroom.compose import script_library
from warroom.settings import load_settings

ivr_app = typer.Typer(help="IVR scripts: check them, list them, preview what a member will hear.",
                      no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


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
    rows = library.summaries()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            needs = f"; fields: {', '.join(r['fields'])}" if r["fields"] else ""
            typer.echo(f"{r['name']:<12} {', '.join(r['languages']):<7} {r['steps']:>2} steps  {r['title']}{needs}")
    for problem in library.problems:
        typer.secho(f"left out (fix it, then `warroom ivr validate`):\n{problem}", fg=typer.colors.YELLOW,
                    err=True)


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
    scripts = ScriptService(open_database() if member is not None else None, script_library(settings),
                            inbound_info=inbound_info, party=settings.directory.party)
    out = run(scripts.preview(script, member=member, language=lang, campaign=campaign))
    if as_json:
        typer.echo(json.dumps({"script": out["script"], "language": out["language"], "texts": out["texts"]},
                              ensure_ascii=False))
        return
    typer.echo(f"{out['script']} ({out['language']}){': ' + out['title'] if out['title'] else ''}")
    for r in out["texts"]:
        label = r["step"] if r["part"] == "text" else f"{r['step']} ({r['part']})"
        typer.echo(f"  [{r['kind']}] {label}: {r['text']}")
