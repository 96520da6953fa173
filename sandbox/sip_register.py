"""A softphone registering (one SIPp REGISTER with digest authentication) from a chosen address: what a
scanner or a brute-forcer does, and what an operator's softphone does. The answer is the SIP status that
ended it (200 registered, 401 wrong password, 403 refused) or None when nothing answered."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:{user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 120
      User-Agent: warroom-test-softphone
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true" optional="true" next="auth"/>
  <recv response="403" next="forbidden" timeout="{timeout}" ontimeout="silent"/>
  <label id="auth"/>
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:{user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:{user}@[local_ip]:[local_port]>
      [authentication username={user} password={password}]
      Max-Forwards: 70
      Expires: 120
      User-Agent: warroom-test-softphone
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" optional="true" next="registered"/>
  <recv response="401" optional="true" next="unauthorized"/>
  <recv response="403" next="forbidden" timeout="{timeout}" ontimeout="silent"/>
  <label id="registered"/>
  <nop next="end"><action><log message="register 200"/></action></nop>
  <label id="unauthorized"/>
  <nop next="end"><action><log message="register 401"/></action></nop>
  <label id="forbidden"/>
  <nop next="end"><action><log message="register 403"/></action></nop>
  <label id="silent"/>
  <nop next="end"><action><log message="register none"/></action></nop>
  <label id="end"/>
</scenario>
"""
_SAFE = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")


def register(user: str, password: str, *, server: str, port: int, local_ip: str, local_port: int,
             workdir: Path, timeout_ms: int = 3000) -> int | None:
    """REGISTER ``user`` with ``password`` from ``local_ip`` (any 127.x address on this host); the final
    SIP status, or None when the server did not answer."""
    if not (_SAFE.match(user) and _SAFE.match(password)):
        raise ValueError("user and password: letters, digits and . _ + - only")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "register.xml").write_text(SCENARIO.format(user=user, password=password, timeout=timeout_ms))
    log = workdir / "register.log"
    log.write_text("")
    subprocess.run(["sipp", f"{server}:{port}", "-sf", "register.xml", "-m", "1", "-i", local_ip,
                    "-p", str(local_port), "-trace_logs", "-log_file", str(log), "-timeout", "20s", "-nostdin",
                    "-bind_local"],
                   cwd=workdir, capture_output=True, text=True, timeout=40, check=False)
    said = [ln.split(" ", 1)[1] for ln in log.read_text(errors="replace").splitlines() if ln.startswith("register ")]
    if not said or said[-1] == "none":
        return None
    return int(said[-1])
