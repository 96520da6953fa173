#!/usr/bin/env python3
"""Benchmark the IVR: N concurrent survey calls through the sandbox Asterisk, answered by SIPp phones that
press keys while the questions are read (and, on weak and swing booths, speak a message).

The dialer calls N booth committee members over N lines at once (a third each on strong, weak and swing
booths, so all three built-in scripts run, in Hindi and English); our Stasis app plays the synthesised
prompts, takes the keys and records the messages. Prints the calls completed, the event loop's lag
(p50 / p99; target p99 under 50 ms), our CPU seconds per call (and the speech tools' separately), and the
time from a key's DTMF event to its answer being stored (and to Asterisk's reply that the prompt the key cut
short is stopped), with how many keys came within the busiest 100 ms (the load those figures were taken
under: the dialer starts all calls within a second or two, and people do not all press at the same instant,
so each phone's first key comes up to --spread ms later than the earliest).

    .venv/bin/python scripts/bench_ivr.py            # 200 concurrent calls
    .venv/bin/python scripts/bench_ivr.py --calls 50
    .venv/bin/python scripts/bench_ivr.py --spread 0    # every phone presses at the same moment of its call
    .venv/bin/python scripts/bench_ivr.py --warm        # every prompt made before the calls start
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.ivr_store import inbound_info, wav_seconds
from db import migrate
from db.campaigns import Campaign
from db.engine import transaction
from db.ivr import IvrAnswer, IvrCall, IvrRecording
from db.models import BoothStatus, Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from ivr_scripts.actions import Action, HangUp, Play
from ivr_scripts.engine import Engine
from ivr_scripts.model import Script
from sandbox.ivr_timing import seconds_until
from sandbox.phonefarm import VOICE_TEXT, Behaviour, PhoneFarm
from sandbox.rtp_pcap import spoken_ulaw
from warroom.compose import build_sandbox, build_service, ivr_paths
from warroom.settings import AsteriskSettings, IvrSettings, Settings, TrunkSettings, with_secrets

STATUSES = [BoothStatus.strong, BoothStatus.weak, BoothStatus.swing]
KEYS = {BoothStatus.strong: "11", BoothStatus.weak: "2", BoothStatus.swing: "122"}


def directory(sessions: sessionmaker[Session], n: int) -> dict[str, BoothStatus]:
    """n members, one per booth, booths strong / weak / swing in turn; every third speaks English."""
    phones = {}
    with sessions.begin() as s:
        ac = Unit(key="ac:1", kind=UnitKind.ac, name="Bench AC", number=1)
        s.add(ac)
        s.flush()
        for i in range(n):
            status = STATUSES[i % 3]
            booth = Unit(key=f"booth:1:{i}", kind=UnitKind.booth, name=f"Booth {i}", number=i + 1,
                         parent_id=ac.id, ac_id=ac.id, voter_count=1000, status_override=status)
            s.add(booth)
            s.flush()
            committee = Committee(unit_id=booth.id)
            s.add(committee)
            s.flush()
            phone = f"+9171{i:08d}"
            person = Person(name=f"Member {i}", phone=phone, language="en" if i % 3 == 2 else "hi")
            s.add(person)
            s.flush()
            s.add(Membership(person_id=person.id, committee_id=committee.id, post="president"))
            phones[phone] = status
    return phones


GAP = 1200
BEFORE_RECORDING = {BoothStatus.weak: 1, BoothStatus.swing: 2}  # keys pressed before the record step


def first_question(action: Action, _engine: Engine) -> bool:
    return isinstance(action, Play) and action.barge_in


async def question_seconds(deps: IvrDeps, script: Script, lang: str, context: dict[str, Any], keys: str) -> float:
    """How long the first question takes to read."""
    found: list[Play] = []

    def until(action: Action, engine: Engine) -> bool:
        if isinstance(action, Play) and first_question(action, engine):
            found.append(action)
            return True
        return False

    await seconds_until(deps.prompts, script, lang, context, keys, until)
    _uri, path = await deps.prompts.made(found[0].prompt)
    return float(wav_seconds(path) or 0)


def members(sessions: sessionmaker[Session]) -> list[tuple[int, str, BoothStatus]]:
    """Every member with their language and booth status, in the directory's order."""
    with sessions() as s:
        rows = s.execute(select(Person.id, Person.language, Unit.status_override)
                         .join(Membership, Membership.person_id == Person.id)
                         .join(Committee, Committee.id == Membership.committee_id)
                         .join(Unit, Unit.id == Committee.unit_id).order_by(Person.id)).all()
    return [(person_id, lang, status) for person_id, lang, status in rows if status is not None]


