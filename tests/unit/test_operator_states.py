"""Operator states: the allowed changes (property-tested over any sequence of requests), the registration
gate, pauses need a reason, history is kept, the longest-ready operator is next (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user
from db.models import utcnow
from db.operators import OperatorState as S
from db.operators import OperatorStateChange
from operators.states import BY_OPERATOR, BY_SYSTEM, OperatorError, change, check_change, longest_ready, operators_board


@given(st.lists(st.tuples(st.sampled_from(list(S)), st.booleans(), st.booleans()), max_size=40))
def test_any_sequence_of_requests_only_makes_allowed_moves(requests: list[tuple[S, bool, bool]]) -> None:
    state = S.signed_out
    for to, by_system, registered in requests:
        try:
            check_change(state, to, by_system=by_system, registered=registered, reason="tea")
        except OperatorError:
            continue
        assert to in (BY_SYSTEM if by_system else BY_OPERATOR)[state]
        assert registered or to is not S.ready
        assert not (state is S.on_call and not by_system), "a call is never left from the console"
        state = to


def test_gates_and_messages() -> None:
    with pytest.raises(OperatorError, match="softphone is not registered"):
        check_change(S.signed_out, S.ready, by_system=False, registered=False, reason=None)
    with pytest.raises(OperatorError, match="say why you pause"):
        check_change(S.ready, S.paused, by_system=False, registered=True, reason=" ")
    with pytest.raises(OperatorError, match="an operator cannot go from on_call to ready"):
        check_change(S.on_call, S.ready, by_system=False, registered=True, reason=None)


def test_changes_are_recorded_and_the_longest_ready_is_next(session_factory: sessionmaker[Session]) -> None:
    t0 = utcnow()
    with session_factory.begin() as s:
        a = add_user(s, "asha", "operator", "Operator-pass-1").id
        b = add_user(s, "bina", "operator", "Operator-pass-2").id
        sup = add_user(s, "sup", "supervisor", "Super-pass-01").id
        change(s, b, S.ready, at=t0)
        change(s, a, S.ready, at=t0 + timedelta(seconds=5))
        with pytest.raises(OperatorError, match="is not an operator"):
            change(s, sup, S.ready)
    with session_factory.begin() as s:
        assert longest_ready(s) == b
        change(s, b, S.on_call, by_system=True, channel_id="ch-1", at=t0 + timedelta(seconds=10))
        assert longest_ready(s) == a and longest_ready(s, exclude=[a]) is None
        row = change(s, b, S.wrap_up, by_system=True, wrap_seconds=30, at=t0 + timedelta(seconds=70))
        assert row.channel_id == "ch-1" and row.wrap_until == t0 + timedelta(seconds=100)
        change(s, a, S.paused, reason="tea", at=t0 + timedelta(seconds=80))
    with session_factory() as s:
        states = {r["username"]: (r["state"], r["reason"]) for r in operators_board(s, now=t0 + timedelta(seconds=90))}
        assert states == {"asha": ("paused", "tea"), "bina": ("wrap_up", None)}
        history = [(c.from_state.value, c.to_state.value) for c in
                   s.query(OperatorStateChange).filter_by(user_id=b).order_by(OperatorStateChange.id)]
        assert history == [("signed_out", "ready"), ("ready", "on_call"), ("on_call", "wrap_up")]
