"""RTP captures SIPp plays into calls: a spoken message (PCMU) and keypad presses (RFC 4733 events).

Made here rather than shipped: SIPp's own DTMF captures all carry one RTP timestamp per key, so the same
key pressed twice in a call looks like one press to Asterisk; ours give every press its own timestamp.
The voice is espeak-ng through sox, so nothing binary is committed.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

SILENCE = b"\xff"  # mu-law silence
FRAME = 160        # 20 ms at 8 kHz
EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
SSRC_VOICE, SSRC_DTMF = 0x5741524D, 0x57524454


def write_pcap(path: Path, packets: list[tuple[int, bytes]]) -> None:
    """(microseconds from start, RTP packet) pairs as an Ethernet/IPv4/UDP capture SIPp can play."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for n, (usec, rtp) in enumerate(packets):
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        eth = b"\x00" * 12 + b"\x08\x00" + ip
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(eth), len(eth)) + eth)
    path.write_bytes(b"".join(out))


def _rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def write_dtmf_pcap(path: Path, key: str, press: int, *, pt: int = 101, ms: int = 160) -> None:
    """One key press (RFC 4733 event packets every 20 ms, then three end packets). ``press`` is the key's
    position in the call and sets its RTP timestamp, so repeated keys stay distinct."""
    event = EVENTS[key]
    ts = 100_000 + press * 80_000
    seq0 = 1000 + press * 50
    steps = max(1, ms // 20)
    packets = []
    for i in range(steps):
        packets.append((i * 20_000, _rtp(pt, seq0 + i, ts, SSRC_DTMF, struct.pack("!BBH", event, 10, (i + 1) * FRAME),
                                         marker=i == 0)))
    end = struct.pack("!BBH", event, 0x80 | 10, steps * FRAME)
    for j in range(3):
        packets.append(((steps + j) * 20_000, _rtp(pt, seq0 + steps + j, ts, SSRC_DTMF, end)))
    write_pcap(path, packets)


def write_dtmf_set(folder: Path, presses: int) -> None:
    """``<folder>/<press>_<key name>.pcap`` for every key at every position (names as in SIPp's files)."""
    folder.mkdir(parents=True, exist_ok=True)
    for press in range(presses):
        for key in EVENTS:
            name = {"*": "star", "#": "pound"}.get(key, key)
            write_dtmf_pcap(folder / f"{press}_{name}.pcap", key, press)


def spoken_ulaw(text: str, voice: str = "en") -> bytes:
    """``text`` spoken by espeak-ng, as raw 8 kHz mu-law."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "--stdout", "--", text],
                         capture_output=True, check=True, timeout=30).stdout
    return subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "ul", "-r", "8000", "-c", "1", "-"],
                          input=wav, capture_output=True, check=True, timeout=30).stdout


def make_voice_pcap(path: Path, text: str, *, voice: str = "en", silence_after: float = 6.0) -> float:
    """A capture of ``text`` spoken, then ``silence_after`` seconds of (sent) silence, so a recording's
    silence detection sees the speaker stop. Returns the seconds of speech."""
    speech = spoken_ulaw(text, voice)
    ulaw = speech + SILENCE * int(8000 * silence_after)
    frames = [ulaw[i:i + FRAME].ljust(FRAME, SILENCE) for i in range(0, len(ulaw), FRAME)]
    write_pcap(path, [(n * 20_000, _rtp(0, n, n * FRAME, SSRC_VOICE, f)) for n, f in enumerate(frames)])
    return len(speech) / 8000
