"""Running ``warroom doctor`` as an admin would (a subprocess), with the settings of a test node."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from warroom.settings import REPO_ROOT, Settings


def doctor_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives ``warroom`` these settings (trunk passwords included: a test's)."""
    ast = settings.asterisk
    trunks = []
    for t in ast.trunks:
        item = t.model_dump(mode="json")
        item["password"] = t.password.get_secret_value() if t.password else None
        trunks.append(item)
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "PYTHONPATH": str(REPO_ROOT),
           "WARROOM_STATE_DIR": str(settings.state_dir),
           "WARROOM_DATABASE_URL": settings.resolved_database_url(), "WARROOM_ASTERISK__NODE": ast.node,
           "WARROOM_ASTERISK__AMI_PORT": str(ast.ami_port), "WARROOM_ASTERISK__HTTP_PORT": str(ast.http_port),
           "WARROOM_ASTERISK__SIP_PORT": str(ast.sip_port), "WARROOM_ASTERISK__FARM_PORT": str(ast.farm_port),
           "WARROOM_ASTERISK__AGI_PORT": str(ast.agi_port), "WARROOM_ASTERISK__SANDBOX_CACHE": str(ast.sandbox_cache),
           "WARROOM_ASTERISK__TRUNKS": json.dumps(trunks)}
    if settings.ivr.recordings_dir is not None:
        env["WARROOM_IVR__RECORDINGS_DIR"] = str(settings.ivr.recordings_dir)
    return {**env, **extra}


def run_doctor(settings: Settings, cwd: Path, *args: str, **env: str) -> dict[str, Any]:
    """``warroom doctor --json ARGS``: its report by check name, and its exit code under ``exit``."""
    res = subprocess.run([sys.executable, "-m", "warroom", "doctor", "--json", *args],
                         env=doctor_env(settings, **env), capture_output=True, text=True, timeout=180, check=False,
                         cwd=cwd)
    assert res.stdout.strip(), res.stderr
    out = json.loads(res.stdout)
    return {"exit": res.returncode, "ok": out["ok"], **{c["check"]: c for c in out["checks"]}}
