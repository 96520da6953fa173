"""A simulated booth worker calling the war room: one SIPp UAC call into the sandbox's phone lines that
presses keys (RFC 2833), may speak a message, and stays on the line until the war room hangs up (or
``hold_ms`` passes). The scenario is rendered for each call (``tests/sipp/uac_hotline/`` holds an
example), because SIPp cannot take a capture's file name from a variable."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sandbox.farm_scenario import DTMF_DIR, KEYS, VOICE_PCAP
from sandbox.phonefarm import VOICE_TEXT
from sandbox.rtp_pcap import make_voice_pcap, write_dtmf_set

INVITE = """  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]in[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{number}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"><action><log message="caller answered"/></action></recv>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]in[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

ENDING = """  <label id="our_bye"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]in[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" next="end"><action><log message="caller bye"/></action></recv>
  <label id="far_bye"/>
  <nop><action><log message="caller far_bye"/></action></nop>
  <send next="end">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
</scenario>
"""


def render_caller(number: str, digits: str, *, delay_ms: int, gap_ms: int, voice_ms: int, hold_ms: int) -> str:
    """The scenario of one inbound call from ``number``."""
    if number != "anonymous" and not re.fullmatch(r"\+?[0-9]{1,20}", number):  # anonymous: a withheld number
        raise ValueError(f"'{number}' is not a dialable number")
    bad = [d for d in digits if d not in KEYS]
    if bad:
        raise ValueError(f"digits '{digits}' has keys that are not 0-9, * or #: {''.join(bad)}")
    out = ['<?xml version="1.0" encoding="ISO-8859-1" ?>', '<scenario name="booth worker calling the hotline">',
           INVITE.format(number=number)]
    waits = ([delay_ms] + [gap_ms] * (len(digits) - 1)) if digits else []
    for i, (key, wait) in enumerate(zip(digits, waits, strict=True)):
        out.append(f'  <recv request="BYE" timeout="{max(1, wait)}" ontimeout="key{i}" next="far_bye"/>\n'
                   f'  <label id="key{i}"/>\n  <nop><action><exec play_pcap_audio="{DTMF_DIR}/{i}_'
                   f'{KEYS[key]}.pcap"/><log message="caller digit {key}"/></action></nop>\n')
    if voice_ms:
        out.append(f'  <recv request="BYE" timeout="{voice_ms}" ontimeout="speak" next="far_bye"/>\n'
                   f'  <label id="speak"/>\n  <nop><action><exec play_pcap_audio="{VOICE_PCAP}"/>'
                   '<log message="caller voice"/></action></nop>\n')
    out.append(f'  <recv request="BYE" timeout="{max(1, hold_ms)}" ontimeout="our_bye" next="far_bye"/>\n')
    out.append(ENDING.format(number=number))
    return "".join(out)


@dataclass(frozen=True)
class CallerResult:
    exit_code: int
    events: list[str]

    @property
    def hung_up_by(self) -> str:
        return "war room" if "far_bye" in self.events else "caller" if "bye" in self.events else "none"


def call_in(number: str, *, service: str, sip_port: int, workdir: Path, digits: str = "", delay_ms: int = 1000,
            gap_ms: int = 1500, voice_ms: int = 0, hold_ms: int = 60_000, local_port: int = 15090,
            media_port: int = 16500, timeout: float = 180.0, host: str = "127.0.0.1",
            rtp_echo: bool = False) -> CallerResult:
    """Call ``service`` on the sandbox, or on ``host`` (a provider's Asterisk), blocking: run it in a thread
    from async code. ``rtp_echo``: send back every RTP packet received (SIPp's ``-rtp_echo``), so whoever
    talks to the caller hears themselves: the far end then knows the caller received its audio."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "caller.xml").write_text(render_caller(number, digits, delay_ms=delay_ms, gap_ms=gap_ms,
                                                      voice_ms=voice_ms, hold_ms=hold_ms))
    write_dtmf_set(workdir / DTMF_DIR, len(digits))
    if voice_ms:
        make_voice_pcap(workdir / VOICE_PCAP, VOICE_TEXT)
    log = workdir / "caller.log"
    log.write_text("")
    proc = subprocess.run(
        ["sipp", f"{host}:{sip_port}", "-sf", "caller.xml", "-s", service, "-m", "1", "-i", "127.0.0.1",
         "-p", str(local_port), "-mi", "127.0.0.1", "-mp", str(media_port), "-trace_logs", "-log_file", str(log),
         "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin", *(["-rtp_echo"] if rtp_echo else [])],
        cwd=workdir, capture_output=True, text=True, timeout=timeout + 15, check=False)
    events = [ln.split(" ", 1)[1] for ln in log.read_text(errors="replace").splitlines() if ln.startswith("caller ")]
    return CallerResult(proc.returncode, events)
