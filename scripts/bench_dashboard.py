#!/usr/bin/env python3
"""Benchmark the supervisors' dashboard: how fresh its figures are on a war room's real volume.

1. The database half (read every second while a dashboard is open, and on demand): the board (campaigns'
   progress, operators, today's totals), the charts, the drill-down and the tickets board, over a demo
   directory of ~5,000 booths with a campaign to every booth committee and a day of attempts.
2. The live half: ``--pages`` open dashboards (opened together, as after a restart; each message encoded
   for each page as its event stream sends it) while Asterisk events arrive at ``--rate`` a second; for
   each push a page receives, the time since the first event it reflects (target: well under a second),
   and our CPU per 1,000 events.

    .venv/bin/python scripts/bench_dashboard.py                 # 5,000 booths, 20 pages, 2,000 events/s
    .venv/bin/python scripts/bench_dashboard.py --booths-per-ac 20 --pages 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.charts import charts
from dashboard.drill import drill
from dashboard.feed import DashboardFeed
from dashboard.figures import stored_figures
from dashboard.tickets import BoardFilter, tickets_board
from db import migrate
from db.campaigns import Attempt, AttemptState, Disposition, Target
from db.engine import Database, make_engine, transaction
from db.models import Unit, UnitKind, utcnow
from db.tickets import CATEGORIES, Ticket
from dialer.campaigns import Selection, change_state, create_campaign
from directory.demo import DemoSpec, load_demo
from directory.status import StatusRules
from events.asterisk import ChannelState, ChannelStateChanged
from events.bus import EventBus

TZ = "Asia/Kolkata"
OUTCOMES = [Disposition.answered] * 6 + [Disposition.no_answer] * 2 + [Disposition.busy, Disposition.failed]


def fill(sessions: sessionmaker[Session], spec: DemoSpec, attempts: int) -> dict[str, int]:
    load_demo(sessions, spec, StatusRules("PARTY", 0.1, 0.1, 2))
    rnd = random.Random(7)
    now = utcnow()
    with sessions.begin() as s:
        c = create_campaign(s, name="Bench", mode="ivr", selection=Selection(levels=("booth",)))
        change_state(s, "Bench", "start")
        targets = s.execute(select(Target.id, Target.person_id)).all()
        rows = []
        for i in range(attempts):
            tid, pid = targets[i % len(targets)]
            at = now - timedelta(seconds=rnd.uniform(0, 8 * 3600))
            outcome = rnd.choice(OUTCOMES)
            answered = outcome is Disposition.answered
            rows.append({"channel_id": f"b{i}", "action_id": f"ba{i}", "campaign_id": c.id, "target_id": tid,
                         "person_id": pid, "phone": "+919000000000", "trunk": "lines", "state": AttemptState.ended,
                         "disposition": outcome, "created_at": at, "answered_at": at if answered else None,
                         "ended_at": at + timedelta(seconds=40), "talk_seconds": rnd.randint(10, 60) if answered
                         else None})
        s.execute(insert(Attempt), rows)
        booths = s.scalars(select(Unit.id).where(Unit.kind == UnitKind.booth)).all()
        s.execute(insert(Ticket), [{"booth_id": rnd.choice(booths), "category": rnd.choice(CATEGORIES),
                                    "source": "hotline", "status": "open", "created_at": now, "updated_at": now}
                                   for _ in range(500)])
        return {"booths": len(booths), "targets": len(targets), "attempts": attempts}


def timed(label: str, fn: Any, runs: int = 10) -> None:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"  {label:<34} median {statistics.median(times) * 1000:7.1f} ms   max {times[-1] * 1000:7.1f} ms")


async def live_half(db: Database, pages: int, rate: int, seconds: float) -> None:
    bus = EventBus()
    state: dict[str, Any] = {"events": 0, "first_unpushed": None}  # first_unpushed: its publish time

    def live() -> dict[str, Any]:
        first, state["first_unpushed"] = state["first_unpushed"], None
        return {"events": state["events"], "since": first}

    feed = DashboardFeed(bus, live, board=lambda: db.run(stored_figures, TZ),
                         tickets=lambda: db.run(tickets_board, BoardFilter(), 60),
                         ticket=lambda _id: asyncio.sleep(0, None)).start()
    lags: list[float] = []
    stop = asyncio.Event()

    async def page() -> None:
        async for kind, data in feed.stream():
            json.dumps(data, ensure_ascii=False, default=str)  # as the page's event stream sends it
            if kind == "live" and data["since"] is not None:
                lags.append(time.perf_counter() - data["since"])
            if stop.is_set():
                return

    readers = [asyncio.create_task(page()) for _ in range(pages)]
    await asyncio.sleep(1)
    cpu, started, sent = time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started) * rate)
        for _ in range(due - sent):
            state["events"] += 1
            if state["first_unpushed"] is None:
                state["first_unpushed"] = time.perf_counter()
            bus.publish(ChannelStateChanged("c1", channel="PJSIP/lines-0001", state=ChannelState.UP))
        sent = due
        await asyncio.sleep(0.005)
    used = time.process_time() - cpu
    stop.set()
    await asyncio.sleep(1.2)
    for r in readers:
        r.cancel()
    lags.sort()
    print(f"live: {pages} pages, {sent:,} events in {seconds:.0f} s; {len(lags):,} pushes received "
          f"(board from the database every second alongside)")
    p50, p99 = lags[len(lags) // 2], lags[int(len(lags) * 0.99)]
    print(f"  event -> page   p50 {p50 * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms   max {lags[-1] * 1000:.0f} ms")
    print(f"  CPU {used:.2f} s ({used / sent * 1000 * 1000:.1f} ms per 1,000 events, board queries included)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--districts", type=int, default=4)
    ap.add_argument("--acs", type=int, default=5, help="per district")
    ap.add_argument("--booths-per-ac", type=int, default=250)
    ap.add_argument("--attempts", type=int, default=50_000, help="today's attempts")
    ap.add_argument("--pages", type=int, default=20, help="open dashboards")
    ap.add_argument("--rate", type=int, default=2000, help="Asterisk events a second")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        started = time.perf_counter()
        size = fill(sessions, DemoSpec(args.districts, args.acs, args.booths_per_ac), args.attempts)
        print(f"database: {size['booths']:,} booths, {size['targets']:,} campaign targets, "
              f"{size['attempts']:,} attempts today, 500 open tickets (built in {time.perf_counter() - started:.0f} s)")
        with sessions() as s:
            ac = s.scalar(select(Unit.id).where(Unit.kind == UnitKind.ac))
        print("database half (SQLite):")
        timed("board (every second)", lambda: transaction(sessions, stored_figures, TZ))
        timed("tickets board (snapshot)", lambda: transaction(sessions, tickets_board, BoardFilter(), 60))
        timed("charts (every 30 s)", lambda: transaction(sessions, charts, TZ), runs=3)
        timed("drill-down: the top", lambda: transaction(sessions, drill, None), runs=3)
        timed("drill-down: an AC", lambda: transaction(sessions, drill, ac), runs=3)
        db = Database(engine)
        asyncio.run(live_half(db, args.pages, args.rate, args.seconds))
        db.close()


if __name__ == "__main__":
    main()
