#!/usr/bin/env python3
"""Benchmark a poll-day turnout round through the sandbox Asterisk: real calls, real IVR, the phone farm's
usual mix.

``--booths`` booths in one AC, each with a president and a secretary (their own phones); the plan's round
calls the presidents at once and the secretaries ``pollday.store.FALLBACK`` later, retrying as the dialer's
default policy says, over ``--lines`` lines. Every phone behaves as the phone farm's usual mix
(``sandbox.traffic.MIX``: 60% answer, 20% ring out, 10% busy, 5% congestion, 5% not found; a phone does the
same every time it is called); one that answers types the turnout (412 #), hears it read back and confirms
with 1. The service's clock runs ``--speed`` times faster than the real one, so the plan's waits (the next
post, the retries) pass quickly while calls take their real time: a call of about 8 s through the sandbox
counts as 80 s at the default speed 10, about what a booth agent takes.

Prints, in the round's own (fast) time: when the first and the last booth reported, the share of booths
reached, and what the supervisors' estimate (``pollday.rounds.estimate``) said of the round beforehand.

    .venv/bin/python scripts/bench_pollday_round.py                       # 1,000 booths, 100 lines
    .venv/bin/python scripts/bench_pollday_round.py --booths 200 --lines 20
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from audit.log import Actor
from db import migrate
from db.campaigns import Attempt, Campaign
from db.models import BoothStatus, Committee, Membership, Person, Unit, UnitKind
from db.pollday import PollReport, PollRound
from pollday.plan import PollDayPlan
from pollday.rounds import estimate
from pollday.store import FALLBACK
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.traffic import behaviours
from warroom.compose import build_sandbox, build_service
from warroom.settings import AsteriskSettings, IvrSettings, Settings, TrunkSettings, with_secrets

IST = ZoneInfo("Asia/Kolkata")
SCRIPT = """\
name: benchround
languages: [en, hi]
steps:
  - id: votes
    number: {en: "Votes polled so far at your booth? Then hash.", hi: "अब तक कितने वोट पड़े? फिर हैश।"}
    max: 2000
    timeout: 4
    confirm: {en: "You entered {{ entered }}. 1 to confirm, 2 to re-enter.", hi: "{{ entered }}। सही है तो 1, नहीं तो 2।"}
    on_fail: thanks
  - id: thanks
    end: {en: "Thank you.", hi: "धन्यवाद।"}
"""
POSTS = ("president", "secretary")


def directory(sessions: sessionmaker[Session], booths: int, poll_end: datetime,
              seed: int) -> tuple[int, list[str]]:
    """One AC of ``booths`` booths (strong / weak / swing at random), a president and a secretary each;
    returns the AC's id and the phones, presidents first."""
    rnd = random.Random(seed)
    statuses = list(BoothStatus)
    with sessions.begin() as s:
        ac = Unit(key="ac:1", kind=UnitKind.ac, name="Bench AC", number=1, poll_end_at=poll_end)
        s.add(ac)
        s.flush()
        s.execute(insert(Unit), [{"key": f"booth:1:{i}", "kind": UnitKind.booth, "name": f"Booth {i}",
                                  "number": i + 1, "parent_id": ac.id, "ac_id": ac.id, "voter_count": 1000,
                                  "status_override": rnd.choice(statuses)} for i in range(booths)])
        units = s.scalars(select(Unit.id).where(Unit.kind == UnitKind.booth).order_by(Unit.number)).all()
        s.execute(insert(Committee), [{"unit_id": u} for u in units])
        committees = dict(s.execute(select(Committee.unit_id, Committee.id)).all())
        phones = [f"+9170{i:08d}" for i in range(2 * booths)]
        s.execute(insert(Person), [{"name": f"Agent {i}", "phone": p, "language": "hi" if i % 3 else "en"}
                                   for i, p in enumerate(phones)])
        people = dict(s.execute(select(Person.phone, Person.id)).all())
        s.execute(insert(Membership), [{"person_id": people[phones[k * booths + i]], "committee_id": committees[u],
                                        "post": post} for k, post in enumerate(POSTS) for i, u in enumerate(units)])
        return ac.id, phones


def farm_phones(phones: list[str], seed: int) -> dict[str, Behaviour]:
    """The usual mix over ``phones``; a phone that answers types 412 #, then 1 once it is read back."""
    mix = list(behaviours(len(phones), 1.0, seed).values())
    return {phone: (Behaviour("answer", digits="412#1", delay_ms=900, digit_gap_ms=350, hold_ms=30_000)
                    if b.kind == "answer" else b) for phone, b in zip(phones, mix, strict=True)}


