"""``warroom campaign ...``: create and steer campaigns (the running service picks changes up at once)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

import typer

from audit.log import Actor
from db.models import utcnow
from dialer.campaigns import parse_pairs
from dialer.service import CampaignService, CampaignSpec
from operators.pacing_service import PacingService
from warroom.cli_db import open_database
from warroom.cli_errors import reported, run
from warroom.compose import calling_rules, script_library
from warroom.settings import load_settings

campaign_app = typer.Typer(help="Campaigns: who to call, when, and how.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def campaigns() -> CampaignService:
    """Campaigns over the configured database, with the settings' calling rules and the IVR scripts' check
    (the running service notices changes by itself)."""
    settings = load_settings()
    return CampaignService(open_database(), defaults=calling_rules(settings),
                           check_scripts=lambda scripts, fields: script_library(settings).campaign_problems(
                               scripts, fields))


@campaign_app.command("create")
def create(
    name: str,
    mode: Annotated[str, typer.Option(help="ivr (automated script) or operator (progressive)")] = "ivr",
    unit: Annotated[list[str] | None, typer.Option(help="unit key (ac:112, booth:112:45...) or id; repeatable")] = None,
    ac: Annotated[list[int] | None, typer.Option(help="assembly constituency number; repeatable")] = None,
    level: Annotated[list[str] | None, typer.Option(help="committee level: district/mandal/sector/booth")] = None,
    post: Annotated[list[str] | None, typer.Option(help="post, e.g. president, BLA; repeatable")] = None,
    status: Annotated[list[str] | None, typer.Option(help="booth status: strong/weak/swing/unknown")] = None,
    window: Annotated[str | None, typer.Option(help="calling window HH:MM-HH:MM (default from settings)")] = None,
    timezone: Annotated[str | None, typer.Option(help="time zone of the window")] = None,
    start: Annotated[datetime | None, typer.Option(help="do not call before (ISO time, UTC if no zone)")] = None,
    end: Annotated[datetime | None, typer.Option(help="do not call after")] = None,
    priority: Annotated[int, typer.Option(help="higher first when lines are short")] = 5,
    retry: Annotated[list[str] | None, typer.Option(help="OUTCOME=TRIES/AFTER, e.g. no_answer=3/30m")] = None,
    no_alternate: Annotated[bool, typer.Option("--no-alternate", help="never try alternate phones")] = False,
    trunk: Annotated[str, typer.Option(help="the trunk to dial out on, or several in order of preference "
                                            "(lines,gsm): a trunk that is down is passed over")] = "lines",
    script: Annotated[list[str] | None, typer.Option(help="STATUS=SCRIPT for IVR campaigns")] = None,
    field: Annotated[list[str] | None, typer.Option(help="KEY=VALUE template field (date, place...)")] = None,
    record: Annotated[bool, typer.Option("--record", help="record operators' calls (the person called hears "
                                                          "that the call may be recorded first)")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count who it would reach and who the calling rules "
                                                            "hold back, and why; create nothing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a campaign (draft) with its targets chosen from the directory; `start` sets it going."""
    with reported():
        spec = CampaignSpec(
            name=name, mode=mode, units=[*(unit or []), *(f"ac:{n}" for n in ac or [])], levels=level or [],
            posts=post or [], statuses=status or [], window=window, timezone=timezone, starts_at=start, ends_at=end,
            priority=priority, retry=retry or [], use_alternate=not no_alternate, trunk=trunk,
            scripts=parse_pairs(script or [], "script"), fields=parse_pairs(field or [], "field"), record_calls=record)
    if dry_run:
        reach = run(campaigns().reach(spec))
        if as_json:
            typer.echo(json.dumps(reach, ensure_ascii=False))
            return
        typer.echo(f"'{name}' would reach {reach['people']:,} people in {reach['committees']:,} committees; "
                   f"{reach['held_back']:,} held back by the calling rules")
        for r in reach["reasons"]:
            typer.echo(f"  {r['count']:>7,} {r['rule']}: {r['reason']}")
        if reach["calls_from"]:
            typer.echo(f"calls begin at {reach['calls_from'][:16].replace('T', ' ')}")
        return
    out = run(campaigns().create(spec, Actor.cli()))
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"campaign {out['id']} '{name}' created (draft) with {out['progress']['targets']} targets; "
                   f"`warroom campaign start {out['id']}` to begin")


