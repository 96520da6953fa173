"""``warroom pollday ...``: each AC's poll-day plan (report times, posts called, script) and its board;
counting day's plan (rounds, tables, parties) and its result sheet; who a round would reach."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Annotated, Any

import typer

from audit.log import Actor
from core.errors import Invalid
from events.bus import EventBus
from pollday.counting import DEFAULT_COUNTING_POSTS, CountingPlan, Party
from pollday.plan import DEFAULT_POSTS, DEFAULT_REPORTS, PollDayPlan
from pollday.service import PollDayService
from warroom.cli_db import open_database
from warroom.cli_errors import run
from warroom.compose import calling_rules
from warroom.settings import load_settings

pollday_app = typer.Typer(help="Poll day: turnout rounds from every booth.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def service() -> PollDayService:
    return PollDayService(open_database(), EventBus(), rules=calling_rules(load_settings()))


def _times(text: str, what: str) -> tuple[time, ...]:
    try:
        return tuple(time.fromisoformat(t.strip()) for t in text.split(",") if t.strip())
    except ValueError:
        raise Invalid(f"{what} '{text}': expected HH:MM times separated by commas", field=what) from None


@pollday_app.command("plan")
def plan(
    ac: Annotated[str, typer.Argument(help="the AC: ac:152 or its id")],
    poll_date: Annotated[str, typer.Option("--date", help="poll date, YYYY-MM-DD")],
    times: Annotated[str, typer.Option(help="report times")] = ",".join(f"{t:%H:%M}" for t in DEFAULT_REPORTS),
    opens: Annotated[str, typer.Option(help="poll opens")] = "07:00",
    closes: Annotated[str, typer.Option(help="poll closes")] = "18:00",
    posts: Annotated[str, typer.Option(help="committee posts called, in order")] = ",".join(DEFAULT_POSTS),
    script: Annotated[str, typer.Option(help="the rounds' IVR script")] = "turnout",
    timezone: Annotated[str, typer.Option(help="the plan's time zone")] = "Asia/Kolkata",
    close_round: Annotated[bool, typer.Option(help="a last round at the close of poll")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Write (or replace) an AC's poll-day plan."""
    async def work() -> dict[str, object]:
        svc = service()
        try:
            day = date.fromisoformat(poll_date)
        except ValueError:
            raise Invalid(f"--date '{poll_date}': expected YYYY-MM-DD", field="date") from None
        [o], [c] = _times(opens, "opens"), _times(closes, "closes")
        p = PollDayPlan(ac_id=await svc.ac_id(ac), poll_date=day, opens=o, closes=c,
                        report_times=_times(times, "times"), close_round=close_round, timezone=timezone,
                        posts=tuple(x.strip() for x in posts.split(",") if x.strip()), script=script)
        return await svc.save_plan(p, Actor.cli())
    out = run(work())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    rounds = out["rounds"]
    assert isinstance(rounds, list)
    typer.echo(f"AC {out['ac_id']} poll day {out['poll_date']}: rounds "
               + ", ".join(f"{r['number']} at {r['label']}" for r in rounds))


@pollday_app.command("board")
def board(ac: Annotated[str, typer.Argument(help="the AC: ac:152 or its id")], as_json: JsonOpt = False) -> None:
    """The AC's board now: booths reported this round, silent, alerts."""
    async def work() -> dict[str, object]:
        svc = service()
        return await svc.board(await svc.ac_id(ac))
    out = run(work())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    typer.echo(f"round {out['round']}: {out['reported']} of {out['booths']} booths reported; "
               f"{out['open_alerts']} open alerts; {out['urgent_tickets']} urgent tickets")


