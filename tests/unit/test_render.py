"""The Asterisk config templates render completely and keep AMI/ARI on loopback."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sandbox.render import AsteriskDirs, render_all
from warroom.compose import TEMPLATE_DIR, template_context
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets


def _render(tmp_path: Path, **ast: object) -> tuple[Path, Settings]:
    settings = with_secrets(Settings(state_dir=tmp_path / "state", asterisk=AsteriskSettings(**ast)))
    out = tmp_path / "etc"
    ctx = {**template_context(settings.asterisk), "dirs": AsteriskDirs.for_node("node1", "/mods")}
    render_all(TEMPLATE_DIR, out, ctx)
    return out, settings


def _section(text: str, name: str) -> str:
    match = re.search(rf"^\[{re.escape(name)}\][^\n]*\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert match, f"no [{name}] section"
    return match.group(1)


def test_every_template_renders_and_listens_on_loopback(tmp_path: Path) -> None:
    out, settings = _render(tmp_path, ami_port=25038, http_port=28088, sip_port=25060)
    names = {p.name for p in out.iterdir()}
    assert {"asterisk.conf", "modules.conf", "manager.conf", "http.conf", "ari.conf", "pjsip.conf",
            "extensions.conf", "rtp.conf", "logger.conf", "cdr.conf", "cdr_custom.conf"} <= names
    manager = (out / "manager.conf").read_text()
    general = _section(manager, "general")
    assert "bindaddr = 127.0.0.1" in general and "port = 25038" in general
    assert "#include warroom_manager.conf" in manager
    user = _section((out / "warroom_manager.conf").read_text(), "warroom")
    assert settings.asterisk.ami_secret is not None
    assert f"secret = {settings.asterisk.ami_secret.get_secret_value()}" in user
    assert "permit = 127.0.0.1/255.255.255.255" in user
    assert "bindaddr = 127.0.0.1" in (out / "http.conf").read_text()
    assert "bind = 127.0.0.1:25060" in (out / "pjsip.conf").read_text()
    assert "icesupport = no" in (out / "rtp.conf").read_text()
    assert "autoload = no" in (out / "modules.conf").read_text()
    assert "astrundir => /run/warroom/node1" in (out / "asterisk.conf").read_text()


def test_trunks_carry_their_line_count(tmp_path: Path) -> None:
    trunks = [TrunkSettings(name="lines", lines=30, inbound_reserved=4),
              TrunkSettings(name="bsnl", lines=10, host="127.0.0.2", port=5080)]
    out, _ = _render(tmp_path, trunks=trunks)
    pjsip = (out / "warroom_pjsip.conf").read_text()
    assert "#include warroom_pjsip.conf" in (out / "pjsip.conf").read_text()
    assert "device_state_busy_at = 30" in pjsip and "device_state_busy_at = 10" in pjsip
    assert "contact = sip:127.0.0.2:5080" in pjsip
    assert "30 lines, 4 kept for inbound" in pjsip


def test_standard_layout_for_a_real_deployment(tmp_path: Path) -> None:
    settings = with_secrets(Settings(state_dir=tmp_path / "state"))
    ctx = {**template_context(settings.asterisk, with_farm=False), "dirs": AsteriskDirs.standard()}
    render_all(TEMPLATE_DIR, tmp_path / "etc", ctx)
    conf = (tmp_path / "etc" / "asterisk.conf").read_text()
    assert "astetcdir => /etc/asterisk" in conf
    assert "[farm]" not in (tmp_path / "etc" / "warroom_pjsip.conf").read_text()


def test_no_secret_in_the_repository(tmp_path: Path) -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=TEMPLATE_DIR, capture_output=True, text=True,
                             check=True).stdout.split()
    root = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=TEMPLATE_DIR,
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in tracked:
        path = root / name
        if path.suffix in {".conf", ".j2", ".env", ".json", ".cfg"} and path.is_file():
            text = path.read_text(errors="replace")
            assert not re.search(r"^\s*(secret|password)\s*=\s*(?!\{\{)\S", text, re.M), name
