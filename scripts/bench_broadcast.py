"""The broadcast part of ``scripts/bench_outreach.py``: an outreach campaign's broadcast calls through the
sandbox Asterisk (a node of its own, on its own ports) and the SIPp phone farm, the service built as it runs
(``warroom.compose.build_service``: the broadcast dialer within the dialer's line book, each answered call
playing its person's message, name spliced before the leader's recording, then the menu), with the calling
window open (a clock at 10:00 in India). Prints calls per line-hour against the physical bound: the lines
never idle, each call holding its line as long as Asterisk's CDR says it did."""

from __future__ import annotations

import asyncio
import csv
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db import migrate
from db.outreach import OutreachAttempt
from outreach.importer import ListImportOptions
from sandbox.cdr import read_cdr
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.traffic import behaviours, per_channel
from warroom.compose import build_sandbox, build_service
from warroom.compose_outreach import build_messages
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

PORTS = {"ami_port": 47038, "http_port": 47088, "sip_port": 47060, "rtp_start": 40000, "rtp_end": 43999,
         "farm_port": 47070, "agi_port": 47573}
NAMES = ["राम", "सीता", "मोहन", "गीता", "सुरेश", "अनीता", "विजय", "सुनीता", "Rajesh", "Kavita", "Dinesh", "Pooja"]
MESSAGE_SECONDS = 45  # longer than anyone listens (20-40 s): the person hangs up, as on a real list


@dataclass
class Figures:
    calls: int
    cdr_channels: int
    span: float          # first call's start to last call's end (CDR), seconds
    peak: int            # most broadcast calls at once
    message_seconds: float
    mean_hold: float     # seconds a call held its line, on average (CDR)
    outcomes: Counter[str | None]
    cpu_per_call: float  # seconds of our process's CPU

    def per_line_hour(self, lines: int) -> float:
        return self.calls / (lines * self.span / 3600)

    @property
    def bound(self) -> float:
        """Calls per line-hour were the lines never idle."""
        return 3600 / self.mean_hold


async def run(settings: Settings, numbers: dict[str, Behaviour], work: Path, log_dir: Path) -> Figures:
    base = datetime.now(ZoneInfo("Asia/Kolkata")).replace(hour=10, minute=0, second=0)
    start = time.monotonic()

    def clock() -> datetime:
        return (base + timedelta(seconds=time.monotonic() - start)).astimezone(UTC)

    service = build_service(settings, clock=clock)
    migrate.upgrade(service.db.engine)
    outreach = service.outreach
    assert outreach is not None
    await service.start()
    assert await service.ami.wait_up(10) and await service.ari.wait_up(10), "Asterisk links did not come up"
    voters = work / "voters.csv"
    with open(voters, "w", newline="", encoding="utf-8") as fh:  # noqa: ASYNC230 (written before any call)
        csv.writer(fh).writerows([["mobile", "name", "language"]] + [
            [number, NAMES[i % len(NAMES)], "hi"] for i, number in enumerate(numbers)])
    await outreach.import_list(voters, ListImportOptions("bench", default_consent="form"))
    leader = work / "leader.wav"
    await asyncio.to_thread(subprocess.run, ["sox", "-n", "-r", "16000", "-c", "1", str(leader), "synth",
                                             str(MESSAGE_SECONDS), "sine", "300-1200", "vol", "0.3"], check=True)
    seconds = await build_messages(settings).add_recording(leader, "leader")
    await outreach.create_campaign("bench", "bench", mcmc_ref="MCMC/BENCH/1", caller_id="+917552550000",
                                   trunk_category="transactional")
    await outreach.set_recording("bench", "leader")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await outreach.start_campaign("bench")
    broadcaster = service.broadcaster
    assert broadcaster is not None
    peak = 0
    while True:
        with service.db.sessions() as s:
            made, settled = s.execute(select(func.count(), func.count(OutreachAttempt.outcome))).one()
        peak = max(peak, len(broadcaster.calls))
        print(f"\r  broadcast: {settled}/{len(numbers)} calls over, {made - settled} going", end="", file=sys.stderr,
              flush=True)
        if settled >= len(numbers):
            break
        await asyncio.sleep(1)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    print(file=sys.stderr)
    with service.db.sessions() as s:
        attempts = list(s.execute(select(OutreachAttempt.id, OutreachAttempt.outcome)))
    await asyncio.sleep(2)  # let Asterisk write the last CDRs
    channel_ids = {f"wrbc-{i}" for i, _ in attempts}
    channels = per_channel([r for r in read_cdr(log_dir) if r.uniqueid in channel_ids])
    await service.stop()
    held = [(e - s).total_seconds() for s, e, _ in channels.values()]
    span = (max(e for _, e, _ in channels.values()) - min(s for s, _, _ in channels.values())).total_seconds()
    mean_hold = sum(held) / len(held)
    return Figures(len(attempts), len(channels), span, peak, seconds, mean_hold, Counter(o for _, o in attempts),
                   ((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)) / len(attempts))


def broadcast_bench(calls: int, lines: int, seed: int = 11) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    work = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    ast = AsteriskSettings(node="benchbc", trunks=[TrunkSettings(name="lines", lines=lines, port=PORTS["farm_port"])],
                           **PORTS)
    settings = with_secrets(Settings(state_dir=work / "state", asterisk=ast,
                                     database_url=f"sqlite:///{work / 'bench.db'}"))
    settings = settings.model_copy(update={"dialer": settings.dialer.model_copy(update={"min_gap_minutes": 0})})
    box = build_sandbox(ast)
    box.down()
    box.up(timeout=90)
    log_dir = box.log_dir()
    for old in (log_dir / "cdr-custom").glob("*.csv"):
        old.unlink()
    numbers = {number: replace(b, voice_ms=1500) if b.kind == "answer" else b  # "hello?" as they answer
               for number, b in behaviours(calls, 1.0, seed).items()}
    farm = PhoneFarm(numbers, port=PORTS["farm_port"], media_port=44000, workdir=work / "farm", max_calls=lines * 4)
    farm.start()
    try:
        print(f"broadcast: {calls:,} calls on {lines} lines (60% answer and listen 20-40 s)", file=sys.stderr)
        f = asyncio.run(run(settings, numbers, work, log_dir))
    finally:
        farm.stop()
        box.down()
        shutil.rmtree(work, ignore_errors=True)
    per_line_hour = f.per_line_hour(lines)
    print(f"broadcast  {f.calls:,} calls on {lines} lines in {f.span:.0f} s (Asterisk's CDR: {f.cdr_channels:,} "
          f"channels; at most {f.peak} at once); outcomes {dict(f.outcomes)}")
    print(f"broadcast  {per_line_hour:,.1f} calls per line-hour; physical bound {f.bound:,.1f} (lines never idle, "
          f"a call holding its line {f.mean_hold:.1f} s on average): {per_line_hour / f.bound:.1%} of the bound")
    print(f"broadcast  CPU {f.cpu_per_call * 1000:.1f} ms per call in our service; the message "
          f"{f.message_seconds:.0f} s, each person's name spliced before it")