def context(sessions: sessionmaker[Session], person_id: int, lang: str) -> dict[str, Any]:
    """What a member's script sees."""
    return transaction(sessions, inbound_info, phone=None, person_id=person_id, booth_id=None, language=lang,
                       party="PARTY").context


async def warm(deps: IvrDeps, sessions: sessionmaker[Session]) -> None:
    """Make every prompt each member's call will play before the calls start (``--warm``)."""
    for person_id, lang, status in members(sessions):
        await seconds_until(deps.prompts, deps.library.for_status({}, status.value), lang,
                            context(sessions, person_id, lang),
                            KEYS[status], lambda action, _engine: isinstance(action, HangUp))  # to the end


async def timings(deps: IvrDeps, sessions: sessionmaker[Session],
                  spread_ms: int) -> dict[tuple[BoothStatus, str], tuple[Behaviour, int]]:
    """How each kind of phone behaves: its first key 1 s into the first question (so every key barges in
    on a question being read, and DTMF-to-answer is measured on live questions), the next keys 1.2 s
    apart, and a spoken message 1.5 s into the recording; timed on the first member of each kind from the
    prompts the calls will play. With each kind, how much later (ms) a phone may press its first key and
    still be within the first question (at most ``spread_ms``): every later key and the message move with it."""
    out: dict[tuple[BoothStatus, str], tuple[Behaviour, int]] = {}
    firsts: dict[tuple[BoothStatus, str], int] = {}
    for person_id, lang, status in members(sessions):
        firsts.setdefault((status, lang), person_id)
    for (status, lang), person_id in firsts.items():
        ctx = context(sessions, person_id, lang)
        script = deps.library.for_status({}, status.value)
        keys = KEYS[status]
        greeting = await seconds_until(deps.prompts, script, lang, ctx, keys, first_question)
        room = int(await question_seconds(deps, script, lang, ctx, keys) * 1000) - 1500  # still in it
        delay = int(greeting * 1000) + 1000
        voice = 0
        if status in BEFORE_RECORDING:
            prompts = await seconds_until(deps.prompts, script, lang, ctx, keys)
            recording_at = int(prompts * 1000) + 1000 + GAP * (BEFORE_RECORDING[status] - 1)
            voice = recording_at + 1500 - (delay + GAP * (len(keys) - 1))
        out[(status, lang)] = (Behaviour("answer", digits=keys, delay_ms=delay, digit_gap_ms=GAP, hold_ms=180_000,
                                         voice_ms=max(1, voice) if voice else 0), max(0, min(spread_ms, room)))
    return out


