"""ETA and lines needed: consistent with each other over random paces, clocks and deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.rules import CallingRules, in_window
from outreach.eta import Pace, calling_seconds_until, finish_at, lines_needed

RULES = CallingRules(window_start=time(9), window_end=time(21), timezone="Asia/Kolkata")
clocks = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
paces = st.builds(Pace, st.floats(0, 1), st.floats(1, 120), st.floats(5, 60))


def test_a_day_of_calling() -> None:
    noon = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 12:00 IST
    pace = Pace(answer_rate=0.5, listen_seconds=30, ring_seconds=24)   # 3 + 15 + 12 = 30 s an attempt
    assert pace.per_line_hour() == 120
    assert finish_at(noon, 120 * 10, 10, pace, RULES) == noon + timedelta(hours=1)
    # 9 hours left today (12:00-21:00): 10 more hours of calling end at 10:00 tomorrow
    assert finish_at(noon, 120 * 10 * 10, 10, pace, RULES) == datetime(2026, 11, 3, 4, 30, tzinfo=UTC)
    assert calling_seconds_until(noon, noon + timedelta(days=1), RULES) == 12 * 3600
    assert lines_needed(noon, noon + timedelta(hours=2), 2400, pace, RULES) == 10
    assert lines_needed(noon, noon, 10, pace, RULES) is None and finish_at(noon, 5, 0, pace, RULES) is None


@settings(max_examples=150, deadline=None)
@given(now=clocks, remaining=st.integers(1, 10**6), lines=st.integers(1, 200), pace=paces)
def test_the_eta_falls_in_the_window_and_its_lines_suffice(now: datetime, remaining: int, lines: int,
                                                           pace: Pace) -> None:
    done = finish_at(now, remaining, lines, pace, RULES)
    assert done is not None and done > now
    assert in_window(done, RULES) or in_window(done - timedelta(seconds=1), RULES)
    needed = lines_needed(now, done + timedelta(seconds=1), remaining, pace, RULES)
    assert needed is not None and needed <= lines
