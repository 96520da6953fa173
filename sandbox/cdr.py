"""Asterisk's own call records (cdr_custom's ``warroom.csv``), to check ours against."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

FIELDS = ["uniqueid", "linkedid", "channel", "dstchannel", "src", "dst", "dcontext", "disposition", "start",
          "answer", "end", "duration", "billsec", "userfield", "accountcode"]


@dataclass(frozen=True)
class CdrRecord:
    uniqueid: str
    channel: str
    disposition: str            # ANSWERED / NO ANSWER / BUSY / FAILED / CONGESTION
    start: datetime | None
    answer: datetime | None
    end: datetime | None
    duration: int
    billsec: int


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text.strip() else None


def read_cdr(log_dir: Path) -> list[CdrRecord]:
    """All records Asterisk has written so far (empty if none yet)."""
    path = log_dir / "cdr-custom" / "warroom.csv"
    if not path.exists():
        return []
    out = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        for row in csv.reader(fh):
            if len(row) < len(FIELDS):
                continue
            r = dict(zip(FIELDS, row, strict=False))
            out.append(CdrRecord(r["uniqueid"], r["channel"], r["disposition"], _time(r["start"]),
                                 _time(r["answer"]), _time(r["end"]), int(r["duration"] or 0),
                                 int(r["billsec"] or 0)))
    return out
