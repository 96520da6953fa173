"""Counting day, pure parts: the counting plan and its rounds (the same scheduler as poll day), the table a
counting agent reports for, the result sheet (sums per round and cumulative, the leader and margin, the
tables not reported) and the checks on a table's return; with properties over random returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollday.checks import check_count
from pollday.counting import CountingPlan, Party, TableReturn, booth_of, lead, result_sheet, table_of
from pollday.errors import PlanInvalid
from pollday.rounds import round_now

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2026, 11, 23)
PARTIES = (Party("BJP", "Suresh Sharma"), Party("INC"), Party("BSP"))


def plan(**kw: object) -> CountingPlan:
    """A valid plan with ``kw`` changed (``replace`` checks the changed plan as the constructor does)."""
    return replace(CountingPlan(ac_id=1, counting_date=DAY, round_count=4, tables=3, parties=PARTIES), **kw)


def at(h: int, m: int = 0) -> datetime:
    return datetime(2026, 11, 23, h, m, tzinfo=IST)


# -- the plan ---------------------------------------------------------------------------------------
def test_rounds_come_every_round_minutes_after_counting_begins() -> None:
    rounds = plan().rounds()
    assert [r.label for r in rounds] == ["08:30", "09:00", "09:30", "10:00"]
    assert rounds[0].at == at(8, 30) and rounds[0].calls_from == at(8, 32) and rounds[0].until == at(9)
    assert rounds[-1].until == at(22)
    # the poll-day scheduler runs them: round 2 at 09:05, round 3 late at 09:45 with round 2 let go
    p = plan()
    assert round_now(p, at(8, 31)).round is None
    assert round_now(p, at(9, 5)).round == rounds[1]
    late = round_now(p, at(9, 45), started=[1])
    assert late.round == rounds[2] and late.late and late.superseded == (2,)


@pytest.mark.parametrize("kw, field, words", [
    ({"round_count": 0}, "rounds", "between 1 and 60"),
    ({"tables": 51}, "tables", "between 1 and 50"),
    ({"parties": ()}, "parties", "name 1 to 10"),
    ({"parties": tuple(Party(f"P{i}") for i in range(11))}, "parties", "name 1 to 10"),
    ({"parties": (Party("BJP"), Party("bjp"))}, "parties", "named twice"),
    ({"round_minutes": 2}, "round_minutes", "between 5 and 240"),
    ({"posts": ()}, "posts", "at least one committee post"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"starts": time(5), "round_minutes": 30}, "rounds", "22:00-06:00"),
    ({"round_count": 30, "starts": time(8), "round_minutes": 30}, "rounds", "22:00-06:00"),
])
def test_bad_counting_plans_name_the_setting(kw: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(PlanInvalid) as exc:
        plan(**kw)
    assert exc.value.field == field and words in exc.value.message


def test_party_steps_and_fields_follow_the_sheet_order() -> None:
    p = plan()
    assert [p.party_of_step(s) for s in ("p1", "p3")] == [PARTIES[0], PARTIES[2]]
    assert p.party_of_step("p4") is None and p.party_of_step("votes") is None and p.party_of_step("p") is None
    assert p.fields(2) == {"parties": "3", "round": "2", "party1": "Suresh Sharma (BJP)", "party2": "INC",
                           "party3": "BSP"}


def test_a_counting_agent_s_post_names_the_table() -> None:
    posts = ("counting agent", "CA alternate")
    assert table_of("Counting Agent 3", posts) == (0, 3)
    assert table_of("counting-agent-07", posts) == (0, 7)
    assert table_of("CA Alternate 12", posts) == (1, 12)
    for post in ("counting agent", "counting agent 0", "counting agent x", "president", None, "counting agent ३"):
        assert table_of(post, posts) is None, post


def test_booths_are_counted_serially_by_round() -> None:
    assert [booth_of(1, t, 14) for t in (1, 14)] == [1, 14]
    assert booth_of(2, 1, 14) == 15 and booth_of(3, 5, 14) == 33


# -- the sheet ---------------------------------------------------------------------------------------
KEYS = ("BJP", "INC", "BSP")


def test_the_sheet_sums_per_round_and_cumulative_with_the_leader_and_missing_tables() -> None:
    returns = [TableReturn(1, 1, {"BJP": 300, "INC": 250, "BSP": 20}),
               TableReturn(1, 2, {"BJP": 100, "INC": 280, "BSP": 30}),
               TableReturn(2, 1, {"BJP": 310, "INC": 200}),          # BSP not in yet: partial
               TableReturn(2, 3, {"BJP": 90, "INC": 95, "BSP": 5}),
               TableReturn(2, 9, {"BJP": 999}),                        # no such table: not summed
               TableReturn(1, 3, {"AAP": 40})]                         # no such party: not summed
    sheet = result_sheet(KEYS, 3, 3, returns)
    one, two, three = sheet.rows
    assert (one.votes, one.total, one.leader, one.margin) == ((400, 530, 50), 980, "INC", 130)
    assert (one.reported, one.partial, one.missing) == ((1, 2), (), (3,))
    assert two.votes == (400, 295, 5) and two.round_leader == "BJP" and two.round_margin == 105
    assert two.cumulative == (800, 825, 55) and (two.leader, two.margin) == ("INC", 25)
    assert (two.reported, two.partial, two.missing) == ((3,), (1,), (2,))
    assert three.votes == (0, 0, 0) and three.cumulative == two.cumulative and three.missing == (1, 2, 3)
    assert (sheet.totals, sheet.total, sheet.leader, sheet.margin) == ((800, 825, 55), 1680, "INC", 25)


def test_a_tie_has_no_leader_and_an_empty_sheet_none() -> None:
    assert lead(KEYS, (5, 5, 1)) == (None, 0)
    assert lead(KEYS, (0, 0, 0)) == (None, 0)
    assert lead(("A",), (7,)) == ("A", 7)
    sheet = result_sheet(KEYS, 2, 2, [])
    assert sheet.leader is None and sheet.total == 0 and all(r.missing == (1, 2) for r in sheet.rows)


returns_st = st.lists(st.builds(TableReturn, st.integers(1, 4), st.integers(1, 5),
                                st.dictionaries(st.sampled_from(KEYS), st.integers(0, 1500), min_size=1)),
                      max_size=40)


@settings(max_examples=200, deadline=None)
@given(returns_st)
def test_the_sheet_adds_up(returns: list[TableReturn]) -> None:
    latest = {(r.round, r.table): r for r in returns}  # one return per table and round, as stored
    sheet = result_sheet(KEYS, 5, 4, latest.values())
    running = [0, 0, 0]
    for row in sheet.rows:
        mine = [r for r in latest.values() if r.round == row.round]
        assert row.votes == tuple(sum(r.votes.get(k, 0) for r in mine) for k in KEYS)
        assert row.total == sum(row.votes)
        running = [a + b for a, b in zip(running, row.votes, strict=True)]
        assert row.cumulative == tuple(running) and row.cumulative_total == sum(running)
        assert sorted(row.reported + row.partial + row.missing) == [1, 2, 3, 4, 5]
        assert set(row.reported) == {r.table for r in mine if set(r.votes) == set(KEYS)}
        assert row.margin >= 0 and (row.leader is None) == (row.margin == 0)
        if row.leader is not None:
            assert row.cumulative[KEYS.index(row.leader)] == max(row.cumulative)
    assert sheet.totals == tuple(running) and sheet.total == sum(running)


# -- the checks ------------------------------------------------------------------------------------
def test_checks_flag_negative_absurd_above_electors_and_unknown_tables() -> None:
    kinds = lambda votes, **kw: [f.kind for f in check_count(votes, **{  # noqa: E731
        "table": 1, "tables": 14, "electors": 900, "max_votes": 2000, **kw})]
    assert kinds({"BJP": 400, "INC": 350}) == []
    assert kinds({"BJP": -4, "INC": 350}) == ["negative"]
    assert kinds({"BJP": 600, "INC": 350}) == ["above_electors"]
    assert kinds({"BJP": 40000, "INC": 1}) == ["absurd", "above_electors"]
    assert kinds({"BJP": 1500, "INC": 1500}, electors=None) == ["absurd"]
    assert kinds({"BJP": 1}, table=15) == ["unknown_table"]
    [flag] = check_count({"BJP": 600, "INC": 350}, table=3, tables=14, electors=900, max_votes=2000, booth=17)
    assert flag.message == "950 votes, more than the 900 electors of booth 17"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), st.integers(-3000, 30000), min_size=1), st.integers(1, 2000))
def test_a_sound_return_is_never_flagged_and_an_impossible_one_always(votes: dict[str, int], electors: int) -> None:
    flags = {f.kind for f in check_count(votes, table=1, tables=14, electors=electors, max_votes=2000)}
    total = sum(votes.values())
    sound = all(n >= 0 for n in votes.values()) and total <= electors
    assert (not flags) == sound
    assert ("negative" in flags) == any(n < 0 for n in votes.values())
    assert ("above_electors" in flags) == (total > electors)
