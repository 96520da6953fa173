"""Hotline key 3 (an agent reports a round themselves) is protected as key 2 (the booth's instructions) is:
the member's PIN first (caller ID can be spoofed). Without a PIN, or with a wrong one, no figure is taken
and the caller is offered the war room; with it, poll day's turnout, or on counting day the table's votes
per party. The database side takes no figures from a hotline call whose caller did not give the PIN, nor
from a caller who is not one of the plan's agents."""

from __future__ import annotations

from typing import Any

from ivr_scripts.actions import Action, CheckPin, JoinQueue, Play, SaveAnswer
from tests.unit.test_ivr_engine import INSTRUCTION, drive, engine

NO_COUNT = {"name": None, "round": "", "parties": "0", **{f"party{i}": "" for i in range(1, 11)}}
COUNTING = {**NO_COUNT, "round": "2", "parties": "2", "party1": "Suresh Sharma (BJP)", "party2": "INC"}


def caller(has_pin: bool, verified: bool = False) -> dict[str, Any]:
    return {"phone_last4": "1234", "known": True, "has_pin": has_pin, "verified": verified}


def numbers(actions: list[Action]) -> list[tuple[str, int | None]]:
    return [(a.step, a.number) for a in actions if isinstance(a, SaveAnswer) and a.number is not None]


def spoken(actions: list[Action]) -> list[str]:
    return [a.prompt.key for a in actions if isinstance(a, Play)]


def test_without_a_pin_no_figure_is_taken_and_the_war_room_is_offered() -> None:
    e = engine("hotline", "en", caller=caller(False), campaign=NO_COUNT)
    actions = drive(e, "3250#10")
    assert numbers(actions) == [] and "hotline/no_pin_report/text" in spoken(actions)
    assert not any(isinstance(a, CheckPin) for a in actions)
    assert isinstance(actions[-1], JoinQueue)


def test_a_wrong_pin_takes_no_figure() -> None:
    e = engine("hotline", "en", caller=caller(True), campaign=NO_COUNT)
    actions = drive(e, "31111#2222#3333#0")
    assert numbers(actions) == [] and "hotline/report_pin_failed/text" in spoken(actions)
    assert "hotline/votes/text" not in spoken(actions)
    assert isinstance(actions[-1], JoinQueue)


def test_the_pin_then_poll_days_turnout() -> None:
    e = engine("hotline", "en", caller=caller(True), campaign=NO_COUNT)
    actions = drive(e, "34719#250#1")
    assert [a.digits for a in actions if isinstance(a, CheckPin)] == ["4719"]
    assert numbers(actions)[0] == ("votes", 250)
    assert spoken(actions).index("hotline/report_pin/text") < spoken(actions).index("hotline/votes/text")


def test_a_caller_who_gave_the_pin_for_the_instructions_is_not_asked_again() -> None:
    e = engine("hotline", "en", caller=caller(True), campaign=NO_COUNT)
    actions = drive(e, "24719#3250#1")
    assert any(INSTRUCTION in a.prompt.text for a in actions if isinstance(a, Play))
    assert len([a for a in actions if isinstance(a, CheckPin)]) == 1
    assert numbers(actions)[0] == ("votes", 250)


def test_on_counting_day_the_pin_then_the_tables_votes_per_party() -> None:
    e = engine("hotline", "en", caller=caller(True), campaign=COUNTING)
    actions = drive(e, "34719#300#1250#1")
    assert numbers(actions) == [("p1", 300), ("p2", 250)]
    texts = [a.prompt.text for a in actions if isinstance(a, Play)]
    assert "Votes for Suresh Sharma (BJP)? Type the number, then press hash." in texts
    assert spoken(actions)[-1] == "hotline/counted/text" and e.hangup() == "completed"
    # and without the PIN, nothing of it
    e = engine("hotline", "en", caller=caller(False), campaign=COUNTING)
    assert numbers(drive(e, "3300#10")) == []
