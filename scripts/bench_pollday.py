#!/usr/bin/env python3
"""Benchmark poll day: how long a turnout round takes to reach every booth, and how fast the board reads.

1. The round: ``--booths`` booths over ``--lines`` lines, phones behaving as the phone farm's usual mix
   (``sandbox.traffic.MIX``: 60% answer, 20% ring out, 10% busy, 5% congestion, 5% not found), each
   unanswered booth tried again on its next post and its alternate phone (``--tries`` in all). A call that
   answers lasts ``--call-seconds`` (the turnout script with two numbers and no problem), one that does not
   ``--ring-seconds``. Printed: the time until every booth that will answer has answered, the share of
   booths reached, and whether that fits before the next round (``pollday.rounds.estimate``). This part is
   a model over the mix, not calls, and it retries at once; ``scripts/bench_pollday_round.py`` runs a real
   round through the sandbox, with the plan's wait for the next post and the dialer's retry policy.
2. The board: ``--booths`` booths with ``--rounds`` rounds of reports in a database (SQLite in a temporary
   folder, or ``--database-url``); the time of the board's query (median of ``--repeat``) and a round's
   export.
3. Counting day's result sheet: ``--tables`` tables x ``--count-rounds`` rounds x ``--parties`` parties of
   returns; the time of the sheet's query.

    .venv/bin/python scripts/bench_pollday.py                          # 500 booths, 10 lines
    .venv/bin/python scripts/bench_pollday.py --booths 5000 --lines 100
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from db import migrate
from db.engine import Database
from db.models import Unit, UnitKind
from db.pollday import CountReport, PollReport
from pollday import counting_store as counts
from pollday import store
from pollday.board import board, export_round
from pollday.counting import CountingPlan, Party
from pollday.counting_board import sheet
from pollday.plan import PollDayPlan
from pollday.rounds import estimate
from sandbox.traffic import MIX

IST = ZoneInfo("Asia/Kolkata")


def model_round(booths: int, lines: int, call_seconds: float, ring_seconds: float, tries: int,
                seed: int) -> tuple[float, float]:
    """Seconds until the last answering booth answered, and the share of booths reached, for a round
    dialled over ``lines`` lines (each booth up to ``tries`` numbers, a fresh draw from the mix each)."""
    rnd = random.Random(seed)
    kinds, weights = [k for k, _ in MIX], [w for _, w in MIX]
    free = [0.0] * lines          # when each line is free again
    queue = [(0.0, b, 1) for b in range(booths)]
    reached, last = 0, 0.0
    while queue:
        due, booth, attempt = queue.pop(0)
        i = min(range(lines), key=free.__getitem__)
        start = max(free[i], due)
        if rnd.choices(kinds, weights)[0] == "answer":
            free[i] = start + call_seconds
            reached += 1
            last = max(last, free[i])
        else:
            free[i] = start + ring_seconds
            if attempt < tries:
                queue.append((free[i], booth, attempt + 1))
    return last, reached / booths if booths else 1.0


def fill(db: Database, booths: int, rounds: int, seed: int) -> int:
    """An AC of ``booths`` booths with a plan of ``rounds`` rounds and every booth's reports."""
    rnd = random.Random(seed)
    day = date(2026, 11, 20)
    times = [f"{9 + 2 * i:02d}:00" for i in range(rounds - 1)]
    with db.sessions.begin() as s:
        ac = Unit(key="ac:1", kind=UnitKind.ac, name="Bench AC", number=1)
        s.add(ac)
        s.flush()
        s.execute(insert(Unit), [{"key": f"booth:1:{i}", "kind": UnitKind.booth, "name": f"Booth {i}",
                                  "number": i + 1, "parent_id": ac.id, "ac_id": ac.id,
                                  "voter_count": rnd.randint(600, 1400)} for i in range(booths)])
        plan = PollDayPlan(ac_id=ac.id, poll_date=day, report_times=tuple(
            datetime.strptime(t, "%H:%M").time() for t in times))
        row = store.save_plan(s, plan)
        ids = [u for (u,) in s.execute(Unit.__table__.select().with_only_columns(Unit.id)
                                       .where(Unit.kind == UnitKind.booth))]
        at = datetime(2026, 11, 20, 9, tzinfo=IST).astimezone(UTC)
        reports = []
        for booth in ids:
            votes = 0
            for r in range(1, rounds + 1):
                votes += rnd.randint(40, 160)
                reports.append({"plan_id": row.id, "round": r, "booth_id": booth, "source": "call", "votes": votes,
                                "ours": votes // 2, "flags": [], "at": at + timedelta(hours=2 * r)})
        s.execute(insert(PollReport), reports)
        return ac.id


def fill_counting(db: Database, ac_id: int, tables: int, rounds: int, parties: int, seed: int) -> None:
    """A counting plan for the AC and every table's votes per party in every round."""
    rnd = random.Random(seed)
    keys = [f"P{i}" for i in range(1, parties + 1)]
    plan = CountingPlan(ac_id=ac_id, counting_date=date(2026, 11, 23), round_count=rounds, tables=tables,
                        parties=tuple(Party(k) for k in keys), round_minutes=20)
    at = datetime(2026, 11, 23, 9, tzinfo=IST).astimezone(UTC)
    with db.sessions.begin() as s:
        row = counts.save_plan(s, plan)
        s.execute(insert(CountReport), [{"plan_id": row.id, "round": r, "table_no": t, "party": k,
                                         "votes": rnd.randint(0, 400), "source": "call", "at": at}
                                        for r in range(1, rounds + 1) for t in range(1, tables + 1) for k in keys])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--booths", type=int, default=500)
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--tries", type=int, default=3, help="numbers tried per booth (posts, alternate phone)")
    ap.add_argument("--call-seconds", type=float, default=75.0)
    ap.add_argument("--ring-seconds", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tables", type=int, default=14, help="counting day: tables in the hall")
    ap.add_argument("--count-rounds", type=int, default=30, help="counting day: rounds")
    ap.add_argument("--parties", type=int, default=10, help="counting day: parties on the result sheet")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()

    seconds, share = model_round(args.booths, args.lines, args.call_seconds, args.ring_seconds, args.tries,
                                 args.seed)
    first = PollDayPlan(ac_id=1, poll_date=date(2026, 11, 20)).rounds()[0]
    fits = estimate(first, args.booths, args.lines, args.call_seconds, tries=1.3)
    print(f"round: {args.booths} booths over {args.lines} lines: every answering booth in "
          f"{seconds / 60:.1f} min, {share:.1%} of booths reached (model over the phone farm's mix)")
    print(f"round window {first.calls_from:%H:%M}-{first.until:%H:%M}: "
          f"{'fits' if fits.fits else 'does NOT fit'}; lines needed {fits.lines_needed}, "
          f"booths left uncalled {fits.not_called}")

    with tempfile.TemporaryDirectory() as tmp:
        db = Database.connect(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        ac_id = fill(db, args.booths, args.rounds, args.seed)
        print(f"board data: {args.booths} booths x {args.rounds} rounds written in "
              f"{time.perf_counter() - started:.1f} s")
        now = datetime(2026, 11, 20, 19, tzinfo=IST)
        took = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            with db.sessions() as s:
                result = board(s, ac_id, now)
            took.append(time.perf_counter() - t0)
        assert sum(len(g) for g in result["groups"].values()) == args.booths
        t0 = time.perf_counter()
        with db.sessions() as s:
            rows = export_round(s, ac_id, args.rounds)
        export = time.perf_counter() - t0
        print(f"board query: median {statistics.median(took) * 1000:.0f} ms (max {max(took) * 1000:.0f} ms); "
              f"round export ({len(rows)} rows): {export * 1000:.0f} ms")
        fill_counting(db, ac_id, args.tables, args.count_rounds, args.parties, args.seed)
        took = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            with db.sessions() as s:
                data = sheet(s, ac_id, datetime(2026, 11, 23, 20, tzinfo=IST))
            took.append(time.perf_counter() - t0)
        assert data["total"] > 0 and len(data["rows"]) == args.count_rounds
        print(f"counting sheet: {args.tables} tables x {args.count_rounds} rounds x {args.parties} parties: median "
              f"{statistics.median(took) * 1000:.0f} ms (max {max(took) * 1000:.0f} ms)")
        db.close()


if __name__ == "__main__":
    sys.exit(main())
