#!/usr/bin/env python3
"""Benchmark voter outreach: import a generated list (SQLite and PostgreSQL), load a do-not-call file and
check numbers against it, and plan the first due contacts of a campaign over the whole list. Each
measured part runs in a child process, so its peak memory is its own. The ``broadcast`` part (not in the
default set: it needs the sandbox Asterisk) runs an outreach campaign's broadcast calls through the sandbox
and the SIPp phone farm (60% answer and listen 20-40 s, 20% ring out, 10% busy, 5% congestion, 5% not
found), the whole service as it runs (each answered call hears its person's spliced message), and prints
calls per line-hour against the physical bound (the lines never idle: the hour divided by the mean time a
call held its line, from Asterisk's own CDR).

    .venv/bin/python scripts/bench_outreach.py                         # 10 lakh rows, 1 crore DND numbers
    .venv/bin/python scripts/bench_outreach.py --rows 100000 --dnd 1000000 --backend sqlite
    .venv/bin/python scripts/bench_outreach.py --parts dnd             # one part (import, dnd, plan)
    .venv/bin/python scripts/bench_outreach.py --parts broadcast       # 2,000 calls on 100 lines
    .venv/bin/python scripts/bench_outreach.py --parts broadcast --calls 500 --lines 50

Targets (issue 16): import of 10 lakh rows < 60 s and < 400 MB; 1 crore DND numbers loaded < 60 s and
> 1 lakh checks a second; the first due contacts of a 10 lakh campaign planned < 2 s; 2,000 broadcast
calls on 100 lines, calls per line-hour against the physical bound.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIRST = ["राम", "सीता", "मोहन", "गीता", "सुरेश", "अनीता", "विजय", "सुनीता", "Rajesh", "Kavita", "Dinesh", "Pooja"]
CONSENTS = ["missed call", "form", "event", "member referral"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_list(path: Path, rows: int, seed: int = 1) -> None:
    """Rows of a realistic list: 1% duplicates, 0.5% bad numbers, some rows without an AC."""
    rnd = random.Random(seed)
    phone = 7_000_000_000
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["mobile", "name", "language", "AC", "village", "consent", "ward"])
        for i in range(rows):
            phone += rnd.randint(1, 3)
            number = str(phone)
            if rnd.random() < 0.01:
                number = str(phone - 1)
            elif rnd.random() < 0.005:
                number = "12345"
            out.writerow([number, rnd.choice(FIRST), rnd.choice(("hi", "en")),
                          "" if i % 10 == 0 else str(1 + i % 90), f"ग्राम {i % 5000}", rnd.choice(CONSENTS),
                          str(i % 40)])


def generate_dnd(path: Path, numbers: int, seed: int = 2) -> None:
    """Numbers one a line, written the usual ways (+91, 0, plain), in chunks."""
    rnd = random.Random(seed)
    forms = ("+91{}", "0{}", "{}", "91{}")
    with open(path, "w", encoding="ascii") as fh:
        left = numbers
        while left:
            n = min(left, 200_000)
            fh.write("\n".join(forms[i % 4].format(rnd.randrange(6_000_000_000, 10_000_000_000))
                               for i in range(n)) + "\n")
            left -= n


def engine_for(backend: str, schema: str | None) -> Engine:
    from db import migrate
    from db.engine import make_engine

    if backend == "sqlite":
        assert schema is not None
        engine = make_engine(f"sqlite:///{schema}")
    else:
        engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    migrate.upgrade(engine)
    return engine


def child_import(backend: str, where: str, csv_path: str) -> dict[str, float]:
    from sqlalchemy.orm import sessionmaker

    from directory.reader import open_table
    from outreach.importer import ListImportOptions, import_contacts
    from outreach.rows import ALIASES, REQUIRED

    engine = engine_for(backend, where)
    out: dict[str, float] = {}
    for label in ("import", "re-import"):
        started = time.monotonic()
        table = open_table(Path(csv_path), ALIASES, REQUIRED, keep_other=True)
        s = import_contacts(sessionmaker(engine), table.rows, ListImportOptions("bench"))
        out[f"{label}_seconds"] = time.monotonic() - started
        out[f"{label}_created"], out[f"{label}_unchanged"] = s.created, s.unchanged
        out[f"{label}_merged"], out[f"{label}_rejected"] = s.merged, s.rejected
        out["rows"] = s.rows
    out["rss_mb"] = rss_mb()
    return out


def child_dnd(source: str, dest: str, checks: int) -> dict[str, float]:
    from outreach.dnd import DndList, build

    summary = build(Path(source), Path(dest))
    out: dict[str, float] = {"load_seconds": summary.seconds, "numbers": summary.numbers, "lines": summary.lines,
                             "load_rss_mb": rss_mb(), "file_mb": Path(dest).stat().st_size / 1e6}
    rnd = random.Random(3)
    phones = [f"+91{rnd.randrange(6_000_000_000, 10_000_000_000)}" for _ in range(checks)]
    with DndList(Path(dest)) as dnd:
        started = time.monotonic()
        found = sum(1 for p in phones if p in dnd)
        seconds = time.monotonic() - started
    out.update(checks=checks, found=found, checks_per_second=checks / seconds)
    return out


def child_plan(backend: str, where: str, dnd_file: str) -> dict[str, float]:
    from datetime import UTC, datetime, timedelta

    from db.engine import Database
    from dialer.rules import CallingRules
    from outreach.service import OutreachConfig, OutreachService

    engine = engine_for(backend, where)
    noon = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    service = OutreachService(Database(engine), OutreachConfig(Path(dnd_file), CallingRules(min_gap=timedelta(0))),
                              clock=lambda: noon)

    async def run() -> dict[str, float]:
        name = f"bench {uuid.uuid4().hex[:6]}"
        await service.create_campaign(name, "bench", mcmc_ref="MCMC/BENCH/1", caller_id="07554000000",
                                      trunk_category="140-series")
        started = time.monotonic()
        await service.start_campaign(name)
        due, _ = await service.plan_due(name, 100)
        first = time.monotonic() - started
        started = time.monotonic()
        scrubbed = await service.scrub(name)
        return {"scrub_seconds": time.monotonic() - started, "first_plan_seconds": first, "due": len(due),
                "scrubbed_dnd": scrubbed.get("dnd", 0), "rss_mb": rss_mb()}

    return asyncio.run(run())


def in_child(*args: str) -> dict[str, float]:
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False,
                         cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{res.stderr[-3000:]}")
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def pg_schema(drop: str | None = None) -> str:
    from sqlalchemy import text

    from db.engine import make_engine

    admin = make_engine(PG_URL)
    schema = drop or f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE' if drop else f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        result = {"import": lambda: child_import(*rest), "dnd": lambda: child_dnd(rest[0], rest[1], int(rest[2])),
                  "plan": lambda: child_plan(*rest)}[kind]()
        print(json.dumps(result))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="list rows (default 10 lakh)")
    ap.add_argument("--dnd", type=int, default=10_000_000, help="do-not-call numbers (default 1 crore)")
    ap.add_argument("--checks", type=int, default=1_000_000, help="do-not-call checks to time")
    ap.add_argument("--backend", action="append", choices=["sqlite", "postgresql"], help="(repeatable)")
    ap.add_argument("--parts", default="import,dnd,plan", help="comma-separated: import, dnd, plan, broadcast")
    ap.add_argument("--calls", type=int, default=2000, help="broadcast calls (default 2,000)")
    ap.add_argument("--lines", type=int, default=100, help="lines for the broadcast calls (default 100)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if "broadcast" in parts:
        from bench_broadcast import broadcast_bench  # the sandbox's part, in its own module
        broadcast_bench(args.calls, args.lines)
    backends = args.backend or ["sqlite", "postgresql"]
    with tempfile.TemporaryDirectory(prefix="bench-outreach-") as tmp:
        dnd_bin = Path(tmp) / "dnd.bin"
        if "dnd" in parts or "plan" in parts:
            source = Path(tmp) / "dnd.txt"
            t = time.monotonic()
            generate_dnd(source, args.dnd)
            print(f"{args.dnd:,} DND numbers: generated {source.stat().st_size / 1e6:.0f} MB in "
                  f"{time.monotonic() - t:.1f}s", file=sys.stderr)
            r = in_child("dnd", str(source), str(dnd_bin), str(args.checks))
            print(f"DND load   {int(r['lines']):>11,} lines: {r['load_seconds']:6.1f} s, {int(r['numbers']):,} "
                  f"distinct stored in {r['file_mb']:.0f} MB, peak RSS {r['load_rss_mb']:.0f} MB; "
                  f"{r['checks_per_second']:,.0f} checks/s ({int(r['found']):,} of {int(r['checks']):,} found)")
            source.unlink()
        if not parts & {"import", "plan"}:
            return
        csv_path = Path(tmp) / "list.csv"
        t = time.monotonic()
        generate_list(csv_path, args.rows)
        print(f"{args.rows:,} list rows: generated {csv_path.stat().st_size / 1e6:.0f} MB in "
              f"{time.monotonic() - t:.1f}s", file=sys.stderr)
        for backend in backends:
            where = str(Path(tmp) / "bench.db") if backend == "sqlite" else pg_schema()
            try:
                r = in_child("import", backend, where, str(csv_path))
                for label in ("import", "re-import"):
                    sec = r[f"{label}_seconds"]
                    print(f"{backend:<10} {label:<9} {int(r['rows']):>9,} rows: {sec:6.1f} s, {r['rows'] / sec:8,.0f} "
                          f"rows/s (created {int(r[f'{label}_created']):,}, unchanged "
                          f"{int(r[f'{label}_unchanged']):,}, merged {int(r[f'{label}_merged']):,}, rejected "
                          f"{int(r[f'{label}_rejected']):,})")
                print(f"{backend:<10} import peak RSS {r['rss_mb']:.0f} MB (both runs)")
                if "plan" in parts:
                    p = in_child("plan", backend, where, str(dnd_bin))
                    print(f"{backend:<10} campaign over the list: started and first {int(p['due'])} due planned in "
                          f"{p['first_plan_seconds']:.3f} s; the whole list scrubbed (read only) in "
                          f"{p['scrub_seconds']:.1f} s ({int(p['scrubbed_dnd']):,} on the DND file); peak RSS "
                          f"{p['rss_mb']:.0f} MB")
            finally:
                if backend == "postgresql":
                    pg_schema(drop=where)


if __name__ == "__main__":
    main()
