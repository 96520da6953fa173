"""Poll day, pure parts: the plan and its rounds (time zones, the hard ban), the round scheduler (late
rounds, superseded rounds, a round whose calls cannot finish before the next), the agents called, the
plausibility checks and the calling rules' poll-day exemption; with properties over clock and zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.rules import HARD_EARLIEST, HARD_LATEST, CallingRules, Facts, PollDayCall, check
from pollday.agents import Member, contacts, is_agent
from pollday.checks import Pattern, Reported, check_report, turnout
from pollday.errors import PlanInvalid
from pollday.plan import PollDayPlan
from pollday.rounds import BoothToCall, call_order, estimate, round_now, silent_booths

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2026, 11, 20)
ZONES = st.sampled_from(["Asia/Kolkata", "UTC", "America/New_York", "Asia/Kathmandu", "Australia/Adelaide",
                         "Pacific/Chatham", "Europe/London"])


def plan(**kw: object) -> PollDayPlan:
    return PollDayPlan(ac_id=1, poll_date=kw.pop("poll_date", DAY), **kw)  # type: ignore[arg-type]


def at(h: int, m: int = 0, tz: ZoneInfo = IST) -> datetime:
    return datetime(2026, 11, 20, h, m, tzinfo=tz)


# -- the plan -------------------------------------------------------------------------------------
def test_default_plan_has_five_rounds_and_the_close() -> None:
    rounds = plan().rounds()
    assert [r.label for r in rounds] == ["09:00", "11:00", "13:00", "15:00", "17:00", "close"]
    assert rounds[0].at == at(9) and rounds[0].calls_from == at(9, 2) and rounds[0].until == at(11)
    assert rounds[-1].at == at(18) and rounds[-1].until == at(22)


def test_a_report_time_at_the_close_is_the_close_round() -> None:
    rounds = plan(report_times=(time(9), time(18))).rounds()
    assert [r.label for r in rounds] == ["09:00", "close"]


@pytest.mark.parametrize("kw, field, words", [
    ({"report_times": (time(11), time(9))}, "report_times", "in order"),
    ({"report_times": (time(6, 30),)}, "report_times", "outside the hours of poll"),
    ({"opens": time(5), "report_times": (time(5, 30),)}, "report_times", "22:00-06:00"),
    ({"closes": time(22), "report_times": (time(9),)}, "report_times", "22:00-06:00"),
    ({"opens": time(18), "closes": time(7)}, "closes", "opens (18:00) after it closes"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone 'Mars/Olympus'"),
    ({"posts": ()}, "posts", "at least one committee post"),
    ({"report_times": (), "close_round": False}, "report_times", "nothing to ask"),
])
def test_bad_plans_name_the_setting(kw: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(PlanInvalid) as exc:
        plan(**kw)
    assert exc.value.field == field and words in str(exc.value)


@settings(max_examples=200, deadline=None)
@given(tz=ZONES, day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
       hours=st.sets(st.integers(8, 17), min_size=1, max_size=6))
def test_rounds_are_ordered_local_and_never_in_the_ban(tz: str, day: date, hours: set[int]) -> None:
    p = PollDayPlan(ac_id=1, poll_date=day, timezone=tz, report_times=tuple(time(h) for h in sorted(hours)))
    rounds = p.rounds()
    for a, b in zip(rounds, rounds[1:], strict=False):
        assert a.until == b.at and a.at < b.at
    for r in rounds:
        local = r.calls_from.astimezone(ZoneInfo(tz))
        assert local.date() == day and HARD_EARLIEST <= local.time() < HARD_LATEST
        assert r.calls_from < r.until
    assert rounds[-1].label == "close"


# -- the scheduler --------------------------------------------------------------------------------
def test_round_now_on_time_late_superseded_and_over() -> None:
    p = plan()
    assert round_now(p, at(8)).round is None and not round_now(p, at(8)).over
    on_time = round_now(p, at(9, 3))
    assert on_time.round is not None and on_time.round.number == 1 and not on_time.late
    late = round_now(p, at(10, 30))  # the service came up at 10:30: round 1 still runs, late
    assert late.round is not None and late.round.number == 1 and late.late
    skipped = round_now(p, at(13, 30), started=[1])  # round 2 never ran: superseded by round 3
    assert skipped.round is not None and skipped.round.number == 3 and skipped.superseded == (2,)
    assert round_now(p, at(23)).over and round_now(p, at(23)).round is None
    with pytest.raises(ValueError):
        round_now(p, datetime(2026, 11, 20, 9))


def test_round_now_in_another_zone() -> None:
    ny = ZoneInfo("America/New_York")
    p = plan(timezone="America/New_York", poll_date=date(2026, 11, 3))
    now = datetime(2026, 11, 3, 14, 10, tzinfo=UTC)  # 09:10 in New York
    found = round_now(p, now)
    assert found.round is not None and found.round.at == datetime(2026, 11, 3, 9, tzinfo=ny)


@settings(max_examples=200, deadline=None)
@given(minutes=st.integers(0, 24 * 60 - 1), tz=ZONES)
def test_round_now_only_inside_a_rounds_window(minutes: int, tz: str) -> None:
    p = PollDayPlan(ac_id=1, poll_date=DAY, timezone=tz)
    now = datetime.combine(DAY, time(0), tzinfo=ZoneInfo(tz)) + timedelta(minutes=minutes)
    found = round_now(p, now)
    if found.round is not None:
        assert found.round.calls_from <= now < found.round.until
        assert HARD_EARLIEST <= now.astimezone(ZoneInfo(tz)).time() < HARD_LATEST
    else:
        assert all(not r.calls_from <= now < r.until for r in p.rounds())


def test_call_order_puts_weak_then_swing_then_strong_silent_first() -> None:
    booths = [BoothToCall(1, "strong", 1), BoothToCall(2, "weak", 9), BoothToCall(3, "swing", 3),
              BoothToCall(4, "weak", 2), BoothToCall(5, None, 4), BoothToCall(6, "weak", 20, silent_last_round=True)]
    assert [b.booth_id for b in call_order(booths)] == [6, 4, 2, 3, 1, 5]


def test_a_round_that_cannot_finish_says_how_many_lines_it_needs() -> None:
    first = plan().rounds()[0]  # 09:02-11:00: 118 minutes
    fits = estimate(first, booths=300, lines=10, call_seconds=60, tries=1.0)
    assert fits.fits and fits.not_called == 0 and fits.finishes_at == at(9, 32)
    short = estimate(first, booths=5000, lines=60, call_seconds=90, tries=1.3)
    assert not short.fits and short.lines_needed == 84 and short.not_called == 5000 - 60 * 60  # 83 ends at 11:00:30
    assert short.finishes_at > first.until
    late = estimate(first, booths=300, lines=10, call_seconds=60, start=at(10, 50), tries=1.0)
    assert not late.fits and late.not_called == 300 - 10 * 10


@settings(max_examples=200, deadline=None)
@given(booths=st.integers(0, 6000), lines=st.integers(1, 200), secs=st.floats(10, 300))
def test_estimate_fits_exactly_when_nobody_is_left_out(booths: int, lines: int, secs: float) -> None:
    r = plan().rounds()[2]
    e = estimate(r, booths, lines, secs, tries=1.0)
    assert e.fits == (e.not_called == 0)
    if not e.fits:
        assert e.lines_needed > lines
        assert estimate(r, booths, e.lines_needed, secs, tries=1.0).fits  # and that many lines are enough


def test_silent_booths_two_rounds() -> None:
    reported = {1: [1, 2, 3], 2: [1], 3: [], 4: [2]}
    silent = silent_booths([1, 2, 3, 4], reported, closed=[1, 2, 3])
    assert [(s.booth_id, s.last_round) for s in silent] == [(2, 1), (3, None)]
    assert silent_booths([1, 2], reported, closed=[1]) == []  # one closed round: not yet two


# -- agents ---------------------------------------------------------------------------------------
def test_contacts_follow_the_posts_then_the_alternate_phones() -> None:
    members = [Member(1, "President", "+911", "+915"), Member(2, "BLA 2", "+912", "+916"),
               Member(3, "Treasurer", "+913"), Member(4, "bla-2", "+914", phone_ok=False, alt_phone="+917"),
               Member(5, "president", "+918", dnd=True)]
    got = [(c.person_id, c.phone, c.alternate) for c in contacts(members, ["BLA-2", "president"])]
    assert got == [(2, "+912", False), (1, "+911", False), (2, "+916", True), (4, "+917", True), (1, "+915", True)]
    assert [c.phone for c in contacts(members, ["BLA-2"], use_alternate=False)] == ["+912"]
    assert is_agent("Bla-2", ["BLA-2"]) and not is_agent("treasurer", ["BLA-2"]) and not is_agent(None, ["x"])


# -- plausibility ---------------------------------------------------------------------------------
def test_checks_flag_falling_above_voters_and_ours() -> None:
    earlier = [Reported(1, 1, 300), Reported(1, 2, 420)]
    flags = check_report(Reported(1, 3, 412, ours=500), voters=400, earlier=earlier)
    assert [f.kind for f in flags] == ["falling", "above_voters", "ours_above_votes"]
    assert "fewer than the 420 reported in round 2" in flags[0].message
    assert check_report(Reported(1, 3, 430, ours=200), voters=1000, earlier=earlier) == []


def test_off_pattern_needs_enough_booths() -> None:
    others = [30.0, 32.0, 28.0, 35.0, 31.0]
    flags = check_report(Reported(1, 2, 700), voters=1000, others_turnout=others)
    assert [f.kind for f in flags] == ["off_pattern"] and "70% against the AC's 31%" in flags[0].message
    assert check_report(Reported(1, 2, 700), voters=1000, others_turnout=others[:4]) == []
    assert check_report(Reported(1, 2, 450), voters=1000, others_turnout=others) == []
    assert check_report(Reported(1, 2, 450), voters=1000, others_turnout=others,
                        pattern=Pattern(tolerance_points=5)) != []
    assert turnout(412, 1000) == 41.2 and turnout(5, None) is None


@settings(max_examples=300, deadline=None)
@given(votes=st.lists(st.integers(0, 3000), min_size=1, max_size=6), voters=st.integers(1, 3000))
def test_a_sound_report_is_never_flagged_and_a_falling_one_always(votes: list[int], voters: int) -> None:
    reports = [Reported(1, i + 1, v) for i, v in enumerate(votes)]
    for i, r in enumerate(reports):
        kinds = {f.kind for f in check_report(r, voters=voters, earlier=reports[:i])}
        assert ("falling" in kinds) == (i > 0 and r.votes < max(e.votes for e in reports[:i]))
        assert ("above_voters" in kinds) == (r.votes > voters)
        assert "off_pattern" not in kinds


# -- the calling rules ----------------------------------------------------------------------------
POLL_END = at(18)
IN_SILENCE = at(9, 5)
AGENT = PollDayCall(booth_agent=True, plan_script=True)


def test_silence_lets_only_a_plans_own_agents_and_scripts_through() -> None:
    rules = CallingRules()
    assert not check(Facts(poll_end_at=POLL_END), IN_SILENCE, rules).allowed
    assert check(Facts(poll_end_at=POLL_END, poll_day=AGENT), IN_SILENCE, rules).allowed
    other = check(Facts(poll_end_at=POLL_END, poll_day=PollDayCall(False, True)), IN_SILENCE, rules)
    assert other.rule == "silence" and "only its own booth agents" in other.reason
    script = check(Facts(poll_end_at=POLL_END, poll_day=PollDayCall(True, False)), IN_SILENCE, rules)
    assert script.rule == "silence" and "only its own scripts" in script.reason


def test_poll_day_calls_keep_the_hard_ban_but_not_the_window_or_cap() -> None:
    rules = CallingRules()  # window 09:00-21:00
    early = at(7, 30)
    assert check(Facts(poll_end_at=POLL_END, poll_day=AGENT), early, rules).allowed
    night = check(Facts(poll_day=AGENT), at(22, 30), rules)
    assert night.rule == "window" and night.retry_at == datetime(2026, 11, 21, 6, tzinfo=IST)
    assert check(Facts(poll_day=AGENT, attempts_today=9), at(12), rules).allowed
    assert check(Facts(poll_day=AGENT, dnd=True), at(12), rules).rule == "dnd"


@settings(max_examples=300, deadline=None)
@given(now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
       tz=ZONES, agent=st.booleans(), script=st.booleans(), poll_offset=st.floats(-10, 60))
def test_no_call_in_the_ban_and_only_exempt_calls_in_silence(now: datetime, tz: str, agent: bool, script: bool,
                                                             poll_offset: float) -> None:
    rules = CallingRules(timezone=tz)
    poll_end = now + timedelta(hours=poll_offset)
    verdict = check(Facts(poll_end_at=poll_end, poll_day=PollDayCall(agent, script)), now, rules)
    local = now.astimezone(ZoneInfo(tz)).time()
    if not HARD_EARLIEST <= local < HARD_LATEST:
        assert not verdict.allowed
    if poll_end - timedelta(hours=48) <= now < poll_end and not (agent and script):
        assert verdict.rule == "silence"
