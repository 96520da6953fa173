"""The calling rules, unit- and property-tested over clock and time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.rules import CallingRules, Facts, RulesError, check, in_window, next_window_start

IST = ZoneInfo("Asia/Kolkata")
ZONES = st.sampled_from(["Asia/Kolkata", "UTC", "Europe/London", "America/New_York", "Asia/Kathmandu",
                         "Australia/Adelaide", "Pacific/Chatham"])
MOMENTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC))
WINDOWS = st.tuples(st.integers(6 * 60, 21 * 60), st.integers(30, 16 * 60)).map(
    lambda t: (time(t[0] // 60, t[0] % 60), time(min(22 * 60, t[0] + t[1]) // 60, min(22 * 60, t[0] + t[1]) % 60)))


def _rules(tz: str = "Asia/Kolkata", window: tuple[time, time] = (time(9), time(21)), **kw: Any) -> CallingRules:
    return CallingRules(window_start=window[0], window_end=window[1], timezone=tz, **kw)


def test_default_window_in_ist() -> None:
    rules = CallingRules()
    assert check(Facts(), datetime(2026, 11, 22, 9, 0, tzinfo=IST), rules).allowed
    late = check(Facts(), datetime(2026, 11, 22, 21, 0, tzinfo=IST), rules)
    assert late.rule == "window" and late.retry_at == datetime(2026, 11, 23, 9, 0, tzinfo=IST)
    early = check(Facts(), datetime(2026, 11, 22, 3, 30, tzinfo=UTC), rules)  # 09:00 IST
    assert early.allowed


def test_windows_into_the_night_ban_are_refused() -> None:
    with pytest.raises(RulesError, match="banned"):
        _rules(window=(time(8), time(22, 30)))
    with pytest.raises(RulesError, match="start must be before"):
        _rules(window=(time(12), time(10)))
    with pytest.raises(RulesError, match="unknown time zone"):
        _rules(tz="Mars/Olympus")


def test_rule_order_and_reasons() -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=IST)
    rules = CallingRules()
    assert check(Facts(dnd=True, status="wrong_number"), now, rules).rule == "dnd"
    assert check(Facts(status="wrong_number"), now, rules).rule == "status"
    assert check(Facts(phone=None), now, rules).rule == "no_phone"
    poll = now + timedelta(hours=30)
    v = check(Facts(poll_end_at=poll), now, rules)
    assert v.rule == "silence" and v.retry_at == poll and "close of poll" in v.reason
    assert check(Facts(poll_end_at=now + timedelta(hours=49)), now, rules).allowed
    assert check(Facts(poll_end_at=now - timedelta(minutes=1)), now, rules).allowed  # poll closed
    assert check(Facts(phone_in_call=True), now, rules).rule == "busy_phone"
    gap = check(Facts(last_call_at=now - timedelta(minutes=10)), now, rules)
    assert gap.rule == "gap" and gap.retry_at == now + timedelta(minutes=20)
    cap = check(Facts(attempts_today=3), now, rules)
    assert cap.rule == "daily_cap" and cap.retry_at == datetime(2026, 11, 23, 9, tzinfo=IST)
    assert check(Facts(starts_at=now + timedelta(hours=1)), now, rules).rule == "schedule"
    assert check(Facts(ends_at=now), now, rules).rule == "schedule"


@settings(max_examples=300, deadline=None)
@given(now=MOMENTS, tz=ZONES, window=WINDOWS)
def test_never_allowed_outside_the_window(now: datetime, tz: str, window: tuple[time, time]) -> None:
    rules = _rules(tz, window)
    local = now.astimezone(ZoneInfo(tz)).time()
    verdict = check(Facts(), now, rules)
    assert verdict.allowed == (window[0] <= local < window[1])
    if not verdict.allowed:
        assert verdict.rule == "window" and verdict.retry_at is not None and verdict.retry_at > now
        assert verdict.retry_at - now <= timedelta(hours=26)


@settings(max_examples=300, deadline=None)
@given(now=MOMENTS, tz=ZONES, window=WINDOWS)
def test_next_window_start_opens_the_window(now: datetime, tz: str, window: tuple[time, time]) -> None:
    rules = _rules(tz, window)
    start = next_window_start(now, rules)
    assert start >= now
    # windows lie within 06:00-22:00, clear of every DST change (those happen at night), so the
    # opening found is really open, and nothing before it (after now) was
    assert in_window(start, rules)
    if start != now:
        assert not in_window(start - timedelta(minutes=1), rules) or start - timedelta(minutes=1) < now
        assert start - now <= timedelta(hours=26)


@settings(max_examples=300, deadline=None)
@given(now=MOMENTS, hours=st.floats(0, 96), poll_offset=st.floats(-10, 100))
def test_silence_period_is_exactly_the_hours_before_poll_close(now: datetime, hours: float,
                                                               poll_offset: float) -> None:
    rules = CallingRules(timezone="UTC", window_start=time(6), window_end=time(22), silence_hours=hours)
    poll = now + timedelta(hours=poll_offset)
    verdict = check(Facts(poll_end_at=poll), now, rules)
    inside = poll - timedelta(hours=hours) <= now < poll
    assert (verdict.rule == "silence") == inside


@settings(max_examples=200, deadline=None)
@given(now=MOMENTS, tz=ZONES, attempts=st.integers(0, 10), cap=st.integers(1, 6))
def test_daily_cap_holds_until_a_later_day(now: datetime, tz: str, attempts: int, cap: int) -> None:
    rules = _rules(tz, (time(6), time(22)), max_per_day=cap)
    verdict = check(Facts(attempts_today=attempts), now, rules)
    if not in_window(now, rules):
        assert verdict.rule == "window"
    elif attempts >= cap:
        assert verdict.rule == "daily_cap" and verdict.retry_at is not None
        assert verdict.retry_at.astimezone(ZoneInfo(tz)).date() > now.astimezone(ZoneInfo(tz)).date()
    else:
        assert verdict.allowed
