"""``warroom phones up|operator|call|down``: the SIPp phone farm as the directory's phones, a simulated
operator's softphone, and a booth worker calling the hotline, for the demo."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Annotated, cast

import typer

from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour, Kind, PhoneFarm, stop_sipp
from warroom.cli_db import open_database
from warroom.cli_directory import directory
from warroom.cli_errors import fail, reported, run
from warroom.demo_operator import apply_endpoints, find_operator, make_ready, pid_file, softphone_for
from warroom.settings import load_settings

phones_app = typer.Typer(help="Simulated phones (SIPp) on the sandbox, for the demo: the directory's phones, "
                         "an operator's softphone, a hotline caller.", no_args_is_help=True)


def _mix(rnd: random.Random) -> Behaviour:
    """Most people answer, press keys and stay to the end (some leave a spoken message); some hang up
    early, ring out, are busy, or their number is wrong."""
    kind = rnd.choices(["answer", "noanswer", "busy", "congestion", "notfound"], [70, 15, 8, 4, 3])[0]
    if kind != "answer":
        return Behaviour(cast(Kind, kind))
    keys = rnd.choice(["11", "12", "2", "122", "21", "1", "3", "9"])
    return Behaviour("answer", digits=keys, hold_ms=rnd.choice([90_000, 90_000, 90_000, 20_000]),
                     delay_ms=rnd.randint(2000, 5000), digit_gap_ms=1500,
                     voice_ms=rnd.choice([0, 15_000, 20_000]))


@phones_app.command("up")
def up(seed: Annotated[int, typer.Option(help="same seed, same behaviour per number")] = 1) -> None:
    """Start the phone farm with a behaviour for every phone in the directory."""
    settings = load_settings()
    rnd = random.Random(seed)
    numbers = run(directory().phones())
    workdir = settings.state_dir / "phones"
    pidfile = workdir / "farm.pid"
    _stop(pidfile)
    farm = PhoneFarm({n: _mix(rnd) for n in numbers}, port=settings.asterisk.farm_port,
                     media_port=settings.asterisk.farm_port + 1000, workdir=workdir, max_calls=2000)
    farm.start()
    pidfile.write_text(str(farm.pid))
    typer.echo(f"{len(numbers):,} simulated phones answering on 127.0.0.1:{settings.asterisk.farm_port} "
               f"(log: {farm.log_path})")


@phones_app.command("operator")
def operator(
    username: Annotated[str, typer.Argument(help="an operator (warroom users add NAME --role operator)")],
    hold: Annotated[int, typer.Option(help="seconds the operator talks before hanging up", min=1)] = 20,
    port: Annotated[int | None, typer.Option(help="the softphone's SIP port (default: the farm's + 30)")] = None,
) -> None:
    """A simulated softphone for operator USERNAME in the background, and the operator ready.

    Applies the operator's endpoint to Asterisk, registers it (again every minute), answers every call after a
    ring and hangs up after --hold seconds; the operator goes ready, so hotline callers pressing 0 (`warroom
    phones call NUMBER --keys 0`), unknown callers and survey transfers ring it, and the console (signed in as
    USERNAME) shows each call. `warroom phones down` stops it."""
    settings = load_settings()
    db = open_database()
    with reported():
        desk = db.transaction(find_operator, username)
        asyncio.run(apply_endpoints(settings, db, desk.endpoint))
    pidfile = pid_file(settings, username)
    _stop(pidfile)
    phone = softphone_for(settings, desk, hold_seconds=hold, port=port)
    result = phone.start()
    if result != "registered" or phone.pid is None:
        typer.secho(f"error: the softphone of {desk.endpoint} did not register: {result}", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(1)
    pidfile.write_text(str(phone.pid))
    db.transaction(make_ready, desk.user_id)
    typer.echo(f"{desk.endpoint} registered from 127.0.0.1:{phone.port}, answering every call (hangs up after "
               f"{hold} s); {username} is ready (log: {phone.log_path})")


@phones_app.command("call")
def call(
    number: Annotated[str, typer.Argument(help="the caller's phone, e.g. 9826012345 (a member's: a known caller)")],
    keys: Annotated[str, typer.Option(help="keys to press: 13 = report a problem about the opposing party")] = "",
    speak_after: Annotated[int, typer.Option(help="ms after the last key to speak a message (0: silent)")] = 9000,
    hotline: Annotated[str, typer.Option(help="the number dialed")] = "07552551234",
) -> None:
    """A booth worker calling the hotline from NUMBER: presses KEYS, speaks, waits for the war room."""
    settings = load_settings()
    workdir = settings.state_dir / "phones" / "caller"
    try:
        result = call_in(number, service=hotline, sip_port=settings.asterisk.sip_port, workdir=workdir,
                         digits=keys, voice_ms=speak_after if keys else 0, local_port=settings.asterisk.farm_port + 20,
                         media_port=settings.asterisk.farm_port + 1900)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"call ended (hung up by {result.hung_up_by}): {', '.join(result.events) or 'no answer'}")
    raise typer.Exit(0 if result.exit_code == 0 else 1)


@phones_app.command("down")
def down() -> None:
    """Stop the phone farm and the operators' softphones."""
    settings = load_settings()
    workdir = settings.state_dir / "phones"
    stopped = [_stop(pidfile) for pidfile in [workdir / "farm.pid", *sorted(workdir.glob("operator-*.pid"))]]
    typer.echo("phones stopped" if any(stopped) else "phones were not running")


def _stop(pidfile: os.PathLike[str]) -> bool:
    """Stop the SIPp process of ``pidfile`` (and wait until it is gone); False when none was running."""
    try:
        pid = int(open(pidfile).read().strip())
        with open(f"/proc/{pid}/comm") as comm:
            if comm.read().strip() != "sipp":  # a stale file: that process id is someone else's now
                return False
    except (OSError, ValueError):
        return False
    finally:
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    stop_sipp(pid)
    return True
