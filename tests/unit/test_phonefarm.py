"""The phone farm's pure parts: validation, the injection file, the log, the committed scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.farm_scenario import FIELDS, render
from sandbox.phonefarm import DEFAULT_PCAPS, Behaviour, injection_lines, parse_log

SIPP = Path(__file__).resolve().parents[1] / "sipp"


def test_injection_file_rows() -> None:
    lines = injection_lines({"+919000000001": Behaviour("answer", digits="1#", hold_ms=3000),
                             "5551": Behaviour("busy")}, Behaviour("notfound"))
    assert lines[0] == "USER"
    assert lines[1] == "+919000000001;answer;3000;500;1500;1;#;-;-;-;-;-;-"
    assert lines[2].startswith("5551;busy;")
    assert lines[3].startswith("default;notfound;")
    assert all(len(r.split(";")) == len(FIELDS) for r in lines[1:])


@pytest.mark.parametrize(("behaviours", "message"), [
    ({"+91900": Behaviour("answer", digits="12a")}, r"\+91900: digits '12a' has keys that are not 0-9"),
    # a kind outside the Literal on purpose: bad input from a caller that is not type-checked
    ({"+91900": Behaviour("ringing")}, r"\+91900: unknown behaviour 'ringing'"),  # type: ignore[arg-type]
    ({"+91900": Behaviour("answer", hold_ms=-1)}, r"\+91900: durations must not be negative"),
    ({"+91900": Behaviour("busy", digits="1")}, r"\+91900: only 'answer' phones press digits"),
    ({"91 900": Behaviour("busy")}, r"'91 900' is not a dialable number"),
    ({"+91900": Behaviour("answer", digits="123456789")}, r"at most 8 digits"),
])
def test_bad_behaviours_name_the_number_and_problem(behaviours: dict[str, Behaviour], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        injection_lines(behaviours, Behaviour("answer"))


def test_parse_log() -> None:
    text = "\n".join([
        "farm 10 c1@x +9191 answer invite", "farm 12 c1@x +9191 answer answered",
        "farm 13 c1@x +9191 answer digit 1", "farm 14 c1@x +9191 answer digit #",
        "farm 20 c1@x +9191 answer far_bye", "farm 30 c2@x +9192 busy invite",
        "farm 31 c2@x +9192 busy final 486", "farm 40 c3@x +9193 noanswer invite",
        "farm 45 c3@x +9193 noanswer cancel", "farm 50 c4@x +9194 silent invite",
        "farm 51 c4@x +9194 silent answered", "farm 60 c4@x +9194 silent farm_bye", "garbage line",
    ])
    calls = {c.number: c for c in parse_log(text)}
    assert calls["+9191"].answered and calls["+9191"].digits == "1#" and calls["+9191"].hung_up_by == "far end"
    assert calls["+9192"].final == 486 and not calls["+9192"].answered
    assert calls["+9193"].final == 487
    assert calls["+9194"].hung_up_by == "farm"


def test_committed_scenario_is_current() -> None:
    assert (SIPP / "phonefarm" / "phonefarm.xml").read_text() == render(DEFAULT_PCAPS), \
        "tests/sipp/phonefarm/phonefarm.xml is stale: regenerate it (tests/sipp/README.md)"