class LoopLag:
    """Samples how late the event loop wakes a 10 ms sleep (the lag every callback sees)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t0 = loop.time()
            await asyncio.sleep(0.01)
            self.samples.append(max(0.0, loop.time() - t0 - 0.01))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


OTHERS = {"asterisk": "Asterisk", "sipp": "the SIPp phone farm"}


def process_cpu(names: dict[str, str]) -> dict[str, float]:
    """CPU seconds used so far by the running processes with these command names."""
    tick, out = os.sysconf("SC_CLK_TCK"), dict.fromkeys(names, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm, _, rest = Path(f"/proc/{pid}/stat").read_text().rpartition(")")
        except OSError:
            continue
        name = comm.partition("(")[2]
        if name in out:
            fields = rest.split()
            out[name] += (int(fields[11]) + int(fields[12])) / tick
    return out


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def later(kind: tuple[Behaviour, int], i: int) -> Behaviour:
    """Phone i's behaviour: its kind's, its first key (and all after it) up to the kind's spread later, the
    phones of a kind spread evenly over it."""
    behaviour, spread = kind
    return replace(behaviour, delay_ms=behaviour.delay_ms + (i // 3 % 10) * spread // 9)


def busiest(times: Sequence[datetime], window: float = 0.1) -> int:
    """The most of ``times`` within any ``window`` seconds."""
    ts, most, lo = sorted(t.timestamp() for t in times), 0, 0
    for hi, t in enumerate(ts):
        while t - ts[lo] > window:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


async def run(settings: Settings, n: int, work: Path, farm_port: int, spread_ms: int,
              warm_first: bool) -> dict[str, Any]:
    base = datetime.now(ZoneInfo("Asia/Kolkata")).replace(hour=11, minute=0)
    t_start = time.monotonic()

    def clock() -> datetime:
        return (base + timedelta(seconds=time.monotonic() - t_start)).astimezone(UTC)

    dialer_settings = settings.dialer.model_copy(update={"min_gap_minutes": 0, "ring_timeout": 30,
                                                         "poll_interval": 0.5})
    service = build_service(settings.model_copy(update={"dialer": dialer_settings,
                                                        "database_url": f"sqlite:///{work / 'bench.db'}"}),
                            clock=clock)
    migrate.upgrade(service.db.engine)
    sessions = service.db.sessions
    phones = directory(sessions, n)
    deps = service.ivr
    if warm_first:
        started = time.monotonic()
        await warm(deps, sessions)
        print(f"prompts made before the calls: {deps.prompts.stats.synthesised} in {time.monotonic() - started:.0f} s",
              file=sys.stderr)
    kinds = await timings(deps, sessions, spread_ms)
    behaviours = {phone: later(kinds[(status, "en" if i % 3 == 2 else "hi")], i)
                  for i, (phone, status) in enumerate(phones.items())}
    farm = PhoneFarm(behaviours, port=farm_port, media_port=farm_port + 1000, workdir=work / "farm",
                     max_calls=n * 2)
    farm.start()
    lag = LoopLag()
    try:
        await service.start()
        assert await service.ami.wait_up(10) and await service.ari.wait_up(10), "Asterisk links did not come up"
        with sessions.begin() as s:
            create_campaign(s, name="bench", mode="ivr", selection=Selection(), use_alternate=False,
                            retry=parse_retry(["no_answer=1/0", "busy=1/0", "congestion=1/0", "failed=1/0"]))
            change_state(s, "bench", "start")
        lag.start()
        cpu0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        others0 = process_cpu(OTHERS)
        t0 = time.monotonic()
        peak = 0
        while True:
            with sessions() as s:
                state = s.scalar(select(Campaign.state))
                ended = s.scalar(select(func.count()).select_from(IvrCall).where(IvrCall.result.is_not(None)))
            peak = max(peak, deps.stats.live)
            print(f"\r  {ended}/{n} calls over, {deps.stats.live} in the IVR now (peak {peak})", end="",
                  file=sys.stderr, flush=True)
            if state is not None and state.value == "completed" and deps.stats.live == 0:
                break
            if time.monotonic() - t0 > 900:
                raise RuntimeError("the benchmark campaign did not finish in 15 minutes")
            await asyncio.sleep(1)
        wall = time.monotonic() - t0
        cpu1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        others1 = process_cpu(OTHERS)
        print(file=sys.stderr)
    finally:
        await lag.stop()
        await service.stop()
        farm.stop()
    with sessions() as s:
        results = Counter(r.value for r in s.scalars(select(IvrCall.result)) if r is not None)
        answered_at = s.scalars(select(IvrAnswer.at)).all()
        recs = s.scalars(select(IvrRecording.duration)).all()
        talking = [t for t in s.scalars(select(IvrRecording.talking)) if t is not None]
    calls = sum(results.values())
    return {"calls": calls, "results": dict(results), "answers": len(answered_at), "burst": busiest(answered_at),
            "spread": max(spread for _b, spread in kinds.values()), "recordings": len(recs),
            "recorded_seconds": sum(r or 0 for r in recs), "talking": talking, "peak": peak, "wall": wall,
            "lag_p50": pct(lag.samples, 0.50), "lag_p99": pct(lag.samples, 0.99), "lag_max": max(lag.samples),
            "service_cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
            "others_cpu": {k: others1.get(k, 0.0) - others0.get(k, 0.0) for k in OTHERS},
            "cpu_per_call": ((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)) / max(1, calls),
            "speech_cpu": (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime),
            "synthesised": deps.prompts.stats.synthesised, "cached": deps.prompts.stats.cached,
            "dtmf_p50": pct(deps.stats.answer_latency, 0.5), "dtmf_p99": pct(deps.stats.answer_latency, 0.99),
            "dtmf_max": max(deps.stats.answer_latency or [float("nan")]),
            "stop_p50": pct(deps.stats.stop_latency, 0.5), "stop_p99": pct(deps.stats.stop_latency, 0.99),
            "stops": len(deps.stats.stop_latency)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--spread", type=int, default=1500, metavar="MS",
                    help="the phones' first keys spread over this many ms (default 1500; 0: all at once)")
    ap.add_argument("--warm", action="store_true", help="make every call's prompts before the calls start "
                    "(default: each is synthesised when its call first plays it)")
    args = ap.parse_args()
    n = args.calls
    work = Path(tempfile.mkdtemp(prefix="bench-ivr-"))
    ports = {"ami_port": 45038, "http_port": 48088, "sip_port": 45060, "rtp_start": 20000, "rtp_end": 23999,
             "farm_port": 45070, "agi_port": 44573}
    ast = AsteriskSettings(node="benchivr", trunks=[TrunkSettings(name="lines", lines=n, port=45070)], **ports)
    settings = with_secrets(Settings(state_dir=work / "state", asterisk=ast, ivr=IvrSettings()))
    box = build_sandbox(ast)
    box.down()
    box.up(timeout=90)
    shutil.rmtree(ivr_paths(settings).sounds, ignore_errors=True)  # cold: every prompt synthesised anew
    try:
        print(f"IVR: {n} concurrent survey calls (strong / weak / swing booths in turn)", file=sys.stderr)
        f = asyncio.run(run(settings, n, work, 45070, args.spread, args.warm))
    finally:
        box.down()
        shutil.rmtree(work, ignore_errors=True)
    print(f"calls {n}: {f['calls']} over in {f['wall']:.0f} s, peak {f['peak']} at once in the IVR; "
          f"results {f['results']}")
    print(f"answers stored {f['answers']}, recordings {f['recordings']} ({f['recorded_seconds']} s of speech)")
    sent = len(spoken_ulaw(VOICE_TEXT)) / 8000
    heard = sum(f["talking"]) / len(f["talking"]) if f["talking"] else float("nan")
    whole = math.floor(sent)  # Asterisk counts talking in whole seconds
    print(f"voice messages: {sent:.1f} s of speech sent each ({whole} s in Asterisk's whole seconds); Asterisk heard "
          f"{heard:.1f} s of talking on average ({len(f['talking'])} messages): {heard / whole - 1:+.0%} "
          f"(target within 10%)")
    print(f"event-loop lag: p50 {f['lag_p50'] * 1000:.1f} ms, p99 {f['lag_p99'] * 1000:.1f} ms, "
          f"max {f['lag_max'] * 1000:.0f} ms (target p99 < 50 ms)")
    others = ", ".join(f"{label} {f['others_cpu'][k]:.0f} s" for k, label in OTHERS.items())
    print(f"CPU while the calls ran ({f['wall']:.0f} s, {os.cpu_count()} cores): our service {f['service_cpu']:.0f} s, "
          f"{others}")
    print(f"CPU: {f['cpu_per_call'] * 1000:.0f} ms per call in our service; speech tools {f['speech_cpu']:.1f} s "
          f"for {f['synthesised']} prompts made ({f['cached']} served from the cache)")
    print(f"DTMF event -> answer stored: p50 {f['dtmf_p50'] * 1000:.1f} ms, p99 {f['dtmf_p99'] * 1000:.1f} ms, "
          f"max {f['dtmf_max'] * 1000:.0f} ms; at most {f['burst']} keys within 100 ms (first keys spread over "
          f"{f['spread']} ms)")
    print(f"DTMF event -> prompt stopped (Asterisk's reply to the DELETE, for {f['stops']} keys that cut a prompt "
          f"short): p50 {f['stop_p50'] * 1000:.1f} ms, p99 {f['stop_p99'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
