"""``warroom phones up|down``: the SIPp phone farm as the directory's phones, for the demo."""

from __future__ import annotations

import os
import random
import signal
from typing import Annotated, cast

import typer
from sqlalchemy import select

from db.models import Person
from sandbox.phonefarm import Behaviour, Kind, PhoneFarm
from warroom.cli_db import sessions
from warroom.settings import load_settings

phones_app = typer.Typer(help="Simulated phones (SIPp) answering the sandbox's phone lines, for the demo.",
                         no_args_is_help=True)


def _mix(rnd: random.Random) -> Behaviour:
    """Most people answer and press keys; some ring out, are busy, or their number is wrong."""
    kind = rnd.choices(["answer", "noanswer", "busy", "congestion", "notfound"], [70, 15, 8, 4, 3])[0]
    if kind != "answer":
        return Behaviour(cast(Kind, kind))
    return Behaviour("answer", digits=rnd.choice(["1", "2", "12", "1", "3"]), hold_ms=rnd.randint(8000, 25000),
                     delay_ms=rnd.randint(2000, 5000), digit_gap_ms=3000)


@phones_app.command("up")
def up(seed: Annotated[int, typer.Option(help="same seed, same behaviour per number")] = 1) -> None:
    """Start the phone farm with a behaviour for every phone in the directory."""
    settings = load_settings()
    rnd = random.Random(seed)
    with sessions()() as session:
        numbers: list[str] = [p for (p,) in session.execute(select(Person.phone))]
        numbers += [p for (p,) in session.execute(select(Person.alt_phone)) if p]
    workdir = settings.state_dir / "phones"
    pidfile = workdir / "farm.pid"
    _stop(pidfile)
    farm = PhoneFarm({n: _mix(rnd) for n in sorted(set(numbers))}, port=settings.asterisk.farm_port,
                     media_port=settings.asterisk.farm_port + 1000, workdir=workdir, max_calls=2000)
    farm.start()
    pidfile.write_text(str(farm.pid))
    typer.echo(f"{len(set(numbers)):,} simulated phones answering on 127.0.0.1:{settings.asterisk.farm_port} "
               f"(log: {farm.log_path})")


@phones_app.command("down")
def down() -> None:
    """Stop the phone farm."""
    settings = load_settings()
    typer.echo("phones stopped" if _stop(settings.state_dir / "phones" / "farm.pid") else "phones were not running")


def _stop(pidfile: os.PathLike[str]) -> bool:
    try:
        pid = int(open(pidfile).read().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return False
    finally:
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    return True
