"""The attempt state machine: one terminal disposition, once, whatever order events arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from db.campaigns import AttemptState, Disposition
from dialer.attempt import AttemptTracker, disposition_for

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)


def test_answered_call_with_talk_time() -> None:
    t = AttemptTracker("c1", T0)
    assert t.ringing(T0 + timedelta(seconds=1))
    assert t.answered(T0 + timedelta(seconds=5))
    assert t.originate_response(True, 4, T0 + timedelta(seconds=5))
    assert t.hangup(16, T0 + timedelta(seconds=35))
    assert t.ended and t.disposition is Disposition.answered and t.talk_seconds == 30
    assert [x[1] for x in t.transitions] == ["ringing", "answered", "ended"]
    assert not t.originate_response(True, 4, T0 + timedelta(seconds=36))  # repeated: ignored


def test_sip_outcomes_by_cause() -> None:
    expected = {17: Disposition.busy, 1: Disposition.invalid_number, 34: Disposition.congestion,
                19: Disposition.no_answer, 18: Disposition.no_answer, 21: Disposition.failed}
    for cause, disp in expected.items():
        t = AttemptTracker("c", T0)
        t.hangup(cause, T0)
        assert not t.ended  # waits for the OriginateResponse
        t.originate_response(False, 0, T0)
        assert t.ended and t.disposition is disp, cause


def test_inconclusive_hangup_waits_for_the_originate_response_or_the_timer() -> None:
    t = AttemptTracker("c", T0)
    t.hangup(16, T0)
    assert not t.ended
    t.originate_response(False, 3, T0)
    assert t.ended and t.disposition is Disposition.no_answer
    t2 = AttemptTracker("c", T0)
    t2.originate_response(False, 0, T0)  # the channel never existed
    assert not t2.ended
    assert t2.settle(T0 + timedelta(seconds=2))
    assert t2.disposition is Disposition.failed


def test_a_live_answered_call_is_never_settled_by_the_timer() -> None:
    t = AttemptTracker("c", T0)
    t.answered(T0)
    t.originate_response(True, 4, T0)
    assert not t.waiting_to_settle and not t.settle(T0 + timedelta(minutes=5)) and not t.ended
    t.hangup(16, T0 + timedelta(seconds=40))
    assert t.ended and t.disposition is Disposition.answered and t.talk_seconds == 40


def test_cancel_and_lost() -> None:
    t = AttemptTracker("c", T0)
    t.ringing(T0)
    t.cancel(T0)
    t.hangup(16, T0)
    t.settle(T0 + timedelta(seconds=2))
    assert t.disposition is Disposition.cancelled
    t2 = AttemptTracker("c", T0)
    t2.answered(T0)
    assert t2.mark_lost(T0 + timedelta(seconds=9), "asterisk restarted")
    assert t2.disposition is Disposition.failed and t2.talk_seconds is None  # never counted answered
    assert not t2.hangup(16, T0)


EVENTS = st.lists(st.sampled_from(["ringing", "answered", "hangup", "originate", "settle", "lost"]),
                  min_size=1, max_size=8)


def _apply(t: AttemptTracker, name: str, cause: int, reason: int, success: bool) -> None:
    at = T0 + timedelta(seconds=len(t.transitions))
    {"ringing": lambda: t.ringing(at), "answered": lambda: t.answered(at),
     "hangup": lambda: t.hangup(cause, at), "originate": lambda: t.originate_response(success, reason, at),
     "settle": lambda: t.settle(at), "lost": lambda: t.mark_lost(at, "lost")}[name]()


@settings(max_examples=500, deadline=None)
@given(events=EVENTS, cause=st.sampled_from([0, 1, 16, 17, 18, 19, 21, 34]),
       reason=st.sampled_from([0, 1, 3, 4, 5, 8]), success=st.booleans())
def test_at_most_one_end_and_never_leaves_it(events: list[str], cause: int, reason: int, success: bool) -> None:
    t = AttemptTracker("c", T0)
    for name in events:
        was_ended, disposition = t.ended, t.disposition
        _apply(t, name, cause, reason, success)
        if was_ended:
            assert t.ended and t.disposition is disposition
    ends = [x for x in t.transitions if x[1] == AttemptState.ended.value]
    assert len(ends) == (1 if t.ended else 0)
    assert (t.disposition is not None) == t.ended


@settings(max_examples=300, deadline=None)
@given(cause=st.sampled_from([0, 1, 16, 17, 18, 19, 21, 34]), reason=st.sampled_from([0, 1, 3, 4, 5, 8]),
       success=st.booleans(), answered=st.booleans())
def test_same_events_same_disposition_in_any_order(cause: int, reason: int, success: bool, answered: bool) -> None:
    # one channel's events come in order on AMI (Up before Hangup); the OriginateResponse floats
    names = ["hangup", "originate"] + (["answered"] if answered else [])
    results = set()
    orders = [o for o in itertools.permutations(names)
              if "answered" not in o or o.index("answered") < o.index("hangup")]
    for order in orders:
        t = AttemptTracker("c", T0)
        for name in order:
            _apply(t, name, cause, reason, success)
        t.settle(T0 + timedelta(minutes=1))
        assert t.ended
        results.add(t.disposition)
    assert len(results) == 1, results


def test_disposition_for_is_answered_only_if_answered() -> None:
    for cause, reason in itertools.product([None, 16, 17], [None, 3, 4]):
        assert (disposition_for(answered=False, cause=cause, reason=reason) is Disposition.answered) is False
