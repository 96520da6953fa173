"""The SIPp phone farm: simulated phones behind the sandbox's test trunk, behaviour chosen per number.

One SIPp UAS process on one loopback port answers every call; the dialed number (Request-URI user part)
is looked up in an injection file written from ``behaviours`` (see ``sandbox/farm_scenario.py``).
What happened is read back from the scenario's log lines (``calls()``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sandbox.farm_scenario import DTMF_DIR, FIELDS, KEYS, MAX_DIGITS, VOICE_PCAP, render
from sandbox.rtp_pcap import make_voice_pcap, write_dtmf_set

Kind = Literal["answer", "silent", "hangup", "noanswer", "busy", "congestion", "notfound", "unavailable"]
KINDS = ("answer", "silent", "hangup", "noanswer", "busy", "congestion", "notfound", "unavailable")
_NUMBER = re.compile(r"^\+?[0-9]{1,20}$|^[a-z][a-z0-9._-]{0,39}$")  # phone numbers, or softphone user names
VOICE_TEXT = "The booth needs two hundred more voter slips and one more polling agent before Sunday."


@dataclass(frozen=True)
class Behaviour:
    """How a simulated phone answers. ``digits`` are pressed (RFC 2833) after ``delay_ms``, one every
    ``digit_gap_ms``; with ``voice_ms`` the phone then speaks (a recorded sentence) that long after its
    last digit. ``hold_ms`` counts from the answer."""

    kind: Kind
    digits: str = ""
    hold_ms: int = 2000
    delay_ms: int = 500
    digit_gap_ms: int = 1500
    voice_ms: int = 0

    def check(self, number: str) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{number}: unknown behaviour '{self.kind}' (one of {', '.join(KINDS)})")
        bad = [d for d in self.digits if d not in KEYS]
        if bad:
            raise ValueError(f"{number}: digits '{self.digits}' has keys that are not 0-9, * or #: {''.join(bad)}")
        if len(self.digits) > MAX_DIGITS:
            raise ValueError(f"{number}: at most {MAX_DIGITS} digits per call")
        if self.digits and self.kind != "answer":
            raise ValueError(f"{number}: only 'answer' phones press digits")
        if self.voice_ms and self.kind != "answer":
            raise ValueError(f"{number}: only 'answer' phones speak")
        if min(self.hold_ms, self.delay_ms, self.digit_gap_ms, self.voice_ms) < 0:
            raise ValueError(f"{number}: durations must not be negative")


@dataclass
class FarmCall:
    """One call as the farm saw it."""

    call_id: str
    number: str
    kind: str
    answered: bool = False
    digits: str = ""
    hung_up_by: str = "none"      # "farm", "far end" or "none"
    final: int | None = None      # the status sent when not answered (486, 503, 404, 480, 487)
    spoke: bool = False           # played its voice message
    events: list[str] = field(default_factory=list)


def injection_lines(behaviours: Mapping[str, Behaviour], default: Behaviour) -> list[str]:
    """The injection file: ``USER`` then one ``;``-separated row per number (and the default row)."""
    rows = ["USER"]
    for number, b in [*behaviours.items(), ("default", default)]:
        if number != "default" and not _NUMBER.match(number):
            raise ValueError(f"'{number}' is not a dialable number (digits, optionally a leading +) nor a "
                             "softphone user name")
        b.check(number)
        digits = list(b.digits) + ["-"] * (MAX_DIGITS - len(b.digits))
        hold = b.hold_ms if b.kind != "hangup" else min(b.hold_ms, 2000)
        rows.append(";".join([number, b.kind, str(hold), str(b.delay_ms), str(b.digit_gap_ms), str(b.voice_ms),
                              *digits]))
    assert len(rows[1].split(";")) == len(FIELDS)
    return rows


def parse_log(text: str) -> list[FarmCall]:
    """Calls from the scenario's ``farm <tick> <call-id> <number> <kind> <event...>`` log lines."""
    calls: dict[str, FarmCall] = {}
    for line in text.splitlines():
        parts = line.split(" ", 5)
        if len(parts) < 6 or parts[0] != "farm":
            continue
        _, _tick, call_id, number, kind, event = parts
        call = calls.setdefault(call_id, FarmCall(call_id, number, kind))
        call.events.append(event)
        if event == "answered":
            call.answered = True
        elif event.startswith("digit "):
            call.digits += event[6:]
        elif event == "voice":
            call.spoke = True
        elif event == "farm_bye":
            call.hung_up_by = "farm"
        elif event == "far_bye":
            call.hung_up_by = "far end"
        elif event.startswith("final "):
            call.final = int(event[6:])
        elif event == "cancel":
            call.final, call.hung_up_by = 487, "far end"
    return list(calls.values())


