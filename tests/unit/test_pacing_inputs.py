"""What predictive pacing reads from the database (answer rate, abandons over the window and the day, ring
and talk times, operators' states), call-back tasks for abandoned calls and the apology's words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user
from ari_handlers.progressive import apology
from core.errors import Conflict, NotFound
from db.campaigns import Attempt, AttemptState, Campaign, CampaignMode, CampaignPacing
from db.models import utcnow
from db.operators import OperatorState
from dialer.pacing_inputs import campaign_figures, operator_figures
from dialer.predictive import PacerConfig, policy_for
from operators import callbacks
from operators.states import change


def _attempt(s: Session, cid: int, n: int, *, ago: float, answered_after: float | None = None,
             result: str | None = None, talk: int | None = None, ended: bool = True) -> Attempt:
    now = utcnow()
    a = Attempt(channel_id=f"c{n}", action_id=f"a{n}", campaign_id=cid, phone=f"+9198260{n:05d}", trunk="lines",
                state=AttemptState.ended if ended else AttemptState.dialing, created_at=now - timedelta(seconds=ago),
                answered_at=now - timedelta(seconds=ago - answered_after) if answered_after is not None else None,
                result=result, talk_seconds=talk)
    s.add(a)
    return a


def test_campaign_figures_count_the_window_and_the_day(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        c = Campaign(name="pred", mode=CampaignMode.operator, pacing=CampaignPacing.predictive, abandon_cap=0.02)
        s.add(c)
        s.flush()
        cid = c.id
        _attempt(s, cid, 1, ago=100, answered_after=10, result="connected", talk=90)
        _attempt(s, cid, 2, ago=200, answered_after=20, result="abandoned")
        _attempt(s, cid, 3, ago=300)                               # no answer
        _attempt(s, cid, 4, ago=5, ended=False)                    # still ringing: not counted
        _attempt(s, cid, 5, ago=7200, answered_after=15, result="abandoned")  # before the window, today
    with session_factory() as s:
        now = utcnow()
        f = campaign_figures(s, cid, now, timedelta(minutes=30), now - timedelta(hours=5))
        assert (f.dialed, f.answered, f.abandoned) == (3, 2, 1)
        assert (f.answered_day, f.abandoned_day) == (3, 2)
        assert sorted(round(d) for d in f.answer_delays) == [10, 15, 20] and f.talk_times == [90.0]
        policy = policy_for(s.get(Campaign, cid), PacerConfig())  # type: ignore[arg-type]
        assert policy.cap == 0.02 and policy.mode.value == "predictive"


def test_operator_figures_and_call_back_tasks(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = [add_user(s, f"op{i}", "operator", "Operator-pass-1").id for i in range(3)]
        change(s, ids[0], OperatorState.ready, registered=True)
        change(s, ids[1], OperatorState.ready, registered=True)
        change(s, ids[1], OperatorState.on_call, by_system=True)
        change(s, ids[1], OperatorState.wrap_up, by_system=True, wrap_seconds=30)
        c = Campaign(name="cb", mode=CampaignMode.operator)
        s.add(c)
        s.flush()
        abandoned = _attempt(s, c.id, 9, ago=30, answered_after=10, result="abandoned")
        s.flush()
        attempt_id = abandoned.id
        first = callbacks.open_task(s, attempt_id, "no operator within 2 s")
        assert callbacks.open_task(s, attempt_id, "again") == first  # one task per abandoned call
        assert callbacks.open_task(s, 999_999, "none") is None
    with session_factory() as s:
        ops = operator_figures(s, utcnow(), None)
        assert ops.ready == 1 and len(ops.wrapping) == 1 and 25 <= ops.wrapping[0] <= 30 and ops.talking == []
        tasks = callbacks.list_tasks(s)
        assert [(t["attempt_id"], t["phone"], t["state"]) for t in tasks] == [(attempt_id, "+919826000009", "open")]
    with session_factory.begin() as s:
        done = callbacks.complete(s, tasks[0]["id"], "op0", "spoke to them")
        assert done["state"] == "done" and done["done_by"] == "op0"
        with pytest.raises(Conflict, match="done already"):
            callbacks.complete(s, tasks[0]["id"], "op1")
        with pytest.raises(NotFound, match="no call-back task 4242"):
            callbacks.complete(s, 4242, "op1")


def test_the_apology_names_the_party_and_the_number() -> None:
    text = apology("en", "Jan Morcha", "+91 755-2551234")
    assert "Jan Morcha war room" in text and "+ 9 1 7 5 5 2 5 5 1 2 3 4" in text
    assert "call us" not in apology("en", "Jan Morcha", "")
    assert "Jan Morcha" in apology("hi", "Jan Morcha", "1") and "1 पर" in apology("hi", "Jan Morcha", "1")
    assert "Jan Morcha" in apology("ta", "Jan Morcha", "")  # a language without words: English


def test_occupancy_counts_talk_and_wrap_up_over_signed_in_time() -> None:
    from datetime import datetime

    from db.operators import OperatorState as S
    from dialer.pacing_inputs import OperatorFigures
    from dialer.predictive import share
    from operators.occupancy import time_in_states

    t0 = datetime(2026, 11, 29, 6, 0)
    at = [t0 + timedelta(seconds=s) for s in (10, 70, 90, 100)]
    changes = [(1, S.ready, S.on_call, at[0]), (1, S.on_call, S.wrap_up, at[1]), (1, S.wrap_up, S.ready, at[2]),
               (2, S.signed_out, S.ready, at[3])]
    seconds, calls = time_in_states(changes, t0, t0 + timedelta(seconds=120), {1: S.ready})
    assert calls == 1
    assert seconds[S.on_call] == 60 and seconds[S.wrap_up] == 20 and seconds[S.ready] == 10 + 30 + 20
    assert seconds[S.signed_out] == 100  # operator 2 before signing in
    ops = OperatorFigures(ready=5, wrapping=[1.0, 2.0, 3.0], talking=[10.0, 20.0])
    halves = [share(ops, 2, 0), share(ops, 2, 1)]
    assert [h.ready for h in halves] == [3, 2] and [len(h.wrapping) for h in halves] == [2, 1]
    assert share(ops, 1, 0) == ops