async def run(settings: Settings, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    today = datetime.now(IST).date()
    start = datetime.combine(today, clock_time(11), tzinfo=IST)  # the round's report time
    t0 = time.monotonic()

    def clock() -> datetime:
        return (start + timedelta(seconds=(time.monotonic() - t0) * args.speed)).astimezone(UTC)

    dialer = settings.dialer.model_copy(update={"min_gap_minutes": 0, "poll_interval": 0.5,
                                                "ring_timeout": max(2, round(args.ring_seconds / args.speed))})
    service = build_service(settings.model_copy(update={"dialer": dialer,
                                                        "database_url": f"sqlite:///{work / 'bench.db'}"}),
                            clock=clock)
    migrate.upgrade(service.db.engine)
    sessions = service.db.sessions
    poll_end = datetime.combine(today, clock_time(18), tzinfo=IST).astimezone(UTC)
    ac_id, phones = directory(sessions, args.booths, poll_end, args.seed)
    farm = PhoneFarm(farm_phones(phones, args.seed), port=args.farm_port, media_port=args.farm_port + 1000,
                     workdir=work / "farm", max_calls=args.lines * 2)
    farm.start()
    plan = PollDayPlan(ac_id=ac_id, poll_date=today, report_times=(clock_time(11), clock_time(13)), posts=POSTS,
                       script="benchround", call_delay=timedelta(0))
    first = plan.rounds()[0]
    fits = estimate(first, args.booths, args.lines, args.call_seconds, tries=1.3)
    try:
        await service.start()
        assert await service.ami.wait_up(10) and await service.ari.wait_up(10), "Asterisk links did not come up"
        assert service.pollday is not None
        saved, real0 = clock(), time.monotonic()
        await service.pollday.save_plan(plan, Actor("bench"))
        while True:
            await asyncio.sleep(2)
            with sessions() as s:
                reported = s.scalar(select(func.count()).select_from(PollReport)
                                    .where(PollReport.round == 1, PollReport.votes.is_not(None))) or 0
                state = s.scalar(select(Campaign.state).join(PollRound, PollRound.campaign_id == Campaign.id))
                calls = s.scalar(select(func.count()).select_from(Attempt)) or 0
            now = clock().astimezone(IST)
            print(f"\r  {now:%H:%M} (round time): {reported}/{args.booths} booths reported, {calls} calls",
                  end="", file=sys.stderr, flush=True)
            if (state is not None and state.value == "completed") or clock() >= first.until:
                break
        print(file=sys.stderr)
        real = time.monotonic() - real0
    finally:
        await service.stop()
        farm.stop()
    with sessions() as s:
        times = s.scalars(select(PollReport.at).where(PollReport.round == 1, PollReport.votes.is_not(None))
                          .order_by(PollReport.at)).all()
        calls = s.scalar(select(func.count()).select_from(Attempt)) or 0
        wrong = s.scalar(select(func.count()).select_from(PollReport).where(PollReport.round == 1,
                                                                            PollReport.votes != 412)) or 0
    began = max(first.calls_from.astimezone(UTC), saved)
    return {"reported": len(times), "calls": calls, "wrong": wrong, "real": real, "fits": fits,
            "first": (times[0] - began).total_seconds() if times else None,
            "last": (times[-1] - began).total_seconds() if times else None,
            "half": (times[len(times) // 2] - began).total_seconds() if times else None,
            "window": (first.until - began).total_seconds()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--booths", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=100)
    ap.add_argument("--speed", type=float, default=10.0, help="the service's clock runs this many times faster")
    ap.add_argument("--ring-seconds", type=float, default=30.0, help="a call that is not answered rings this long "
                    "(round time)")
    ap.add_argument("--call-seconds", type=float, default=75.0, help="an answered call's length the supervisors' "
                    "estimate assumes (round time)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--farm-port", type=int, default=46070)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-round-"))
    (work / "scripts").mkdir()
    (work / "scripts" / "benchround.yaml").write_text(SCRIPT, encoding="utf-8")
    ports = {"ami_port": 46038, "http_port": 49088, "sip_port": 46060, "rtp_start": 24000, "rtp_end": 27999,
             "agi_port": 44673}
    ast = AsteriskSettings(node="benchround", trunks=[TrunkSettings(name="lines", lines=args.lines,
                                                                    port=args.farm_port)], **ports)
    settings = with_secrets(Settings(state_dir=work / "state", asterisk=ast,
                                     ivr=IvrSettings(scripts_dir=work / "scripts")))
    box = build_sandbox(ast)
    box.down()
    box.up(timeout=90)
    try:
        print(f"poll-day round: {args.booths} booths (president, then the secretary {FALLBACK} later) over "
              f"{args.lines} lines, clock x{args.speed:g}", file=sys.stderr)
        f = asyncio.run(run(settings, args, work))
    finally:
        box.down()
        shutil.rmtree(work, ignore_errors=True)
    minutes = {k: (f[k] / 60 if f[k] is not None else float("nan")) for k in ("first", "half", "last")}
    print(f"round of {args.booths} booths over {args.lines} lines ({f['calls']} calls, {f['real']:.0f} s of real "
          f"time at x{args.speed:g}):")
    print(f"  booths reached: {f['reported']} ({f['reported'] / args.booths:.1%}); wrong figures stored: "
          f"{f['wrong']}")
    print(f"  reports in (round time from its start): first {minutes['first']:.1f} min, half {minutes['half']:.1f} "
          f"min, every booth that answered {minutes['last']:.1f} min; the round's window is "
          f"{f['window'] / 60:.0f} min from the plan's saving")
    fits = f["fits"]
    print(f"  the supervisors' estimate beforehand ({args.call_seconds:g} s a call): "
          f"{'fits' if fits.fits else 'does NOT fit'}, lines needed {fits.lines_needed}, booths left uncalled "
          f"{fits.not_called}")


if __name__ == "__main__":
    main()
