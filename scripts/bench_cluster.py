#!/usr/bin/env python3
"""Benchmark the war room on several nodes over one PostgreSQL.

    .venv/bin/python scripts/bench_cluster.py claims            # claims/s PostgreSQL sustains (no Asterisk)
    .venv/bin/python scripts/bench_cluster.py notify            # events/s and latency through LISTEN/NOTIFY
    .venv/bin/python scripts/bench_cluster.py nodes --quick     # one node with L lines, then two with L each

``nodes``: the same campaign (the phone farm's usual mix: 60% answer and stay 20-40 s, 20% ring out, 10%
busy, 5% congestion, 5% not found) on one sandbox node, then spread over two (each its own Asterisk, farm
and lines); prints attempts per minute for each and their ratio, line utilisation per node (Asterisk's CDR),
the largest line-free -> Originate delay, and phones dialed twice at once (from both nodes' CDR).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.campaigns import Attempt, AttemptState, Campaign, Disposition
from db.engine import make_engine
from db.models import Committee, Membership, Person, Unit, UnitKind, utcnow
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from dialer.claims import claim
from dialer.rules import CallingRules
from dialer.store import AcIndex
from sandbox.cdr import read_cdr
from sandbox.phonefarm import PhoneFarm
from sandbox.traffic import Hold, behaviours, per_channel, utilisation, utilisation_while_dialing
from warroom.compose import build_sandbox, build_service
from warroom.feature_settings import ClusterSettings
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOON = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)


def schema_url(base: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    return name, f"{base}?options=-csearch_path%3D{name}"


def drop_schema(base: str, name: str) -> None:
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def fill(sessions: sessionmaker[Session], phones: list[str], tz: str) -> int:
    with sessions.begin() as s:
        ac = Unit(key="ac:1", kind=UnitKind.ac, name="Bench AC", number=1)
        s.add(ac)
        s.flush()
        committee = Committee(unit_id=ac.id)
        s.add(committee)
        s.flush()
        people = [Person(name=p, phone=p) for p in phones]
        s.add_all(people)
        s.flush()
        s.add_all([Membership(person_id=p.id, committee_id=committee.id, post="member") for p in people])
        c = create_campaign(s, name="bench", mode="ivr", selection=Selection(), use_alternate=False,
                            retry=parse_retry(["no_answer=1/0", "busy=1/0", "congestion=1/0", "failed=1/0"]),
                            rules={"timezone": tz})
        return c.id


# -- claims only ---------------------------------------------------------------------------------------------
def claims_mode(args: argparse.Namespace) -> None:
    name, url = schema_url(args.pg)
    try:
        engine = make_engine(url, pool_size=args.claimers + 2)
        migrate.upgrade(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        cid = fill(sessions, [f"+9170{i:08d}" for i in range(args.targets)], "Asia/Kolkata")
        with sessions.begin() as s:
            change_state(s, "bench", "start")
        rules = CallingRules(min_gap=timedelta(0), max_per_day=100)
        taken: list[int] = []
        lock = threading.Lock()

        def claimer(node: str) -> None:
            n = 0
            while True:
                with sessions.begin() as s:
                    got = claim(s, cid, NOON, args.batch, rules, AcIndex(), node, "lines", set(),
                                lambda: (f"wr-{uuid.uuid4().hex}", f"wr-a-{uuid.uuid4().hex}"))
                if not got.launches:
                    break
                n += len(got.launches)
                with sessions.begin() as s:  # the calls end at once: the next claim finds the phones free
                    s.execute(update(Attempt).where(Attempt.id.in_([x.attempt_id for x in got.launches]))
                              .values(state=AttemptState.ended, disposition=Disposition.no_answer))
            with lock:
                taken.append(n)

        started = time.perf_counter()
        threads = [threading.Thread(target=claimer, args=(f"node{i}",)) for i in range(args.claimers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        with sessions() as s:
            total = s.scalar(select(text("count(*)")).select_from(Attempt))
            dup = s.scalar(text("SELECT count(*) FROM (SELECT target_id FROM attempts GROUP BY target_id "
                                "HAVING count(*) > 1) d"))
        print(f"claims: {args.claimers} claimers, batches of {args.batch}, {args.targets} targets on PostgreSQL")
        print(f"  {sum(taken)} targets claimed in {wall:.1f} s: {sum(taken) / wall:.0f} claims/s "
              f"(per claimer {', '.join(map(str, taken))}); attempts {total}; a target claimed twice: {dup}")
        engine.dispose()
    finally:
        drop_schema(args.pg, name)


# -- LISTEN/NOTIFY --------------------------------------------------------------------------------------------
def notify_mode(args: argparse.Namespace) -> None:
    from cluster.relay import EventRelay
    from events.bus import EventBus
    from events.types import AttemptChanged

    async def run() -> None:
        url = args.pg.replace("postgresql+psycopg://", "postgresql://")
        send_bus, recv_bus = EventBus(), EventBus()
        sender, receiver = EventRelay(url, "a", send_bus), EventRelay(url, "b", recv_bus)
        lags: list[float] = []
        recv_bus.subscribe(AttemptChanged, lambda e: lags.append(time.time() - e.at.timestamp()))
        await sender.start()
        await receiver.start()
        for _ in range(200):  # both links up within 10 s
            if sender.up and receiver.up:
                break
            await asyncio.sleep(0.05)
        started, sent = time.perf_counter(), 0
        while time.perf_counter() - started < args.seconds:
            due = int((time.perf_counter() - started) * args.rate)
            for i in range(sent, due):
                send_bus.publish(AttemptChanged(i, 1, "ended", "answered", at=datetime.now(UTC)))
            sent = due
            await asyncio.sleep(0.002)
        await asyncio.sleep(2)
        await sender.stop()
        await receiver.stop()
        lags.sort()
        print(f"notify: {sent} events offered at {args.rate}/s for {args.seconds:.0f} s; {len(lags)} received "
              f"({len(lags) / args.seconds:.0f}/s)")
        if lags:
            print(f"  latency p50 {lags[len(lags) // 2] * 1000:.1f} ms, p99 {lags[int(len(lags) * .99)] * 1000:.1f} ms,"
                  f" max {lags[-1] * 1000:.1f} ms")

    asyncio.run(run())


# -- one node, then two ----------------------------------------------------------------------------------------
NODES = {"bench1": {"ami_port": 35038, "http_port": 38088, "sip_port": 35060, "rtp_start": 13000,
                    "rtp_end": 14999, "farm_port": 35070, "agi_port": 34573},
         "bench2": {"ami_port": 36038, "http_port": 39088, "sip_port": 36060, "rtp_start": 15000,
                    "rtp_end": 16999, "farm_port": 36070, "agi_port": 36573}}


def daytime_zone() -> str:
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


async def campaign_on(nodes: list[Settings], url: str, numbers: dict[str, Any], work: Path) -> dict[str, Any]:
    sessions = sessionmaker(make_engine(url), expire_on_commit=False)
    migrate.upgrade(sessions.kw["bind"])
    cid = fill(sessions, list(numbers), daytime_zone())
    services = [build_service(s, clock=utcnow, stasis={"dialer": Hold}) for s in nodes]
    for service in services:
        await service.start()
        assert await service.ami.wait_up(10), service.ami.detail
    with sessions.begin() as s:
        change_state(s, "bench", "start")
    started = time.monotonic()
    for service in services:
        service.dialer.wake()
    while True:
        with sessions() as s:
            state = s.scalar(select(Campaign.state).where(Campaign.id == cid))
            done = s.scalar(select(text("count(*)")).select_from(Attempt).where(Attempt.state == AttemptState.ended))
        if state is not None and state.value == "completed":
            break
        print(f"\r  {len(nodes)} node(s): {done}/{len(numbers)} attempts ended", end="", file=sys.stderr, flush=True)
        await asyncio.sleep(1)
    wall = time.monotonic() - started
    print(file=sys.stderr)
    with sessions() as s:
        attempts = s.scalars(select(Attempt)).all()
    delays = sorted(d for service in services for d in service.dialer.stats.line_delays) or [0.0]
    for service in services:
        await service.stop()
    sessions.kw["bind"].dispose()
    return {"wall": wall, "attempts": attempts, "delay": delays[-1], "delay_p99": delays[int(len(delays) * .99)],
            "slow": sum(d > 0.1 for d in delays), "redials": len(delays)}


def nodes_mode(args: argparse.Namespace) -> None:
    scale = 0.1 if args.quick else 1.0
    numbers = behaviours(args.targets, scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    cluster = ClusterSettings(lease_seconds=10, heartbeat_seconds=2, max_call_seconds=300)
    settings, boxes, farms = [], [], []
    for name, ports in NODES.items():
        ast = AsteriskSettings(node=name, trunks=[TrunkSettings(name="lines", lines=args.lines,
                                                                port=ports["farm_port"])], **ports)
        s = with_secrets(Settings(state_dir=work / name, asterisk=ast, cluster=cluster))
        s.dialer.min_gap_minutes, s.dialer.ring_timeout, s.dialer.poll_interval = 0, 4.0 if args.quick else 30.0, 0.5
        box = build_sandbox(ast)
        box.down()
        box.up(timeout=90)
        farm = PhoneFarm(numbers, port=ports["farm_port"], media_port=ports["farm_port"] + 100,
                         workdir=work / f"farm-{name}", max_calls=args.lines * 4)
        farm.start()
        settings.append(s)
        boxes.append(box)
        farms.append(farm)
    results = {}
    try:
        for count in (1, 2):
            name, url = schema_url(args.pg)
            for box in boxes:
                for f in (box.log_dir() / "cdr-custom").glob("*.csv"):
                    f.unlink()
            try:
                nodes = [s.model_copy(update={"database_url": url}) for s in settings[:count]]
                got = asyncio.run(campaign_on(nodes, url, numbers, work))
                time.sleep(2)  # the last CDRs
                by_node, dialing = {}, {}
                phone_of = {a.channel_id: a.phone for a in got["attempts"]}
                spans: dict[str, list[tuple[datetime, datetime]]] = {}
                held, meant = [], []  # answered calls: how long they lasted, and how long the phone meant to stay
                lasted: dict[str, list[float]] = {}  # a channel's whole life, by its CDR disposition
                for s, box in zip(nodes, boxes, strict=False):
                    records = [r for r in read_cdr(box.log_dir()) if r.uniqueid in phone_of]
                    by_node[s.asterisk.node] = utilisation(records, args.lines)[0]
                    dialing[s.asterisk.node] = utilisation_while_dialing(records, args.lines)
                    for rec in records:
                        if rec.start and rec.end:
                            lasted.setdefault(rec.disposition, []).append((rec.end - rec.start).total_seconds())
                        if rec.disposition == "ANSWERED" and rec.answer and rec.end:
                            held.append((rec.end - rec.answer).total_seconds())
                            phone = numbers[phone_of[rec.uniqueid]]  # it waits delay_ms, then holds hold_ms
                            meant.append((phone.delay_ms + phone.hold_ms) / 1000)
                    for uid, (start, end, _) in per_channel(records).items():
                        spans.setdefault(phone_of[uid], []).append((start, end))
                twice = sum(1 for times in spans.values()
                            for (_, e1), (s2, _) in zip(sorted(times), sorted(times)[1:], strict=False) if s2 < e1)
                results[count] = {**got, "util": by_node, "dialing": dialing, "twice": twice,
                                  "held": sum(held) / max(1, len(held)),
                                  "meant": sum(meant) / max(1, len(meant)),
                                  "lasted": {k: (len(v), sum(v) / len(v)) for k, v in sorted(lasted.items())},
                                  "per_min": len(got["attempts"]) / got["wall"] * 60}
            finally:
                drop_schema(args.pg, name)
    finally:
        for farm in farms:
            farm.stop()
        for box in boxes:
            box.down()
    one, two = results[1], results[2]
    print(f"nodes: {args.targets} targets, {args.lines} lines per node, durations x{scale}")
    for count, r in results.items():
        util = ", ".join(f"{n} {u:.3f}" for n, u in r["util"].items())
        print(f"  {count} node(s): {len(r['attempts'])} attempts in {r['wall']:.0f} s = {r['per_min']:.0f}/min; "
              f"utilisation {util}; largest line-free -> Originate {r['delay'] * 1000:.0f} ms; "
              f"phones dialed twice at once {r['twice']}")
        print("    utilisation while calls were left to make: "
              + ", ".join(f"{n} {u:.3f}" for n, u in r["dialing"].items()))
        print(f"    line-free -> Originate p99 {r['delay_p99'] * 1000:.0f} ms; {r['slow']} of {r['redials']} re-dials "
              "over 100 ms")
        print(f"    answered calls lasted {r['held']:.2f} s on average (Asterisk's CDR, whole seconds); the phones "
              f"meant {r['meant']:.2f} s")
        outcomes = Counter(f"{a.node} {a.disposition.value if a.disposition else a.state.value}"
                           for a in r["attempts"])
        print("    attempts: " + ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items())))
        print("    channels (Asterisk's CDR): " + ", ".join(f"{k.lower()} {n} x {d:.2f} s"
                                                      for k, (n, d) in r["lasted"].items()))
    print(f"  ratio two/one: {two['per_min'] / one['per_min']:.2f}x (target at least 1.8x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=PG, help="the PostgreSQL to use (a schema of its own is made and dropped)")
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("claims")
    c.add_argument("--targets", type=int, default=20_000)
    c.add_argument("--claimers", type=int, default=4)
    c.add_argument("--batch", type=int, default=20)
    n = sub.add_parser("notify")
    n.add_argument("--rate", type=int, default=2000)
    n.add_argument("--seconds", type=float, default=10)
    m = sub.add_parser("nodes")
    m.add_argument("--targets", type=int, default=2000)
    m.add_argument("--lines", type=int, default=20)
    m.add_argument("--quick", action="store_true", help="durations / 10")
    m.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    {"claims": claims_mode, "notify": notify_mode, "nodes": nodes_mode}[args.mode](args)


if __name__ == "__main__":
    main()
