"""The hopper: a few targets claimed ahead, so a line that frees is dialed at once.

A claim is a database transaction, and on a busy node it waits behind the settles (SQLite has one writer;
PostgreSQL's pool is shared): tens, at times hundreds, of milliseconds in which a free line stands idle.
So each pass claims, per campaign and trunk, more targets than there are free lines (about two seconds'
calls, at most a share of the trunk's lines: :func:`ahead`): their attempts are written as for any claim
(``dialing``, our ids, the phone in a call for every node) but not dialed yet. A line that frees takes the
oldest ready one straight away, without waiting for a pass (VICIdial calls this its hopper).

A ready attempt waits at most ``max_age`` seconds, and the calling rules are judged again, on the facts read
when it was claimed, at the moment it is dialed (the calling window may have closed meanwhile). Those too
old or no longer allowed, those of a campaign that stopped running, and all of them when the service stops
or loses Asterisk, are given back: the attempt row is deleted and the target queued again as it was
(:func:`dialer.claims.give_back`), as if never claimed. Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dialer.rules import CallingRules, Facts
from dialer.store import Launch


@dataclass(frozen=True)
class Ready:
    """A claimed attempt not dialed yet."""

    launch: Launch
    trunk: str
    rules: CallingRules
    facts: Facts
    claimed: float  # time.monotonic() when it was claimed

    @property
    def channel_id(self) -> str:
        return self.launch.channel_id


READY_SECONDS = 2.0  # keep about this long's calls ready: a pass that waits longer on the database is rare


def ahead(lines: int, share: float, rate: float | None) -> int:
    """How many attempts to keep ready for a trunk of ``lines`` lines when calls start at ``rate`` a
    second: about ``READY_SECONDS``' worth (at least one), never more than ``share`` of the lines (rounded
    up; none when ``share`` is 0); that most while the rate is not known yet (a campaign's first seconds,
    when fast failures free many lines at once). Sized by the rate, a slow campaign keeps few ready, so few
    grow old."""
    if share <= 0 or lines <= 0:
        return 0
    most = math.ceil(lines * share)
    return most if rate is None else min(most, max(1, math.ceil(rate * READY_SECONDS)))


class Hopper:
    """Ready attempts per (campaign, trunk), oldest first."""

    def __init__(self, max_age: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age, self.clock = max_age, clock
        self._ready: dict[tuple[int, str], deque[Ready]] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._ready.values())

    def add(self, item: Ready) -> None:
        self._ready.setdefault((item.launch.campaign_id, item.trunk), deque()).append(item)

    def count(self, campaign_id: int, trunk: str) -> int:
        return len(self._ready.get((campaign_id, trunk), ()))

    def trunks_of(self, campaign_id: int) -> list[str]:
        """The trunks ``campaign_id`` has ready attempts on."""
        return [trunk for (cid, trunk), q in self._ready.items() if cid == campaign_id and q]

    def take(self, campaign_id: int, trunk: str) -> Ready | None:
        """The oldest ready attempt of the campaign on the trunk, taken out (None: none ready)."""
        q = self._ready.get((campaign_id, trunk))
        return q.popleft() if q else None

    def stale(self, running: Iterable[int]) -> list[Ready]:
        """Take out and return the attempts waiting longer than ``max_age`` and those of campaigns not in
        ``running``."""
        keep, now = set(running), self.clock()
        out: list[Ready] = []
        for (cid, _trunk), q in self._ready.items():
            if cid not in keep:
                out.extend(q)
                q.clear()
                continue
            while q and now - q[0].claimed > self.max_age:
                out.append(q.popleft())
        return out

    def drain(self) -> list[Ready]:
        """Take out every ready attempt (the service stops, or Asterisk is gone)."""
        out = [r for q in self._ready.values() for r in q]
        self._ready.clear()
        return out
