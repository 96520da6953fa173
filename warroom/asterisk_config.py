"""What the Asterisk configuration templates see, built from the settings, and the war room's own files.

The sandbox renders every template (``config/asterisk/*.j2``); an existing Asterisk gets only the war room's
own files, ``warroom_*.conf``, which its configuration includes (:data:`INCLUDES`): ``warroom asterisk
render`` never writes a file of the PBX's own.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from adapters.ami_events import EVENTS_READ
from ops.asterisk_check import Layout
from sandbox.asterisk import SANDBOX_CERT
from sandbox.render import AsteriskDirs, render_all
from warroom.settings import REPO_ROOT, AsteriskSettings, SettingsProblem
from warroom.trunk_settings import TrunkSettings

TEMPLATE_DIR = REPO_ROOT / "config" / "asterisk"
OWN_PREFIX = "warroom_"
# the PBX's file -> the line that brings in ours (FreePBX: the *_custom.conf files its own files include)
INCLUDES = {
    "pjsip.conf": "#include warroom_pjsip.conf",
    "extensions.conf": "#include warroom_extensions.conf",
    "manager.conf": "#include warroom_manager.conf",
    "ari.conf": "#include warroom_ari.conf",
}
FREEPBX_INCLUDES = {"pjsip.conf": "pjsip_custom.conf", "extensions.conf": "extensions_custom.conf",
                    "manager.conf": "manager_custom.conf", "ari.conf": "ari_additional_custom.conf"}
# written by the running service into the same directory (included from warroom_pjsip.conf)
SERVICE_FILES = ("pjsip_operators.conf", "warroom_bans.conf")


def secret(value: SecretStr | None) -> str:
    if value is None:
        raise RuntimeError("secrets not loaded: use warroom.settings.load_settings()")
    return value.get_secret_value()


def trunk_view(t: TrunkSettings) -> dict[str, Any]:
    """One trunk as the templates use it (the password in clear: only ever written into 0640 files)."""
    if t.username and t.password is None:
        raise SettingsProblem(f"setting asterisk.trunks ({t.name}).password: trunk '{t.name}' has a username but "
                              f"no password: set {t.env_password}, or run `warroom trunks set-password {t.name}`")
    permit = [str(ipaddress.ip_network(a, strict=False)) for a in t.match]
    host = f"[{t.host}]" if ":" in t.host else t.host
    qualify = t.qualify
    return {
        "name": t.name, "kind": t.kind, "lines": t.lines, "inbound_reserved": t.inbound_reserved,
        "host": t.host, "uri_host": host, "port": t.port, "codecs": ",".join(t.codecs),
        "context": f"warroom-in-{t.name}" if t.dids else "warroom-inbound",
        "username": t.username or "", "password": t.password.get_secret_value() if t.password else "",
        "from_user": t.from_user or t.username or "", "from_domain": t.from_domain or "",
        "permit": permit, "match": ",".join(t.match) or t.host, "qualify": qualify,
        "qualify_timeout": round(min(3.0, max(0.5, qualify * 0.8)), 1), "registers": t.registers,
        "retry": t.retry_seconds, "expiry": t.expiry_seconds, "dids": dict(t.dids)}


def template_context(ast: AsteriskSettings, *, with_farm: bool = True) -> dict[str, Any]:
    """What the config templates see."""
    tls = {"port": ast.tls_port, "cert": str(ast.tls_cert), "key": str(ast.tls_key)} if ast.tls_cert else None
    return {
        "node": ast.node, "ami_port": ast.ami_port, "ami_user": ast.ami_user,
        "ami_secret": secret(ast.ami_secret), "ami_permit": ast.ami_permit, "http_port": ast.http_port,
        "ari_user": ast.ari_user, "ari_password": secret(ast.ari_password), "ari_app": ast.ari_app,
        "sip_port": ast.sip_port, "sip_bind": ast.sip_bind, "transport": ast.transport, "tls": tls,
        "rtp_start": ast.rtp_start, "rtp_end": ast.rtp_end, "trunks": [trunk_view(t) for t in ast.trunks],
        "farm_port": ast.farm_port if with_farm else 0, "agi_host": ast.agi_host, "agi_port": ast.agi_port,
        "webrtc": webrtc_context(ast), "sandbox_cert": SANDBOX_CERT, "ami_events": sorted(EVENTS_READ),
    }


def webrtc_context(ast: AsteriskSettings) -> dict[str, Any]:
    """The browser phones' HTTPS server: where it listens and its certificate (None: the sandbox's own)."""
    w = ast.webrtc
    host = f"[{w.bind}]" if ":" in w.bind else w.bind
    return {"enabled": w.enabled, "port": ast.https_port, "bind_address": f"{host}:{ast.https_port}",
            "cert": w.cert_file, "key": w.key_file}


def render_own(ast: AsteriskSettings, dest: Path, *, modules_dir: str, owner: tuple[int, int] | None = None,
               template_dir: Path = TEMPLATE_DIR) -> list[Path]:
    """Write the war room's own files (``warroom_*.conf``) for an existing Asterisk into ``dest``: nothing
    else there is touched (the PBX's own ``pjsip.conf``, ``extensions.conf``... stay byte for byte)."""
    context = {**template_context(ast, with_farm=False), "dirs": AsteriskDirs.standard(modules_dir)}
    return render_all(template_dir, dest, context, owner=owner, only=f"{OWN_PREFIX}*.j2")


def asterisk_layout(template_dir: Path = TEMPLATE_DIR) -> Layout:
    """What ``warroom asterisk check`` looks for in an existing Asterisk's configuration directory."""
    own = tuple(sorted(t.name[: -len(".j2")] for t in template_dir.glob(f"{OWN_PREFIX}*.j2")))
    return Layout(own_files=own, includes=dict(INCLUDES), freepbx=dict(FREEPBX_INCLUDES),
                  service_files=SERVICE_FILES)
