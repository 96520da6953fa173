"""Line utilisation from Asterisk's CDR, over the whole run and while there were calls left to make."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.cdr import CdrRecord
from sandbox.traffic import utilisation, utilisation_while_dialing

T0 = datetime(2026, 11, 30, 12, 0, 0)


def call(uid: str, start: float, end: float) -> CdrRecord:
    s, e = T0 + timedelta(seconds=start), T0 + timedelta(seconds=end)
    return CdrRecord(uid, f"PJSIP/lines-{uid}", "ANSWERED", s, s, e, int(end - start), int(end - start))


def test_the_lists_drain_counts_against_the_whole_run_only() -> None:
    # two lines: busy back to back for 10 s, then the last call (started at 8 s) runs on to 18 s alone
    records = [call("a", 0, 5), call("b", 0, 8), call("c", 5, 10), call("d", 8, 18)]
    util, span, answered = utilisation(records, 2)
    assert (span, answered) == (18, 4)
    assert util == (5 + 8 + 5 + 10) / (2 * 18)
    # from 0 s to the last start (8 s) both lines were busy all the time
    assert utilisation_while_dialing(records, 2) == 1.0


def test_a_gap_while_calls_were_left_lowers_both() -> None:
    records = [call("a", 0, 4), call("b", 0, 10), call("c", 6, 10), call("d", 10, 12)]  # line 1 idle 4-6 s
    assert utilisation_while_dialing(records, 2) == (4 + 10 + 4) / (2 * 10)
    assert utilisation(records, 2)[0] < 1.0


def test_no_calls_or_one_start_gives_zero() -> None:
    assert utilisation_while_dialing([], 2) == 0.0
    assert utilisation_while_dialing([call("a", 0, 5)], 2) == 0.0