@pollday_app.command("reach")
def reach(ac: Annotated[str, typer.Argument(help="the AC: ac:152 or its id")],
          counting: Annotated[bool, typer.Option(help="the counting round, not the turnout round")] = False,
          as_json: JsonOpt = False) -> None:
    """Who the AC's current (or next) round would call, and who the calling rules would hold back (the plan's
    own agents are called inside the silence period and outside the calling window, never 22:00-06:00)."""
    async def work() -> dict[str, object]:
        svc = service()
        return await svc.reach(await svc.ac_id(ac), counting=counting)
    out = run(work())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    if out["round"] is None:
        typer.echo("no round left: the plan's day is over")
        return
    reasons = out.get("reasons") or []
    assert isinstance(reasons, list)
    typer.echo(f"round {out['round']} ({out['label']}): {out['people']} agents, {out['held_back']} held back by the "
               "calling rules" + "".join(f"\n  {r['rule']}: {r['count']} ({r['reason']})" for r in reasons))


def _parties(text: str) -> tuple[Party, ...]:
    """``BJP=Suresh Sharma,INC,BSP`` -> the sheet's parties in order (a candidate's name after ``=``)."""
    out = []
    for item in text.split(","):
        key, _, name = item.partition("=")
        if key.strip():
            out.append(Party(key.strip(), name.strip()))
    return tuple(out)


@pollday_app.command("counting")
def counting(
    ac: Annotated[str, typer.Argument(help="the AC: ac:152 or its id")],
    counting_date: Annotated[str, typer.Option("--date", help="counting date, YYYY-MM-DD")],
    rounds: Annotated[int, typer.Option(help="rounds of counting")],
    tables: Annotated[int, typer.Option(help="counting tables in the hall")],
    parties: Annotated[str, typer.Option(help="the result sheet's parties in order: BJP=Candidate,INC,...")],
    starts: Annotated[str, typer.Option(help="counting begins")] = "08:00",
    every: Annotated[int, typer.Option(help="minutes a round takes")] = 30,
    posts: Annotated[str, typer.Option(help="committee posts called, in order (the table number follows: "
                                            "'Counting agent 3')")] = ",".join(DEFAULT_COUNTING_POSTS),
    script: Annotated[str, typer.Option(help="the rounds' IVR script")] = "counting",
    timezone: Annotated[str, typer.Option(help="the plan's time zone")] = "Asia/Kolkata",
    max_votes: Annotated[int, typer.Option(help="a table's round above this is flagged as absurd")] = 2000,
    as_json: JsonOpt = False,
) -> None:
    """Write (or replace) an AC's counting plan: the counting agents are called after each round."""
    async def work() -> dict[str, object]:
        svc = service()
        try:
            day = date.fromisoformat(counting_date)
        except ValueError:
            raise Invalid(f"--date '{counting_date}': expected YYYY-MM-DD", field="date") from None
        [begin] = _times(starts, "starts")
        p = CountingPlan(ac_id=await svc.ac_id(ac), counting_date=day, round_count=rounds, tables=tables,
                         parties=_parties(parties), starts=begin, round_minutes=every, timezone=timezone,
                         posts=tuple(x.strip() for x in posts.split(",") if x.strip()), script=script,
                         max_votes=max_votes)
        return await svc.save_counting_plan(p, Actor.cli())
    out = run(work())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    rows = out["rounds"]
    assert isinstance(rows, list)
    typer.echo(f"AC {out['ac_id']} counting {out['counting_date']}: {out['tables']} tables, {len(rows)} rounds "
               f"from {rows[0]['label']} to {rows[-1]['label']}")


@pollday_app.command("sheet")
def sheet(ac: Annotated[str, typer.Argument(help="the AC: ac:152 or its id")], as_json: JsonOpt = False) -> None:
    """The AC's counting result sheet now: each round's votes per party, the running totals and the leader."""
    async def work() -> dict[str, Any]:
        svc = service()
        return await svc.counting_sheet(await svc.ac_id(ac))
    out = run(work())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    keys = [str(p["key"]) for p in out["parties"]]
    typer.echo("round  " + "  ".join(f"{k:>8}" for k in keys) + "     total  leading (margin)  not reported")
    for r in out["rows"]:
        if not r["due"]:
            continue
        typer.echo(f"{r['round']:>5}  " + "  ".join(f"{v:>8}" for v in r["cumulative"])
                   + f"  {r['cumulative_total']:>8}  {r['leader'] or '-'} ({r['margin']})"
                   + f"  {' '.join(map(str, r['missing'])) or '-'}")
