"""The ``number`` step: digits ended by # or a pause, min/max, the read-back and its confirmation,
retries; what ``warroom ivr validate`` says about it; and properties over any keys typed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_scripts.actions import Action, HangUp, Play, SaveAnswer, StopPlay, WaitForKey
from ivr_scripts.context import sample_context
from ivr_scripts.engine import Engine
from ivr_scripts.loader import parse_script
from ivr_scripts.model import Number
from ivr_scripts.problems import ScriptInvalid

SCRIPT = """
name: count
languages: [en]
steps:
  - id: votes
    number: {en: "How many votes? Then hash."}
    min: 0
    max: 900
    retries: 2
    confirm: {en: "You entered {{ entered }}. Press 1 to confirm, 2 to re-enter."}
    invalid: {en: "That is not possible."}
    on_fail: sorry
  - id: done
    end: {en: "Thanks, {{ answers.votes }} noted."}
  - id: sorry
    end: {en: "Sorry."}
"""


def engine() -> Engine:
    return Engine(parse_script(SCRIPT), "en", sample_context("en"))


def said(actions: list[Action]) -> list[str]:
    return [a.prompt.text for a in actions if isinstance(a, Play)]


def saved(actions: list[Action]) -> list[tuple[int | None, bool]]:
    return [(a.number, a.valid) for a in actions if isinstance(a, SaveAnswer)]


def keys(e: Engine, typed: str) -> list[Action]:
    out: list[Action] = []
    for k in typed:
        out += e.digit(k)
    return out


def test_digits_hash_read_back_and_confirm_store_an_integer() -> None:
    e = engine()
    assert said(e.start()) == ["How many votes? Then hash."]
    out = keys(e, "412#")
    assert out[0] == StopPlay() and out[1] == WaitForKey(6.0)
    assert said(out) == ["You entered 412. Press 1 to confirm, 2 to re-enter."]
    assert not saved(out)
    out = keys(e, "1")
    assert saved(out) == [(412, True)]
    assert said(out) == ["Thanks, 412 noted."] and e.answers["votes"] == 412
    out += e.played()
    assert isinstance(out[-1], HangUp) and e.hangup() == "completed"


def test_a_pause_after_digits_ends_the_number_as_hash_does() -> None:
    e = engine()
    e.start()
    keys(e, "37")
    assert said(e.timeout()) == ["You entered 37. Press 1 to confirm, 2 to re-enter."]


def test_two_re_enters_and_star_starts_again() -> None:
    e = engine()
    e.start()
    keys(e, "412#")
    out = keys(e, "2")
    assert said(out) == ["How many votes? Then hash."] and not saved(out)
    out = keys(e, "41*398#")
    assert said(out)[-1].startswith("You entered 398.")
    assert saved(keys(e, "1")) == [(398, True)]


def test_out_of_range_is_flagged_and_asked_again_then_on_fail() -> None:
    e = engine()
    e.start()
    out = keys(e, "901#")
    assert saved(out) == [(901, False)] and said(out) == ["That is not possible."]
    e.played()
    keys(e, "99999999999999#")  # far too many digits: kept short, still refused
    e.played()
    out = keys(e, "1000#")
    assert saved(out) == [(1000, False)] and said(out) == ["Sorry."]


def test_no_confirmation_reads_back_again_and_wrong_key_counts_as_a_try() -> None:
    e = engine()
    e.start()
    keys(e, "5#")
    assert e.timeout() == []  # the read-back is still playing
    e.played()
    assert said(e.timeout()) == ["You entered 5. Press 1 to confirm, 2 to re-enter."]
    e.played()
    assert said(keys(e, "7")) == ["You entered 5. Press 1 to confirm, 2 to re-enter."]
    e.played()
    assert said(e.timeout()) == ["Sorry."]  # three tries (retries 2) used up


def test_hash_alone_or_silence_is_no_number() -> None:
    e = engine()
    e.start()
    e.played()
    assert said(keys(e, "#")) == ["How many votes? Then hash."]
    e.played()
    assert said(e.timeout()) == ["How many votes? Then hash."]
    e.played()
    assert said(e.timeout()) == ["Sorry."]


def test_typeahead_during_a_greeting_begins_the_number() -> None:
    text = SCRIPT.replace("steps:\n", "steps:\n  - id: hello\n    say: {en: Hello}\n")
    e = Engine(parse_script(text), "en", sample_context("en"))
    assert said(e.start()) == ["Hello"]
    keys(e, "12#")
    out = e.played()
    assert said(out) == ["You entered 12. Press 1 to confirm, 2 to re-enter."]


def test_preview_of_the_read_back_uses_a_sample_number() -> None:
    e = engine()
    step = e.script.step("votes")
    assert e.prompt(step, "confirm").text.startswith("You entered 412.")


@pytest.mark.parametrize("change, message", [
    ("    confirm: {en: \"You entered {{ entered }}. Press 1 to confirm, 2 to re-enter.\"}\n", "needs 'confirm'"),
    ("    min: 0\n", None),
    ("    max: 900\n", None),
])
def test_validate_needs_a_read_back(change: str, message: str | None) -> None:
    text = SCRIPT.replace(change, "")
    if message is None:
        parse_script(text)
        return
    with pytest.raises(ScriptInvalid) as exc:
        parse_script(text)
    assert message in str(exc.value) and "<script>:6:" in str(exc.value)


@pytest.mark.parametrize("change, message", [
    (("min: 0", "min: 950"), "min 950 is above max 900"),
    (("max: 900", "max: -3"), "max: Input should be greater than or equal to 0"),
    (("Thanks, {{ answers.votes }}", "Thanks, {{ entered }}"), "'entered' (the number typed) is only known"),
    (("retries: 2", "retries: 9"), "retries: Input should be less than or equal to 5"),
])
def test_validate_names_the_problem_and_line(change: tuple[str, str], message: str) -> None:
    text = SCRIPT.replace(*change)
    if not message:
        return
    with pytest.raises(ScriptInvalid) as exc:
        parse_script(text)
    assert message in str(exc.value), str(exc.value)


EVENTS = st.lists(st.one_of(st.sampled_from(["played", "timeout"]), st.sampled_from(list("0123456789*#"))),
                  max_size=80)


@settings(max_examples=400, deadline=None)
@given(events=EVENTS)
def test_any_keys_end_in_an_in_range_confirmed_number_or_none(events: list[str]) -> None:
    e = engine()
    step = e.script.step("votes")
    assert isinstance(step, Number)
    actions = list(e.start())
    for ev in events:
        actions += e.played() if ev == "played" else e.timeout() if ev == "timeout" else e.digit(ev)
    stored = [a for a in actions if isinstance(a, SaveAnswer)]
    good = [a for a in stored if a.valid]
    assert len(good) <= 1
    for a in stored:
        assert a.number is not None and a.valid == (step.min <= a.number <= step.max)
        assert a.number < 10 ** (step.max_digits + 1)
    if good:  # a confirmed number is the answer the later steps see, as an integer
        assert e.answers["votes"] == good[0].number
    else:
        assert "votes" not in e.answers
    # never more tries than allowed: at most retries + 1 refusals
    assert len(stored) - len(good) <= step.retries + 1
    e.hangup()
    assert e.done


def test_parse_reads_the_kind(tmp_path: Any) -> None:
    step = parse_script(SCRIPT).step("votes")
    assert isinstance(step, Number) and step.kind == "number" and step.max_digits == 3
