#!/usr/bin/env python3
"""Benchmark the directory import: generate a realistic directory CSV, import it into a fresh SQLite
database, import it again (all unchanged), and print rows/s and peak memory for each run.

    .venv/bin/python scripts/bench_import.py                       # 100,000 and 1,000,000 members
    .venv/bin/python scripts/bench_import.py --members 100000      # one size
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = ["राम", "सीता", "मोहन", "गीता", "सुरेश", "अनीता", "विजय", "सुनीता", "राजेश", "कविता", "दिनेश", "पूजा",
         "महेश", "रेखा", "अजय", "ममता", "संजय", "ज्योति", "अशोक", "लता"]
LAST = ["शर्मा", "वर्मा", "यादव", "पटेल", "सिंह", "चौहान", "तिवारी", "मिश्रा", "कुशवाहा", "साहू", "जैन", "ठाकुर"]
POSTS = ["अध्यक्ष", "सचिव", "BLA", "सदस्य", "पन्ना प्रमुख", "कोषाध्यक्ष"]
HEADER = ["जिला", "विधानसभा क्रमांक", "विधानसभा", "मंडल", "शक्ति केंद्र", "बूथ क्रमांक", "मतदान केंद्र", "स्तर", "पद",
          "नाम", "मोबाइल", "वैकल्पिक मोबाइल"]


def generate(path: Path, members: int, seed: int = 1) -> int:
    """Write about ``members`` rows: districts > ACs > mandals > shakti kendras (5 booths) > booths."""
    rnd = random.Random(seed)
    written = 0
    phone = 9_300_000_000
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        ac_no = 0
        district = 0
        while written < members:
            district += 1
            dname = f"जिला {district}"
            for _ in range(8):
                ac_no += 1
                ac_name = f"विधानसभा {ac_no}"
                booth_no = 0
                for m in range(1, 6):
                    mandal = f"मंडल {m}"
                    for k in range(1, 9):
                        kendra = f"शक्ति केंद्र {m}-{k}"
                        for _ in range(5):
                            booth_no += 1
                            for _ in range(rnd.randint(2, 10)):
                                phone += rnd.randint(1, 50)
                                alt = str(phone + 7_000_000) if rnd.random() < 0.2 else ""
                                out.writerow([dname, ac_no, ac_name, mandal, kendra, booth_no,
                                              f"शासकीय शाला {booth_no}", "बूथ", rnd.choice(POSTS),
                                              f"{rnd.choice(FIRST)} {rnd.choice(LAST)}", str(phone), alt])
                                written += 1
                                if written >= members:
                                    return written
    return written


def run_import(csv_path: Path, db: Path) -> dict[str, float]:
    """Import in a child process so each run's peak memory is its own."""
    code = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from sqlalchemy.orm import sessionmaker\n"
        "from db import migrate\nfrom db.engine import make_engine\n"
        "from directory.importer import import_file\n"
        f"engine = make_engine('sqlite:///{db}'); migrate.upgrade(engine)\n"
        "t = time.monotonic()\n"
        f"s = import_file(sessionmaker(engine), Path('{csv_path}'))\n"
        "sec = time.monotonic() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'rows': s.rows, 'created': s.created, 'unchanged': s.unchanged, 'updated': s.updated,"
        " 'merged': s.merged, 'rejected': s.rejected, 'seconds': sec, 'rss_mb': rss}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"import failed:\n{res.stderr[-3000:]}")
    import json

    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, action="append", help="directory size (repeatable)")
    args = ap.parse_args()
    sizes = args.members or [100_000, 1_000_000]
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for n in sizes:
            csv_path, db = Path(tmp) / f"dir{n}.csv", Path(tmp) / f"dir{n}.db"
            t = time.monotonic()
            rows = generate(csv_path, n)
            print(f"{rows:,} members: generated {csv_path.stat().st_size / 1e6:.0f} MB in {time.monotonic() - t:.1f}s",
                  file=sys.stderr)
            for label in ("import", "re-import"):
                r = run_import(csv_path, db)
                print(f"{rows:>9,} members {label:<9}: {r['seconds']:6.1f} s, {r['rows'] / r['seconds']:8,.0f} rows/s, "
                      f"peak RSS {r['rss_mb']:.0f} MB (created {r['created']:,}, unchanged {r['unchanged']:,}, "
                      f"updated {r['updated']:,}, merged {r['merged']:,}, rejected {r['rejected']:,})")
    print(f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
