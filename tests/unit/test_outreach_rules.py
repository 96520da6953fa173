"""Property tests of the outreach law: over random clocks, zones, windows and poll calendars, no attempt is
allowed inside a person's AC silence (or the state's earliest poll's, with no AC), in 22:00-06:00, or to an
opted-out or DND number."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.rules import CallingRules
from outreach.rules import Person, PollCalendar, check_person, in_ban, may_start

ZONES = ["Asia/Kolkata", "UTC", "America/New_York", "Asia/Tokyo", "Europe/London", "Pacific/Kiritimati",
         "America/Los_Angeles"]
clocks = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC))
calendars = st.dictionaries(st.integers(1, 300), clocks, max_size=8)


@st.composite
def rule_sets(draw: st.DrawFn) -> CallingRules:
    start = draw(st.integers(6 * 60, 21 * 60))
    end = draw(st.integers(start + 1, 22 * 60))
    as_time = lambda m: time(m // 60, m % 60) if m < 24 * 60 else time(23, 59)  # noqa: E731
    return CallingRules(window_start=as_time(start), window_end=as_time(end) if end < 22 * 60 else time(22, 0),
                        timezone=draw(st.sampled_from(ZONES)), silence_hours=draw(st.sampled_from([0, 24, 48, 72])))


@settings(max_examples=400, deadline=None)
@given(now=clocks, rules=rule_sets(), closes=calendars, ac=st.one_of(st.none(), st.integers(1, 300)),
       opted_out=st.booleans(), on_dnd=st.booleans(), ban_zone=st.sampled_from(ZONES))
def test_no_attempt_in_silence_ban_or_to_opted_out(now: datetime, rules: CallingRules, closes: dict[int, datetime],
                                                   ac: int | None, opted_out: bool, on_dnd: bool,
                                                   ban_zone: str) -> None:
    calendar = PollCalendar(closes)
    verdict = check_person(Person("+919826012345", ac, opted_out, on_dnd), now, rules, calendar, ban_zone)
    if not verdict.allowed:
        return
    assert not opted_out and not on_dnd
    assert not in_ban(now, ban_zone)
    local = now.astimezone(ZoneInfo(rules.timezone)).time()
    assert time(6, 0) <= local < time(22, 0)
    close = closes.get(ac) if ac in closes else (min(closes.values()) if closes else None)
    if close is not None:
        assert not close - timedelta(hours=rules.silence_hours) <= now < close


@settings(max_examples=200, deadline=None)
@given(now=clocks, closes=calendars.filter(bool))
def test_a_person_without_an_ac_follows_the_earliest_poll(now: datetime, closes: dict[int, datetime]) -> None:
    earliest = min(closes.values())
    rules = CallingRules(window_start=time(6), window_end=time(22), timezone="UTC")
    inside = earliest - timedelta(hours=1)
    verdict = check_person(Person("+919826012345", None), inside, rules, PollCalendar(closes), "UTC")
    assert not verdict.allowed and verdict.rule in {"silence", "ban", "window"}


def test_reasons_in_order_and_mcmc() -> None:
    rules = CallingRules(timezone="Asia/Kolkata")
    noon = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 12:00 IST
    cal = PollCalendar({152: noon + timedelta(hours=10), 153: noon + timedelta(days=10)})
    assert check_person(Person("+919826012345", 153, opted_out=True, on_dnd=True), noon, rules, cal).rule == "opted_out"
    assert check_person(Person("+919826012345", 153, on_dnd=True), noon, rules, cal).rule == "dnd"
    assert check_person(Person("+919826012345", 152), noon, rules, cal).rule == "silence"
    assert check_person(Person("+919826012345", None), noon, rules, cal).rule == "silence"  # the earliest poll
    assert check_person(Person("+919826012345", 153), noon, rules, cal).allowed
    night = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # 22:30 IST
    verdict = check_person(Person("+919826012345", 153), night, CallingRules(timezone="UTC", window_end=time(22)),
                           cal)
    assert verdict.rule == "ban" and verdict.retry_at == datetime(2026, 11, 3, 0, 30, tzinfo=UTC)
    assert not may_start(None).allowed and may_start(" ").rule == "mcmc" and may_start("MCMC/BPL/2026/114").allowed
