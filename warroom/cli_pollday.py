"""``warroom pollday ...``: each AC's poll-day plan (report times, posts called, script) and its board."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Annotated

import typer

from audit.log import Actor
from core.errors import Invalid
from events.bus import EventBus
from pollday.plan import DEFAULT_POSTS, DEFAULT_REPORTS, PollDayPlan
from pollday.service import PollDayService
from warroom.cli_db import open_database
from warroom.cli_errors import run

pollday_app = typer.Typer(help="Poll day: turnout rounds from every booth.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def service() -> PollDayService:
    return PollDayService(open_database(), EventBus())


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
