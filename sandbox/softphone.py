"""A simulated softphone: SIPp registers an operator's endpoint with a password (digest auth, answering
Asterisk's 401 challenge) and reports the final answer: 200 registered, 401/403 refused (``register``, once).
``Softphone`` is one kept running in the background: it registers again and again and answers every call."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from sandbox.phonefarm import alive, stop_sipp

REGISTER = """  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]reg[call_number]
      To: <sip:{user}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:{user}@[local_ip]:[local_port]>
{auth}      Max-Forwards: 70
      Expires: 120
      User-Agent: warroom-test-softphone
      Content-Length: 0

    ]]>
  </send>
"""

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="softphone registration">
{first}  <recv response="401" auth="true"/>
{second}  <recv response="200" optional="true" next="ok"/>
  <recv response="401" optional="true" next="refused"/>
  <recv response="403" next="refused"/>
  <label id="ok"/>
  <nop next="end"><action><log message="softphone registered"/></action></nop>
  <label id="refused"/>
  <nop><action><log message="softphone refused"/></action></nop>
  <label id="end"/>
{then}</scenario>
"""


def scenario(user: str, password: str, then_wait_ms: int = 0) -> str:
    """REGISTER, answer the 401 challenge with the digest, then note the final answer (and wait
    ``then_wait_ms``: a softphone's SIPp starts the next registration when this one ends)."""
    digest = f"      [authentication username={user} password={password}]\n"
    return SCENARIO.format(first=REGISTER.format(user=user, cseq=1, auth=""),
                           second=REGISTER.format(user=user, cseq=2, auth=digest),
                           then=f'  <pause milliseconds="{then_wait_ms}"/>\n' if then_wait_ms else "")


def check_tokens(endpoint: str, password: str) -> None:
    """Both go into a scenario file: plain tokens only."""
    if not endpoint.replace("-", "").replace("_", "").replace(".", "").isalnum() or any(c in password for c in "<>&] "):
        raise ValueError("endpoint and password must be plain tokens")


def register(endpoint: str, password: str, *, sip_port: int, workdir: Path, local_port: int = 15095,
             timeout: float = 20.0) -> str:
    """Register once from ``local_port``; returns ``registered`` or ``refused`` (or what SIPp said when
    neither). Calls to the endpoint then go to that port (Asterisk takes the address the REGISTER came
    from), where a SIPp phone can be started to answer them."""
    workdir.mkdir(parents=True, exist_ok=True)
    check_tokens(endpoint, password)
    (workdir / "register.xml").write_text(scenario(endpoint, password))
    log = workdir / "register.log"
    log.write_text("")
    proc = subprocess.run(
        ["sipp", f"127.0.0.1:{sip_port}", "-sf", "register.xml", "-m", "1",
         "-i", "127.0.0.1", "-p", str(local_port), "-trace_logs", "-log_file", str(log), "-nostdin",
         "-timeout", f"{int(timeout)}s", "-timeout_error"],
        cwd=workdir, capture_output=True, text=True, timeout=timeout + 10, check=False)
    text = log.read_text(errors="replace")
    if "softphone registered" in text:
        return "registered"
    if "softphone refused" in text:
        return "refused"
    return f"no answer (sipp exit {proc.returncode}): {(proc.stdout + proc.stderr)[-300:]}"


RESPONSE = """  <send{attrs}>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]{tag}
      [last_Call-ID:]
      {cseq}
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{body}
    ]]>
  </send>
"""
SDP = """      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=operator 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv"""
NO_BODY = "      Content-Length: 0\n"
OUR_BYE = """  <send retrans="500">
    <![CDATA[
      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$to_hdr];tag=[pid]op[call_number]
      To: [$from_hdr]
      [last_Call-ID:]
      CSeq: 2 BYE
      Max-Forwards: 70
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
"""


def _reply(status: str, *, tag: bool = True, body: str = NO_BODY, cseq: str = "[last_CSeq:]",
           attrs: str = "") -> str:
    return RESPONSE.format(status=status, tag=";tag=[pid]op[call_number]" if tag else "", cseq=cseq, body=body,
                           attrs=attrs)