class PhoneFarm:
    """Start with the behaviours per number; ``calls()`` tells what each phone saw."""

    def __init__(self, behaviours: Mapping[str, Behaviour], *, host: str = "127.0.0.1", port: int = 5070,
                 media_port: int = 6000, workdir: Path, default: Behaviour = Behaviour("answer"),
                 max_calls: int = 500) -> None:
        self.lines = injection_lines(behaviours, default)
        self.host, self.port, self.media_port = host, port, media_port
        self.workdir, self.max_calls = workdir, max_calls
        self.pid: int | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "farm.log"

    def start(self, timeout: float = 10.0) -> None:
        """Write the scenario and numbers, start SIPp in the background, wait until it listens."""
        for port in (self.port, self.media_port):  # else the "listening" check below sees the other holder
            if _udp_bound(self.host, port):
                raise RuntimeError(f"phone farm: {self.host}:{port} is already in use (another farm's SIP or "
                                   "media port, or another program): choose free ports")
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "farm.xml").write_text(render())
        write_dtmf_set(self.workdir / DTMF_DIR, MAX_DIGITS)
        (self.workdir / "numbers.csv").write_text("\n".join(self.lines) + "\n")
        make_voice_pcap(self.workdir / VOICE_PCAP, VOICE_TEXT)  # SIPp opens every capture the scenario names
        self.log_path.write_text("")
        said = self.workdir / "sipp.out"  # SIPp's output: the launcher's, and the background process's errors
        with open(said, "wb") as sink:
            out = subprocess.run(
                ["sipp", "-sf", "farm.xml", "-inf", "numbers.csv", "-infindex", "numbers.csv", "0",
                 "-i", self.host, "-p", str(self.port), "-mi", self.host, "-mp", str(self.media_port),
                 # no -trace_err: SIPp logs every 100 ms wait that times out (by design here) as an error,
                 # which grows by megabytes a minute on a busy farm; start-up errors come on its output
                 "-bind_local", "-bg", "-trace_logs", "-log_file", str(self.log_path),
                 "-max_socket", str(max(1024, self.max_calls * 2))],
                cwd=self.workdir, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout, check=False,
                start_new_session=True)  # a Ctrl-C meant for the caller does not stop the phones
        output = said.read_text(errors="replace")
        match = re.search(r"PID=\[(\d+)\]", output)
        if out.returncode not in (0, 99) or not match:  # with -bg the launcher exits 99 ("no calls")
            raise RuntimeError(f"SIPp phone farm did not start (exit {out.returncode}):\n{_noise_free(output)}")
        self.pid = int(match.group(1))
        deadline = time.monotonic() + timeout
        while not _udp_bound(self.host, self.port):
            if time.monotonic() > deadline or not self.running:
                why = f"not after {timeout:.0f}s" if self.running else "SIPp exited"
                self.stop()
                raise RuntimeError(f"SIPp phone farm not listening on {self.host}:{self.port} ({why}):\n"
                                   f"{_noise_free(said.read_text(errors='replace'))}")
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.pid is not None and alive(self.pid)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop SIPp (idempotent)."""
        if self.pid is not None:
            stop_sipp(self.pid, timeout)
        self.pid = None

    def calls(self) -> list[FarmCall]:
        return parse_log(self.log_path.read_text(errors="replace")) if self.log_path.exists() else []

    def answered_count(self) -> int:
        return sum(c.answered for c in self.calls())

    def __enter__(self) -> PhoneFarm:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_sipp(pid: int, timeout: float = 5.0) -> None:
    """Stop a SIPp process: SIGUSR1 (SIPp's clean stop), then SIGTERM, then SIGKILL."""
    for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout / 3
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not alive(pid):
            return


def _udp_bound(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _noise_free(output: str) -> str:
    """SIPp's output without its per-pcap loading chatter."""
    keep = [ln for ln in output.splitlines() if not re.match(r"^(In pcap|max pkt length|base port)", ln)]
    return "\n".join(keep)[-2000:]
