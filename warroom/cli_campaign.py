"""``warroom campaign ...``: create and steer campaigns (the running service picks changes up at once)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select

from db.campaigns import Campaign
from dialer.campaigns import (
    CampaignError,
    Selection,
    campaign_summary,
    change_state,
    create_campaign,
    get_campaign,
    parse_retry,
    progress,
    resolve_units,
)
from warroom.cli_db import sessions
from warroom.compose import calling_rules, script_library
from warroom.settings import load_settings

campaign_app = typer.Typer(help="Campaigns: who to call, when, and how.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CampaignError(f"{what} '{item}': expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


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
    trunk: Annotated[str, typer.Option(help="the trunk to dial out on")] = "lines",
    script: Annotated[list[str] | None, typer.Option(help="STATUS=SCRIPT for IVR campaigns")] = None,
    field: Annotated[list[str] | None, typer.Option(help="KEY=VALUE template field (date, place...)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a campaign (draft) with its targets chosen from the directory; `start` sets it going."""
    settings = load_settings()
    factory = sessions()
    try:
        scripts, fields = _pairs(script or [], "script"), _pairs(field or [], "field")
        if mode == "ivr":
            problems = script_library(settings).campaign_problems(scripts, fields)
            if problems:
                raise CampaignError("; ".join(problems))
        with factory.begin() as s:
            units = resolve_units(s, list(unit or []) + [f"ac:{n}" for n in ac or []])
            rules: dict[str, Any] = {}
            if window:
                begin, sep, finish = window.partition("-")
                if not sep:
                    raise CampaignError(f"window '{window}': expected HH:MM-HH:MM")
                rules.update(window_start=begin.strip(), window_end=finish.strip())
            if timezone:
                rules["timezone"] = timezone
            selection = Selection(units, tuple(level or []), tuple(post or []), tuple(status or []))
            campaign = create_campaign(
                s, name=name, mode=mode, selection=selection,
                trunk=trunk, priority=priority, starts_at=start, ends_at=end, rules=rules,
                retry=parse_retry(retry or []), use_alternate=not no_alternate,
                scripts=scripts, fields=fields,
                defaults=calling_rules(settings))
            figures = progress(s, campaign.id)
            out = campaign_summary(campaign, figures)
    except CampaignError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"campaign {out['id']} '{name}' created (draft) with {figures['targets']} targets; "
                   f"`warroom campaign start {out['id']}` to begin")


@campaign_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """All campaigns with their progress."""
    with sessions()() as s:
        rows = [campaign_summary(c, progress(s, c.id)) for c in s.scalars(select(Campaign).order_by(Campaign.id))]
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
    try:
        with sessions()() as s:
            c = get_campaign(s, campaign)
            out = campaign_summary(c, progress(s, c.id))
    except CampaignError as exc:
        _fail(str(exc))
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


def _state_command(action: str) -> None:
    def command(campaign: str, as_json: JsonOpt = False) -> None:
        try:
            with sessions().begin() as s:
                c = change_state(s, campaign, action)
                out = campaign_summary(c)
        except CampaignError as exc:
            _fail(str(exc))
        typer.echo(json.dumps(out) if as_json else f"campaign {out['id']} '{out['name']}' is {out['state']}")

    command.__doc__ = {"start": "Start a draft campaign.", "pause": "Pause: no new calls; calls in progress end.",
                       "resume": "Resume a paused campaign.",
                       "stop": "Stop for good: no new calls; calls in progress end."}[action]
    campaign_app.command(action)(command)


for _action in ("start", "pause", "resume", "stop"):
    _state_command(_action)