@campaign_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """All campaigns with their progress."""
    rows = run(campaigns().list())
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no campaigns yet: `warroom campaign create --help`")
    for r in rows:
        p = r["progress"]
        typer.echo(f"{r['id']:>4}  {r['name']:<30} {r['mode']:<8} {r['state']:<9} "
                   f"{p['done']}/{p['targets']} done, {p['due']} due, {p['in_flight']} in flight")


@campaign_app.command("show")
def show(campaign: str, as_json: JsonOpt = False) -> None:
    """One campaign: settings, progress, dispositions, and what holds targets back."""
    out = run(campaigns().show(campaign))
    if as_json:
        typer.echo(json.dumps(out))
        return
    p = out["progress"]
    typer.echo(f"campaign {out['id']} '{out['name']}': {out['mode']}, {out['state']}, priority {out['priority']}, "
               f"trunk {out['trunk']}")
    typer.echo(f"targets {p['targets']}: {p['done']} done ({p['removed']} removed), {p['due']} due, "
               f"{p['in_flight']} in flight")
    typer.echo("dispositions: " + (", ".join(f"{k} {v}" for k, v in p["dispositions"].items()) or "none yet"))
    if p["blocked"]:
        typer.echo("held back: " + ", ".join(f"{k} {v}" for k, v in p["blocked"].items()))
    if out.get("waiting"):
        typer.echo(f"waiting: {out['waiting']}")


@campaign_app.command("clone")
def clone(campaign: str, name: Annotated[str, typer.Argument(help="the new campaign's name")],
          as_json: JsonOpt = False) -> None:
    """A new draft campaign with the settings of CAMPAIGN, its targets chosen from the directory as it is now."""
    out = run(campaigns().clone(campaign, name, Actor.cli()))
    typer.echo(json.dumps(out) if as_json else
               f"campaign {out['id']} '{out['name']}' created (draft) with {out['progress']['targets']} targets")


def _state_command(action: str) -> None:
    def command(campaign: str, as_json: JsonOpt = False) -> None:
        out = run(campaigns().change(campaign, action, Actor.cli()))
        typer.echo(json.dumps(out) if as_json else f"campaign {out['id']} '{out['name']}' is {out['state']}")

    command.__doc__ = {"start": "Start a draft campaign.", "pause": "Pause: no new calls; calls in progress end.",
                       "resume": "Resume a paused campaign.",
                       "stop": "Stop for good: no new calls; calls in progress end."}[action]
    campaign_app.command(action)(command)


for _action in ("start", "pause", "resume", "stop"):
    _state_command(_action)


@campaign_app.command("pacing")
def pacing(campaign: str,
           mode: Annotated[str | None, typer.Option("--mode", help="progressive or predictive")] = None,
           cap: Annotated[str | None, typer.Option("--cap", help="abandon cap: 3% or 0.03")] = None,
           as_json: JsonOpt = False) -> None:
    """Switch an operator campaign between progressive and predictive dialing and/or set its abandon cap."""
    settings = load_settings()
    service = PacingService(open_database(), dict, window=timedelta(minutes=settings.dialer.predictive_window_minutes),
                            timezone=settings.dialer.timezone, clock=utcnow)
    out = run(service.set(campaign, Actor.cli(), mode, cap))
    typer.echo(json.dumps(out) if as_json else
               f"campaign {out['id']} '{out['name']}': {out['pacing']}, abandon cap {out['abandon_cap']:.1%}")
