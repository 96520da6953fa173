"""The service's log: our INFO lines stay, the HTTP client's line per ARI request goes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# one ARI-like request through httpx (answered in-process), then one of our INFO lines
SCRIPT = """
import logging, sys
import httpx
from core.logs import configure

if sys.argv[1] == "quiet":
    configure("info")
else:
    logging.basicConfig(level="INFO")
client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[])))
client.get("http://127.0.0.1:8088/ari/channels")
logging.getLogger("adapters.ari").info("ARI link up: connected")
logging.getLogger("httpx").warning("a warning from httpx")
"""


def _stderr(mode: str) -> str:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60,
                          cwd=REPO, check=True)
    return proc.stderr


def test_serve_logging_hides_each_http_request_but_keeps_our_info_lines() -> None:
    # without the quieting, httpx writes a line for every request (what buried the service's log)
    assert "HTTP Request: GET http://127.0.0.1:8088/ari/channels" in _stderr("plain")
    log = _stderr("quiet")
    assert "HTTP Request" not in log, log
    assert "INFO adapters.ari: ARI link up: connected" in log, log
    assert "WARNING httpx: a warning from httpx" in log, log
