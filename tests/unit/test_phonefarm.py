"""The phone farm's pure parts: validation, the injection file, the log, the committed scenario; its port checks."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sandbox.farm_scenario import FIELDS, render
from sandbox.phonefarm import Behaviour, PhoneFarm, injection_lines, parse_log

SIPP = Path(__file__).resolve().parents[1] / "sipp"


def test_injection_file_rows() -> None:
    lines = injection_lines({"+919000000001": Behaviour("answer", digits="1#", hold_ms=3000),
                             "5551": Behaviour("busy")}, Behaviour("notfound"))
    assert lines[0] == "USER"
    assert lines[1] == "+919000000001;answer;3000;500;1500;0;1;#;-;-;-;-;-;-"
    assert lines[2].startswith("5551;busy;")
    assert lines[3].startswith("default;notfound;")
    assert all(len(r.split(";")) == len(FIELDS) for r in lines[1:])


@pytest.mark.parametrize(("behaviours", "message"), [
    ({"+91900": Behaviour("answer", digits="12a")}, r"\+91900: digits '12a' has keys that are not 0-9"),
    # a kind outside the Literal on purpose: bad input from a caller that is not type-checked
    ({"+91900": Behaviour("ringing")}, r"\+91900: unknown behaviour 'ringing'"),  # type: ignore[arg-type]
    ({"+91900": Behaviour("answer", hold_ms=-1)}, r"\+91900: durations must not be negative"),
    ({"+91900": Behaviour("busy", digits="1")}, r"\+91900: only 'answer' phones press digits"),
    ({"+91900": Behaviour("busy", voice_ms=100)}, r"\+91900: only 'answer' phones speak"),
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
    assert (SIPP / "phonefarm" / "phonefarm.xml").read_text() == render(), \
        "tests/sipp/phonefarm/phonefarm.xml is stale: regenerate it (tests/sipp/README.md)"


def test_voice_capture_is_pcmu_rtp_that_ends_in_silence(tmp_path: Path) -> None:
    from sandbox.rtp_pcap import FRAME, make_voice_pcap

    path = tmp_path / "voice.pcap"
    speech = make_voice_pcap(path, "one two three", silence_after=1.0)
    data = path.read_bytes()
    assert data[:4] == (0xA1B2C3D4).to_bytes(4, "little") and 1.0 < speech < 5.0
    packets, offset = [], 24
    while offset < len(data):
        length = int.from_bytes(data[offset + 8:offset + 12], "little")
        packets.append(data[offset + 16:offset + 16 + length])
        offset += 16 + length
    rtp = [p[14 + 20 + 8:] for p in packets]
    assert all(r[0] == 0x80 and r[1] == 0 and len(r) == 12 + FRAME for r in rtp)  # RTP v2, PT 0 (PCMU)
    assert [int.from_bytes(r[2:4], "big") for r in rtp] == list(range(len(rtp)))
    assert len(rtp) * 0.02 >= speech + 1.0 - 0.02
    assert set(rtp[-1][12:]) == {0xFF}  # the last packets are silence


def test_every_key_press_has_its_own_rtp_timestamp(tmp_path: Path) -> None:
    """The same key twice in a call must reach Asterisk as two presses (SIPp's own captures reuse one
    timestamp per key)."""
    from sandbox.rtp_pcap import write_dtmf_set

    write_dtmf_set(tmp_path, 3)

    def stamps(name: str) -> set[tuple[int, int, bool]]:
        data = (tmp_path / name).read_bytes()
        out, offset = set(), 24
        while offset < len(data):
            length = int.from_bytes(data[offset + 8:offset + 12], "little")
            rtp = data[offset + 16 + 42:offset + 16 + length]
            out.add((int.from_bytes(rtp[4:8], "big"), rtp[12], bool(rtp[13] & 0x80)))
            offset += 16 + length
        return out

    first, second = stamps("0_1.pcap"), stamps("1_1.pcap")
    assert {s[1] for s in first} == {1} and any(s[2] for s in first)  # event 1, with an end packet
    assert {s[0] for s in first}.isdisjoint({s[0] for s in second})
    assert {s[1] for s in stamps("2_pound.pcap")} == {11}


@pytest.mark.parametrize("which", ["port", "media_port"])
def test_a_port_already_held_is_refused_before_sipp_starts(tmp_path: Path, which: str) -> None:
    """A farm whose SIP port another process holds would pass the "listening" check on that other holder
    (a benchmark's second farm once took the first farm's media port, and its node's calls all rang out)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        ports = {"port": 0, "media_port": 0, which: taken}
        farm = PhoneFarm({}, port=ports["port"] or taken + 1, media_port=ports["media_port"] or taken + 2,
                         workdir=tmp_path)
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{taken} is already in use"):
            farm.start()
    assert not (tmp_path / "sipp.out").exists() and farm.pid is None
