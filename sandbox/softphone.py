"""A simulated softphone: SIPp registers an operator's endpoint with a password (digest auth, answering
Asterisk's 401 challenge) and reports the final answer: 200 registered, 401/403 refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
</scenario>
"""


def scenario(user: str, password: str) -> str:
    """REGISTER, answer the 401 challenge with the digest, then note the final answer."""
    digest = f"      [authentication username={user} password={password}]\n"
    return SCENARIO.format(first=REGISTER.format(user=user, cseq=1, auth=""),
                           second=REGISTER.format(user=user, cseq=2, auth=digest))


def register(endpoint: str, password: str, *, sip_port: int, workdir: Path, local_port: int = 15095,
             timeout: float = 20.0) -> str:
    """Register once from ``local_port``; returns ``registered`` or ``refused`` (or what SIPp said when
    neither). Calls to the endpoint then go to that port (Asterisk takes the address the REGISTER came
    from), where a SIPp phone can be started to answer them."""
    workdir.mkdir(parents=True, exist_ok=True)
    if not endpoint.replace("-", "").replace("_", "").replace(".", "").isalnum() or any(c in password for c in "<>&] "):
        raise ValueError("endpoint and password must be plain tokens")
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