def answer_scenario(*, ring_ms: int, hold_ms: int) -> str:
    """What the softphone does with each call (SIPp's out-of-call scenario): ring ``ring_ms``, answer, hang
    up after ``hold_ms`` unless the other side does first. Log lines: ``softphone <call-id> <event>``."""
    def log(event: str) -> str:
        return f'<action><log message="softphone [call_id] {event}"/></action>'

    return "".join([
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="operator softphone answering">\n',
        '  <recv request="INVITE">\n    <action>\n'
        '      <ereg regexp="(sips?:[^&gt;; ]+)" search_in="hdr" header="Contact:" assign_to="junk,contact"/>\n'
        '      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from_hdr"/>\n'
        '      <ereg regexp="^[^;]*" search_in="hdr" header="To:" assign_to="to_hdr"/>\n'
        '      <ereg regexp="([0-9]+)" search_in="hdr" header="CSeq:" assign_to="junk2,invite_cseq"/>\n'
        '      <log message="softphone [call_id] ringing"/>\n    </action>\n  </recv>\n',
        _reply("180 Ringing"),
        f'  <recv request="CANCEL" timeout="{max(1, ring_ms)}" ontimeout="answer" next="cancelled"/>\n',
        '  <label id="answer"/>\n', _reply("200 OK", body=SDP, attrs=' retrans="500"'),
        f'  <recv request="ACK">{log("answered")}</recv>\n',
        f'  <recv request="BYE" timeout="{max(1, hold_ms)}" ontimeout="our_bye" next="far_bye"/>\n',
        '  <label id="our_bye"/>\n', OUR_BYE, f'  <recv response="200" next="end">{log("hung_up")}</recv>\n',
        f'  <label id="far_bye"/>\n  <nop>{log("far_bye")}</nop>\n',
        _reply("200 OK", tag=False, attrs=' next="end"'),
        f'  <label id="cancelled"/>\n  <nop>{log("cancelled")}</nop>\n', _reply("200 OK", tag=False),
        _reply("487 Request Terminated", cseq="CSeq: [$invite_cseq] INVITE"),
        '  <recv request="ACK" next="end"/>\n',
        '  <label id="end"/>\n  <Reference variables="junk,junk2"/>\n</scenario>\n'])


class Softphone:
    """An operator's simulated softphone, kept running in the background: one SIPp process registers the
    endpoint from ``port`` (where Asterisk then sends its calls), at once and again ``every`` seconds after
    each answer, and answers every call there (:func:`answer_scenario`). ``start`` returns once the first
    registration is answered."""

    def __init__(self, endpoint: str, password: str, *, sip_port: int, workdir: Path, port: int, media_port: int,
                 ring_ms: int = 1000, hold_ms: int = 20_000, every: int = 60) -> None:
        check_tokens(endpoint, password)
        if not 10 <= every <= 100:
            raise ValueError("re-register every 10 to 100 s (registrations last 120 s)")
        self.endpoint, self.password, self.sip_port, self.workdir = endpoint, password, sip_port, workdir
        self.port, self.media_port, self.ring_ms, self.hold_ms, self.every = port, media_port, ring_ms, hold_ms, every
        self.pid: int | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "softphone.log"

    def command(self) -> list[str]:
        """SIPp: the registrations are its calls, one "user" making them one after the other (the first at
        once, each ending ``every`` seconds after its answer); the calls it is sent are out-of-call messages,
        answered by the out-of-call scenario."""
        return ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", "register.xml", "-oocsf", "answer.xml",
                "-i", "127.0.0.1", "-p", str(self.port), "-mi", "127.0.0.1", "-mp", str(self.media_port),
                "-users", "1", "-bg", "-trace_logs", "-log_file", str(self.log_path)]

    def start(self, timeout: float = 20.0) -> str:
        """Start SIPp; returns ``registered`` (it keeps running) or why not (then it is stopped)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "register.xml").write_text(scenario(self.endpoint, self.password, self.every * 1000))
        (self.workdir / "answer.xml").write_text(answer_scenario(ring_ms=self.ring_ms, hold_ms=self.hold_ms))
        self.log_path.write_text("")
        out = subprocess.run(self.command(), cwd=self.workdir, capture_output=True, text=True, timeout=15,
                             check=False, start_new_session=True)
        match = re.search(r"PID=\[(\d+)\]", out.stdout + out.stderr)
        if not match:
            return f"SIPp did not start (exit {out.returncode}): {(out.stdout + out.stderr)[-300:]}"
        self.pid = int(match.group(1))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive(self.pid):
            text = self.log_path.read_text(errors="replace")
            if "softphone registered" in text:
                return "registered"
            if "softphone refused" in text:
                break
            time.sleep(0.1)
        text = self.log_path.read_text(errors="replace")
        self.stop()
        return "refused" if "softphone refused" in text else f"no answer from 127.0.0.1:{self.sip_port}"

    def stop(self) -> None:
        if self.pid is not None:
            stop_sipp(self.pid)
        self.pid = None

    def events(self) -> list[tuple[str, str]]:
        """(call id, event) of every call it was sent: ringing, answered, hung_up, far_bye, cancelled."""
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return [(parts[1], parts[2]) for parts in (ln.split(" ", 2) for ln in lines)
                if len(parts) == 3 and parts[0] == "softphone"]
