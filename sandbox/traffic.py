"""The phone farm's usual mix of phones, and what Asterisk's own records say of the traffic: for the
benchmarks (one node or several) and the tests that measure lines kept busy."""

from __future__ import annotations

import random
from datetime import datetime
from typing import cast

from ari_handlers.app import CallHandler
from sandbox.cdr import CdrRecord
from sandbox.phonefarm import Behaviour, Kind

MIX = [("answer", 0.60), ("noanswer", 0.20), ("busy", 0.10), ("congestion", 0.05), ("notfound", 0.05)]


class Hold(CallHandler):
    """The answered call stays in our Stasis app until the phone hangs up."""


def behaviours(n: int, scale: float, seed: int) -> dict[str, Behaviour]:
    rnd = random.Random(seed)
    kinds = [k for k, share in MIX for _ in range(round(share * n))][:n]
    rnd.shuffle(kinds)
    out = {}
    for i, kind in enumerate(kinds):
        hold = int(rnd.uniform(20_000, 40_000) * scale)
        out[f"+9170{i:08d}"] = Behaviour(cast(Kind, kind), hold_ms=hold if kind == "answer" else 2000)
    return out


def per_channel(records: list[CdrRecord]) -> dict[str, tuple[datetime, datetime, bool]]:
    """One (start, end, answered) per channel: Asterisk may write several CDRs for one channel."""
    out: dict[str, tuple[datetime, datetime, bool]] = {}
    for r in records:
        if not (r.start and r.end):
            continue
        start, end, answered = out.get(r.uniqueid, (r.start, r.end, False))
        out[r.uniqueid] = (min(start, r.start), max(end, r.end), answered or r.disposition == "ANSWERED")
    return out


def utilisation(records: list[CdrRecord], lines: int) -> tuple[float, float, int]:
    """(line-seconds used / (lines x span), span seconds, answered channels) from Asterisk's CDR."""
    channels = per_channel(records)
    if not channels:
        return 0.0, 0.0, 0
    span = (max(e for _, e, _ in channels.values()) - min(s for s, _, _ in channels.values())).total_seconds()
    used = sum((e - s).total_seconds() for s, e, _ in channels.values())
    answered = sum(a for _, _, a in channels.values())
    return (used / (lines * span) if span else 0.0), span, answered


def utilisation_while_dialing(records: list[CdrRecord], lines: int) -> float:
    """Line-seconds used / (lines x seconds) from the first call's start to the last call's start: the time
    there were still calls to make. After the last start the list is done, and a line that frees has nothing
    left to dial: that drain is the list's end, not the dialer's, so it is left out here (``utilisation``
    keeps it)."""
    channels = per_channel(records)
    if not channels:
        return 0.0
    first = min(s for s, _, _ in channels.values())
    last = max(s for s, _, _ in channels.values())
    window = (last - first).total_seconds()
    if window <= 0:
        return 0.0
    used = sum(max(0.0, (min(e, last) - s).total_seconds()) for s, e, _ in channels.values())
    return used / (lines * window)
