"""Booth status from past results: a pure, documented function.

For each of the booth's most recent ``elections`` results (newest first), the **margin** is
``(our votes - the best other party's votes) / valid votes polled``, a fraction in [-1, 1].

- no usable result                                   -> ``unknown``
- the party won some and lost others of those results -> ``swing`` (the booth changes hands)
- mean margin >= ``strong_margin``                     -> ``strong``
- mean margin <= -``weak_margin``                      -> ``weak``
- otherwise (a close booth)                            -> ``swing``

Thresholds come from settings (defaults: 10 points either way, the last two elections).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from db.models import BoothStatus


@dataclass(frozen=True)
class StatusRules:
    party: str
    strong_margin: float = 0.10
    weak_margin: float = 0.10
    elections: int = 2


def margin(party_votes: Mapping[str, int], party: str) -> float | None:
    """Our margin over the best other party as a fraction of the votes cast; None if nothing to judge."""
    total = sum(v for v in party_votes.values() if v > 0)
    if total <= 0 or party not in party_votes:
        return None
    ours = party_votes[party]
    best_other = max((v for p, v in party_votes.items() if p != party), default=0)
    return (ours - best_other) / total


def classify(results_newest_first: Sequence[Mapping[str, int]], rules: StatusRules) -> BoothStatus:
    """Classify a booth from its per-election party votes, newest first (see the module docstring)."""
    margins = [m for m in (margin(r, rules.party) for r in results_newest_first[: rules.elections])
               if m is not None]
    if not margins:
        return BoothStatus.unknown
    if any(m > 0 for m in margins) and any(m < 0 for m in margins):
        return BoothStatus.swing
    mean = sum(margins) / len(margins)
    if mean >= rules.strong_margin:
        return BoothStatus.strong
    if mean <= -rules.weak_margin:
        return BoothStatus.weak
    return BoothStatus.swing
