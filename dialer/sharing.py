"""Sharing the operators and the lines between operator campaigns running at once (pure logic).

Without it the first campaign of a scheduling pass took every free line and every ready operator, and the
others waited until it ran dry. Now each pass:

- the **lines** free on a trunk are handed out one at a time to the campaign holding the fewest lines for
  its weight (its calls already on the lines count), so the campaigns using a trunk end up holding about
  equal numbers of its lines (:func:`water_fill`);
- the **operators**' room for calls (progressive: ready operators x the ratio, less the answered calls
  waiting) is divided evenly (:func:`apportion`): a campaign's calls may not exceed its part, its calls
  ringing already count against it, and all the campaigns' new calls together never exceed the room left
  (:func:`share_operator_room`); a predictive campaign is paced on its part of the operators
  (``dialer.predictive.share``).

The campaigns' weights are all 1 today (there is no weight setting; a campaign's priority orders the pass
and breaks ties: the earlier one gets the odd unit). A campaign that claims fewer calls than its share
(no due targets, or all held back by the calling rules) leaves the pass's next round to the others, so a
share is never left idle while another campaign has targets (``dialer.scheduler``)."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One campaign's claim on a resource: ``holding`` it holds already (counts toward its share),
    ``demand`` the most it can take now (None: no limit), ``weight`` its relative share."""

    key: int
    holding: int = 0
    demand: int | None = None
    weight: float = 1.0


def water_fill(total: int, claims: Sequence[Claim]) -> dict[int, int]:
    """Hand ``total`` units out one at a time, each to the claim whose holding after it, per weight, is the
    lowest ((holding + given + 1) / weight); ties go to the earlier claim. A claim stops at its demand.
    Returns the units given per key: they sum to ``min(total, sum of demands)``."""
    given = {c.key: 0 for c in claims}
    heap = [((c.holding + 1) / c.weight, i) for i, c in enumerate(claims)
            if c.weight > 0 and (c.demand is None or c.demand > 0)]
    heapq.heapify(heap)
    left = max(0, total)
    while left > 0 and heap:
        _, i = heapq.heappop(heap)
        c = claims[i]
        given[c.key] += 1
        left -= 1
        if c.demand is None or given[c.key] < c.demand:
            heapq.heappush(heap, ((c.holding + given[c.key] + 1) / c.weight, i))
    return given


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` divided by ``weights`` into whole parts that sum to it (equal weights: parts differ by at
    most one, the earlier ones get the remainder)."""
    if not weights:
        return []
    given = water_fill(total, [Claim(i, weight=w) for i, w in enumerate(weights)])
    return [given[i] for i in range(len(weights))]


def share_operator_room(room: int, ringing: Sequence[int], progressive: Sequence[bool] | None = None,
                        weights: Sequence[float] | None = None, elsewhere: int = 0) -> list[int]:
    """New calls each progressive campaign may start for the operators: ``room`` is what the operators allow
    in all (ready x ratio less the answered calls waiting), ``ringing`` each campaign's calls not answered yet.
    Every campaign has its part of the room (:func:`apportion`); a progressive one may start its part less
    its ringing calls, and together no more than the room less all the ringing calls (``elsewhere``: those
    of campaigns not sharing, e.g. paused with calls still out). A predictive campaign (``progressive``
    False) gets 0 here: it is paced on its part of the operators by ``dialer.predictive``."""
    progressive = list(progressive) if progressive is not None else [True] * len(ringing)
    weights = list(weights) if weights is not None else [1.0] * len(ringing)
    parts = apportion(max(0, room), weights)
    claims = [Claim(i, holding=r, demand=max(0, part - r), weight=w)
              for i, (part, r, w, p) in enumerate(zip(parts, ringing, weights, progressive, strict=True)) if p]
    given = water_fill(max(0, room - sum(ringing) - max(0, elsewhere)), claims)
    return [given.get(i, 0) for i in range(len(ringing))]


def share_lines(free: int, holding: Sequence[int], weights: Sequence[float] | None = None) -> list[int]:
    """New calls each campaign may start on a trunk's ``free`` lines, ``holding`` the lines each holds now:
    all the free lines are handed out, the fewest-holding campaigns first."""
    weights = list(weights) if weights is not None else [1.0] * len(holding)
    given = water_fill(max(0, free), [Claim(i, holding=h, weight=w)
                                      for i, (h, w) in enumerate(zip(holding, weights, strict=True))])
    return [given[i] for i in range(len(holding))]
