#!/usr/bin/env python3
"""Benchmark the dialer against the sandbox Asterisk and the SIPp phone farm.

An ``ivr`` campaign of N targets over L lines, phones behaving as a real list does (60% answer and stay
20-40 s, 20% ring out, 10% busy, 5% congestion, 5% not found), then the same list the way simple
broadcast tools do it: Asterisk call files dropped into the spool in batches of L, the next batch once
the last has finished. Prints line utilisation (from Asterisk's own CDR: over the whole run, and from the
first call to the last call's start, while there were calls left to make), both durations and their
ratio, our CPU seconds per attempt, and the largest delay between a line freeing and its next Originate.

    .venv/bin/python scripts/bench_dialer.py            # full: 1,000 targets, 10 lines, 20-40 s calls
    .venv/bin/python scripts/bench_dialer.py --quick    # the same shape, durations / 10, 300 targets
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from db import migrate
from db.campaigns import Attempt, Campaign
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from sandbox.cdr import read_cdr
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.traffic import Hold, behaviours, per_channel, utilisation, utilisation_while_dialing
from warroom.compose import build_sandbox, build_service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets


async def run_dialer(settings: Settings, numbers: dict[str, Behaviour], lines: int, ring: float,
                     workdir: Path, log_dir: Path) -> dict[str, float]:
    dialer_settings = settings.dialer.model_copy(update={"min_gap_minutes": 0, "ring_timeout": ring,
                                                         "poll_interval": 0.5})
    settings = settings.model_copy(update={"dialer": dialer_settings,
                                           "database_url": f"sqlite:///{workdir / 'bench.db'}"})
    base = datetime.now(ZoneInfo("Asia/Kolkata")).replace(hour=10, minute=0)
    start = time.monotonic()

    def clock() -> datetime:
        return (base + timedelta(seconds=time.monotonic() - start)).astimezone(UTC)

    service = build_service(settings, clock=clock, stasis={"dialer": Hold})
    sessions = service.db.sessions
    migrate.upgrade(service.db.engine)
    with sessions.begin() as s:
        ac = Unit(key="ac:1", kind=UnitKind.ac, name="Bench AC", number=1)
        s.add(ac)
        s.flush()
        committee = Committee(unit_id=ac.id)
        s.add(committee)
        s.flush()
        for number in numbers:
            p = Person(name=number, phone=number)
            s.add(p)
            s.flush()
            s.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
    await service.start()
    assert await service.ami.wait_up(10) and await service.ari.wait_up(10), "Asterisk links did not come up"
    with sessions.begin() as s:
        c = create_campaign(s, name="bench", mode="ivr", selection=Selection(),
                            retry=parse_retry(["no_answer=1/0", "busy=1/0", "congestion=1/0", "failed=1/0"]),
                            use_alternate=False)
        cid = c.id
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with sessions.begin() as s:
        change_state(s, "bench", "start")
    service.dialer.wake()
    t0 = time.monotonic()
    done = 0
    while True:
        with sessions() as s:
            campaign = s.get(Campaign, cid)
            state = campaign.state.value if campaign else "missing"
            done = s.query(Attempt).filter(Attempt.state == "ended").count()
        if state == "completed":
            break
        print(f"\r  dialer: {done}/{len(numbers)} attempts ended", end="", file=sys.stderr, flush=True)
        await asyncio.sleep(1)
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    print(file=sys.stderr)
    with sessions() as s:
        attempts = s.query(Attempt).all()
        channel_ids = {a.channel_id for a in attempts}
    await asyncio.sleep(2)  # let Asterisk write the last CDRs
    records = [r for r in read_cdr(log_dir) if r.uniqueid in channel_ids]
    util, span, cdr_answered = utilisation(records, lines)
    dialing = utilisation_while_dialing(records, lines)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    figures = {"attempts": len(attempts), "cdr_channels": len(per_channel(records)), "wall": wall, "span": span,
               "cdr_answered": cdr_answered,
               "utilisation": util, "while_dialing": dialing, "cpu_per_attempt": cpu / max(1, len(attempts)),
               "max_line_delay": max(service.dialer.stats.line_delays or [0.0]),
               "p50_line_delay": _pct(service.dialer.stats.line_delays, 0.5),
               "p99_line_delay": _pct(service.dialer.stats.line_delays, 0.99),
               "answered": sum(a.disposition is not None and a.disposition.value == "answered" for a in attempts)}
    await service.stop()
    return figures


def _pct(values: Iterable[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_callfiles(numbers: dict[str, Behaviour], lines: int, ring: float, spool: Path,
                  log_dir: Path, uid: int, gid: int) -> dict[str, float]:
    """Broadcast-tool style: batches of ``lines`` call files; the next batch when the last has ended."""
    outgoing, tmp = spool / "outgoing", spool / "tmp"
    already = len(read_cdr(log_dir))  # call files cannot name their channel: count the CDR lines after these
    placed = 0
    t0 = time.monotonic()
    todo = list(numbers)
    while todo:
        batch, todo = todo[:lines], todo[lines:]
        for number in batch:
            path = tmp / f"bench-{placed}.call"
            path.write_text(f"Channel: PJSIP/{number}@lines\nMaxRetries: 0\nWaitTime: {int(ring)}\n"
                            "Application: Wait\nData: 3600\n")
            os.chown(path, uid, gid)
            os.replace(path, outgoing / path.name)
            placed += 1
        while len(per_channel(read_cdr(log_dir)[already:])) < placed:  # the batch is over: all its CDRs are in
            time.sleep(0.2)
        print(f"\r  call files: {placed}/{len(numbers)} placed", end="", file=sys.stderr, flush=True)
    wall = time.monotonic() - t0
    print(file=sys.stderr)
    util, span, answered = utilisation(read_cdr(log_dir)[already:], lines)
    return {"attempts": placed, "wall": wall, "span": span, "utilisation": util, "answered": answered}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=None)
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="durations / 10 and 300 targets")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-callfiles", action="store_true")
    args = ap.parse_args()
    scale = 0.1 if args.quick else 1.0
    n = args.targets or (300 if args.quick else 1000)
    ring = 30.0 * scale if not args.quick else 4.0
    work = Path(tempfile.mkdtemp(prefix="bench-dialer-"))
    ports = {"ami_port": 35038, "http_port": 38088, "sip_port": 35060, "rtp_start": 13000, "rtp_end": 14999,
             "farm_port": 35070, "agi_port": 34573}
    ast = AsteriskSettings(node="bench", trunks=[TrunkSettings(name="lines", lines=args.lines, port=35070)], **ports)
    settings = with_secrets(Settings(state_dir=work / "state", asterisk=ast))
    box = build_sandbox(ast)
    box.down()
    box.up(timeout=90)
    log_dir = box.log_dir()
    for f in (log_dir / "cdr-custom").glob("*.csv"):
        f.unlink()
    numbers = behaviours(n, scale, args.seed)
    farm = PhoneFarm(numbers, port=35070, media_port=36000, workdir=work / "farm", max_calls=args.lines * 4)
    farm.start()
    try:
        print(f"dialer: {n} targets over {args.lines} lines (durations x{scale})", file=sys.stderr)
        ours = asyncio.run(run_dialer(settings, numbers, args.lines, ring, work, log_dir))
        theirs = None
        if not args.skip_callfiles:
            print("call files in batches of the line count", file=sys.stderr)
            uid, gid = box.asterisk_ids()
            spool = box.host_path(box.dirs().spool)
            theirs = run_callfiles(numbers, args.lines, ring, spool, log_dir, uid, gid)
    finally:
        farm.stop()
        box.down()
        shutil.rmtree(work, ignore_errors=True)
    print(f"targets {n}, lines {args.lines}, durations x{scale}")
    print(f"dialer:      {ours['span']:.1f} s, line utilisation {ours['utilisation']:.3f} ({ours['while_dialing']:.3f} "
          "while calls were left to make); answered: ours "
          f"{ours['answered']}, Asterisk CDR {ours['cdr_answered']} ({ours['cdr_channels']} channels in CDR)")
    print(f"             CPU {ours['cpu_per_attempt'] * 1000:.2f} ms per attempt, largest line-free -> Originate "
          f"delay {ours['max_line_delay'] * 1000:.1f} ms (p50 {ours['p50_line_delay'] * 1000:.1f} ms, "
          f"p99 {ours['p99_line_delay'] * 1000:.1f} ms)")
    if theirs:
        print(f"call files:  {theirs['span']:.1f} s, line utilisation {theirs['utilisation']:.3f}, "
              f"answered {theirs['answered']}")
        print(f"speed-up:    {theirs['span'] / ours['span']:.2f}x (call-file duration / dialer duration)")


if __name__ == "__main__":
    main()
