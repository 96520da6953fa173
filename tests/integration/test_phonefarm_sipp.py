"""The phone farm answered by real SIPp calls (UAC probes), one farm process for every behaviour."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from sandbox.phonefarm import Behaviour, PhoneFarm

pytestmark = pytest.mark.integration
SIPP = Path(__file__).resolve().parents[1] / "sipp"


def _run(scenario: str, number: str, port: int) -> int:
    res = subprocess.run(["sipp", "-sf", str(SIPP / scenario / f"{scenario}.xml"), "-s", number,
                          f"127.0.0.1:{port}", "-i", "127.0.0.1", "-m", "1", "-timeout", "10s",
                          "-timeout_error", "-nostdin"], capture_output=True, text=True, check=False, timeout=20)
    return res.returncode


def test_one_farm_behaves_per_number(tmp_path: Path) -> None:
    port = 17170
    behaviours = {"+911": Behaviour("answer", hold_ms=300), "+912": Behaviour("busy"),
                  "+913": Behaviour("congestion"), "+914": Behaviour("notfound"),
                  "+915": Behaviour("unavailable"), "+916": Behaviour("noanswer"),
                  "+917": Behaviour("hangup", hold_ms=200), "+918": Behaviour("silent", hold_ms=300)}
    with PhoneFarm(behaviours, port=port, media_port=17200, workdir=tmp_path) as farm:
        assert _run("uac_answer", "+911", port) == 0
        for number in ("+912", "+913", "+914", "+915"):
            assert _run("uac_final", number, port) == 0, number
        assert _run("uac_cancel", "+916", port) == 0
        assert _run("uac_answer", "+917", port) == 0
        assert _run("uac_answer", "+918", port) == 0
        assert _run("uac_answer", "+919", port) == 0  # not listed: the default (answer)
        time.sleep(0.3)
        calls = {c.number: c for c in farm.calls()}
    assert {n: calls[n].final for n in ("+912", "+913", "+914", "+915", "+916")} == {
        "+912": 486, "+913": 503, "+914": 404, "+915": 480, "+916": 487}
    for n in ("+911", "+917", "+918", "+919"):
        assert calls[n].answered and calls[n].hung_up_by == "farm", calls[n]
    assert calls["+919"].kind == "answer"
    assert not farm.running
