"""The IVR engine as a pure state machine: flows through the built-in scripts, retries, type-ahead,
barge-in, partial results; and properties over any order of call events."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_scripts.actions import (
    Action,
    CheckPin,
    HangUp,
    JoinQueue,
    OpenTicket,
    OptOutMember,
    Play,
    SaveAnswer,
    StartRecording,
    StopPlay,
    WaitForKey,
)
from ivr_scripts.context import sample_context
from ivr_scripts.engine import Engine
from ivr_scripts.library import ScriptLibrary
from ivr_scripts.model import Ask, Number

LIB = ScriptLibrary()
INSTRUCTION = "Bring the voter slips by 8 am"


def engine(name: str, lang: str = "hi", **ctx: Any) -> Engine:
    context = sample_context(lang)
    context.update(ctx)
    return Engine(LIB.get(name), lang, context)


def drive(e: Engine, keys: str, *, record_ok: bool = True) -> list[Action]:
    """Run a call where every prompt plays to its end and ``keys`` are pressed one per question."""
    out: list[Action] = []
    pending = list(e.start())
    todo = list(keys)
    for _ in range(200):
        if not pending:
            break
        action = pending.pop(0)
        out.append(action)
        if isinstance(action, Play):
            pending += e.played()
        elif isinstance(action, WaitForKey):
            pending += e.digit(todo.pop(0)) if todo else e.timeout()
        elif isinstance(action, StartRecording):
            pending += e.recorded() if record_ok else []
        elif isinstance(action, OpenTicket):
            pending += e.ticket_opened(17, action.category)
        elif isinstance(action, CheckPin):  # the member's PIN is 4719; a right one lets them hear the instructions
            right = action.digits == "4719"
            pending += e.pin_checked(right, "" if right else "wrong", {"instructions": INSTRUCTION} if right else None)
    return out


def answers(actions: list[Action]) -> list[tuple[str, str, bool]]:
    return [(a.step, a.key, a.valid) for a in actions if isinstance(a, SaveAnswer)]


def test_strong_survey_completes_with_its_answers() -> None:
    e = engine("strong")
    actions = drive(e, "11")
    assert answers(actions) == [("ready", "1", True), ("turnout", "1", True)]
    assert isinstance(actions[-1], HangUp) and e.hangup() == "completed"
    said = [a.prompt.text for a in actions if isinstance(a, Play)]
    assert said[0].startswith("नमस्ते रमेश कुमार जी") and said[-1].startswith("धन्यवाद")


def test_weak_survey_asks_then_records_in_english() -> None:
    e = engine("weak", "en")
    actions = drive(e, "2")
    recs = [a for a in actions if isinstance(a, StartRecording)]
    assert answers(actions) == [("lacks", "2", True)]
    assert recs == [StartRecording("message", 60, 3, True)]
    assert [a.prompt.language for a in actions if isinstance(a, Play)] == ["en"] * 4
    assert e.hangup() == "completed"


def test_swing_offers_an_operator_and_transfers() -> None:
    e = engine("swing")
    actions = drive(e, "121")
    assert answers(actions) == [("ready", "1", True), ("lacks", "2", True), ("offer", "1", True)]
    assert isinstance(actions[-1], JoinQueue) and "Swing booth 45" in actions[-1].note
    assert e.phase == "queued" and e.hangup() == "transferred"


def test_invalid_key_and_no_input_follow_retries_then_on_fail() -> None:
    e = engine("strong", "en")
    actions = drive(e, "7")  # invalid, then nothing: no input twice -> retries (2) exhausted -> on_fail
    assert answers(actions) == [("ready", "7", False)]
    said = [a.prompt.key for a in actions if isinstance(a, Play)]
    assert said == ["strong/greet/text", "strong/ready/text", "strong/ready/invalid", "strong/ready/text",
                    "strong/ready/no_input", "strong/ready/text", "strong/thanks/text"]
    assert sum(isinstance(a, WaitForKey) for a in actions) == 3
    assert e.hangup() == "completed"


def test_invalid_then_valid_key() -> None:
    e = engine("strong")
    actions = drive(e, "511")
    assert answers(actions) == [("ready", "5", False), ("ready", "1", True), ("turnout", "1", True)]


def test_optout_is_acted_on_before_the_confirmation() -> None:
    e = engine("weak")
    actions = drive(e, "9")
    i = next(i for i, a in enumerate(actions) if isinstance(a, OptOutMember))
    assert isinstance(actions[i + 1], Play) and actions[i + 1].prompt.key == "weak/optout/text"
    assert e.hangup() == "opted_out"


def test_hangup_mid_survey_is_partial_with_answers_kept() -> None:
    e = engine("strong")
    e.start()
    e.played()                      # greeting done
    e.played()                      # question done -> waiting
    saved = e.digit("2")            # "not ready" -> lacking question
    assert answers(saved) == [("ready", "2", True)]
    assert e.hangup() == "partial" and e.answers == {"ready": "2"}
    assert e.digit("1") == [] and e.played() == [] and e.hangup() == "partial"


def test_typeahead_during_greeting_and_barge_in_during_question() -> None:
    e = engine("strong")
    e.start()
    assert e.digit("1") == []                   # pressed during the greeting: kept
    nxt = e.played()                            # greeting ends: the question takes the kept key at once
    assert answers(nxt) == [("ready", "1", True)]
    assert isinstance(nxt[-1], Play) and nxt[-1].prompt.key == "strong/turnout/text" and nxt[-1].barge_in
    stop = e.digit("2")                         # a key during the question stops it
    assert isinstance(stop[0], StopPlay) and answers(stop) == [("turnout", "2", True)]


def test_hotline_known_caller_reports_a_problem_with_a_ticket() -> None:
    e = engine("hotline", instructions="Bring the voter slips by 8 am")
    actions = drive(e, "13")
    assert answers(actions) == [("menu", "1", True), ("category", "3", True)]
    ticket = [a for a in actions if isinstance(a, OpenTicket)]
    assert ticket == [OpenTicket("opposing_activity", "note")]
    assert "क्रमांक 17" in [a for a in actions if isinstance(a, Play)][-1].prompt.text
    assert e.hangup() == "completed"


def test_hotline_instructions_after_the_pin_then_operator() -> None:
    e = engine("hotline", "en", caller={"phone_last4": "1234", "known": True, "has_pin": True, "verified": False})
    actions = drive(e, "21111#4719#0")
    said = [a.prompt.key for a in actions if isinstance(a, Play)]
    assert said.index("hotline/pin/invalid") < said.index("hotline/instructions/text")
    assert any(INSTRUCTION in a.prompt.text for a in actions if isinstance(a, Play))
    assert isinstance(actions[-1], JoinQueue) and e.hangup() == "transferred"


def test_hotline_reads_no_instructions_without_a_pin() -> None:
    for has_pin, keys in ((False, "20"), (True, "21111#2222#3333#0")):
        e = engine("hotline", "en", caller={"phone_last4": "1234", "known": True, "has_pin": has_pin,
                                            "verified": False})
        actions = drive(e, keys)
        said = [a.prompt.key for a in actions if isinstance(a, Play)]
        assert "hotline/instructions/text" not in said and (has_pin or "hotline/no_pin/text" in said)
        assert isinstance(actions[-1], JoinQueue)


def test_hotline_unknown_caller_goes_to_the_operators_with_a_note() -> None:
    ctx = sample_context("hi")
    ctx["caller"] = {"phone_last4": "9876", "known": False}
    e = Engine(LIB.get("hotline"), "hi", ctx)
    actions = drive(e, "")
    assert not answers(actions)
    assert isinstance(actions[-1], JoinQueue) and actions[-1].note == "Unknown number ending 9876: not in the directory"


EVENTS = st.lists(st.one_of(st.sampled_from(["played", "timeout", "recorded", "ticket"]),
                            st.sampled_from(list("0123456789*#"))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(LIB.names()), lang=st.sampled_from(["hi", "en"]), events=EVENTS)
def test_any_event_order_is_safe_and_ends_in_one_result(name: str, lang: str, events: list[str]) -> None:
    e = engine(name, lang)
    actions = list(e.start())
    for ev in events:
        if ev == "played":
            actions += e.played()
        elif ev == "timeout":
            actions += e.timeout()
        elif ev == "recorded":
            actions += e.recorded()
        elif ev == "ticket":
            actions += e.ticket_opened(1, None)
        else:
            actions += e.digit(ev)
    result = e.hangup()
    assert result in {"completed", "partial", "opted_out", "transferred"}
    assert e.hangup() == result and e.done
    # at most one ending action, and nothing after it
    endings = [i for i, a in enumerate(actions) if isinstance(a, (HangUp, JoinQueue))]
    assert len(endings) <= 1
    if endings:
        assert all(isinstance(a, (SaveAnswer, OptOutMember)) is False for a in actions[endings[0] + 1:])
    assert sum(isinstance(a, OptOutMember) for a in actions) <= 1
    if any(isinstance(a, OptOutMember) for a in actions):
        assert result == "opted_out"
    # every stored answer is flagged valid exactly when the key is offered by that question
    for a in actions:
        if isinstance(a, SaveAnswer):
            question = LIB.get(name).step(a.step)
            if isinstance(question, Number):  # a number: valid exactly when in range, stored as an integer
                assert a.number is not None and a.valid == (question.min <= a.number <= question.max)
                continue
            assert isinstance(question, Ask) and a.valid == (a.key in question.keys)
    assert set(e.answers) <= {s.id for s in LIB.get(name).steps}
