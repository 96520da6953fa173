"""Booth status classification: documented thresholds, properties over random results."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from db.models import BoothStatus
from directory.status import StatusRules, classify, margin

RULES = StatusRules("US", strong_margin=0.10, weak_margin=0.10, elections=2)
VOTES = st.fixed_dictionaries({"US": st.integers(0, 2000), "THEM": st.integers(0, 2000), "OTHER": st.integers(0, 500)})


def test_examples() -> None:
    assert classify([{"US": 600, "THEM": 300, "OTHER": 100}], RULES) is BoothStatus.strong  # +30 points
    assert classify([{"US": 300, "THEM": 600, "OTHER": 100}], RULES) is BoothStatus.weak
    assert classify([{"US": 480, "THEM": 450, "OTHER": 70}], RULES) is BoothStatus.swing  # +3 points
    assert classify([{"US": 600, "THEM": 300}, {"US": 300, "THEM": 600}], RULES) is BoothStatus.swing  # flipped
    assert classify([], RULES) is BoothStatus.unknown
    assert classify([{"THEM": 10}], RULES) is BoothStatus.unknown  # we did not stand
    assert classify([{"US": 0, "THEM": 0}], RULES) is BoothStatus.unknown
    assert margin({"US": 550, "THEM": 450}, "US") == 0.1  # exactly on the threshold counts as strong
    assert classify([{"US": 550, "THEM": 450}], RULES) is BoothStatus.strong


def _swap(v: dict[str, int]) -> dict[str, int]:
    return {**v, "US": v["THEM"], "THEM": v["US"]}


@settings(max_examples=400, deadline=None)
@given(results=st.lists(VOTES, min_size=1, max_size=3))
def test_swapping_us_and_the_rival_swaps_strong_and_weak(results: list[dict[str, int]]) -> None:
    status = classify(results, RULES)
    swapped = classify([_swap(r) for r in results], RULES)
    mirror = {BoothStatus.strong: BoothStatus.weak, BoothStatus.weak: BoothStatus.strong}
    if status in mirror and all(r["OTHER"] < min(r["US"], r["THEM"]) for r in results[:2]):
        assert swapped is mirror[status]


@settings(max_examples=400, deadline=None)
@given(result=VOTES, extra=st.integers(1, 1000))
def test_more_votes_for_us_never_lowers_the_status(result: dict[str, int], extra: int) -> None:
    order = {BoothStatus.weak: 0, BoothStatus.swing: 1, BoothStatus.strong: 2, BoothStatus.unknown: -1}
    before = classify([result], RULES)
    after = classify([{**result, "US": result["US"] + extra}], RULES)
    if before is not BoothStatus.unknown:
        assert order[after] >= order[before]


@settings(max_examples=400, deadline=None)
@given(results=st.lists(VOTES, min_size=1, max_size=4))
def test_thresholds_are_respected_and_only_recent_elections_count(results: list[dict[str, int]]) -> None:
    status = classify(results, RULES)
    margins = [m for m in (margin(r, "US") for r in results[:2]) if m is not None]
    if not margins:
        assert status is BoothStatus.unknown
        return
    mean = sum(margins) / len(margins)
    if status is BoothStatus.strong:
        assert mean >= 0.10 and all(m >= 0 for m in margins)
    if status is BoothStatus.weak:
        assert mean <= -0.10 and all(m <= 0 for m in margins)
    if len(results) >= 2:  # a third, older election is outside the window and changes nothing
        assert classify(results[:2] + [{"US": 0, "THEM": 999, "OTHER": 0}], RULES) is status
