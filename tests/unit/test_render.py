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
    filters = re.findall(r"^eventfilter\(action\(include\),name\((\w+)\)\) =$", user, re.M)
    assert {"Newchannel", "Newstate", "Hangup", "OriginateResponse", "InvalidPassword"} <= set(filters)
    assert "Newexten" not in filters and len(filters) == len(set(filters))
    assert "bindaddr = 127.0.0.1" in (out / "http.conf").read_text()
    assert "bind = 127.0.0.1:25060" in (out / "pjsip.conf").read_text()
    assert "icesupport = yes" in (out / "rtp.conf").read_text()  # for browser phones only, no STUN/TURN
    assert "stunaddr" not in (out / "rtp.conf").read_text() and "turnaddr" not in (out / "rtp.conf").read_text()
    assert "tlsbindaddr = 127.0.0.1:28089" in (out / "http.conf").read_text()
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


def _existing_asterisk(tmp_path: Path) -> Path:
    """An existing PBX's configuration directory, FreePBX-like: its own files include *_custom.conf."""
    etc = tmp_path / "asterisk"
    etc.mkdir()
    (etc / "pjsip.conf").write_bytes(b"; the PBX's own\r\n[transport-udp]\r\ntype=transport\r\n"
                                     b"#include pjsip_custom.conf\r\n")
    (etc / "extensions.conf").write_bytes(b"[from-internal]\nexten => 100,1,Dial(PJSIP/100)\n")
    (etc / "manager.conf").write_text("[general]\nenabled = yes\n#tryinclude manager_custom.conf\n")
    (etc / "ari.conf").write_text("[general]\nenabled = no\n")
    (etc / "http.conf").write_text("[general]\nenabled=yes\n")
    (etc / "modules.conf").write_text("[modules]\nautoload=yes\nnoload => res_pjsip_acl.so\n")
    (etc / "pjsip_custom.conf").write_text("")
    return etc


def test_rendering_for_an_existing_asterisk_leaves_its_own_files_byte_identical(tmp_path: Path) -> None:
    from warroom.asterisk_config import render_own

    etc = _existing_asterisk(tmp_path)
    before = {p.name: p.read_bytes() for p in etc.iterdir()}
    settings = with_secrets(Settings(state_dir=tmp_path / "state"))
    written = render_own(settings.asterisk, etc, modules_dir="/mods")
    assert sorted(p.name for p in written) == ["warroom_ari.conf", "warroom_extensions.conf", "warroom_manager.conf",
                                              "warroom_pjsip.conf"]
    assert {p.name: p.read_bytes() for p in etc.iterdir() if p.name in before} == before
    assert "[farm]" not in (etc / "warroom_pjsip.conf").read_text()  # the sandbox's test trunk stays out
    assert "[transport-udp]" not in (etc / "warroom_pjsip.conf").read_text()  # transports are the PBX's


def test_check_says_which_includes_modules_and_settings_are_missing(tmp_path: Path) -> None:
    from ops.asterisk_check import check
    from warroom.asterisk_config import asterisk_layout, render_own

    etc = _existing_asterisk(tmp_path)
    settings = with_secrets(Settings(state_dir=tmp_path / "state"))
    layout = asterisk_layout()
    first = {c.check: c for c in check(etc, layout, asterisk_ids=None)}
    assert not first["war room files"].ok and "warroom asterisk render" in first["war room files"].fix
    render_own(settings.asterisk, etc, modules_dir="/mods")
    (etc / "pjsip_custom.conf").write_text("#include warroom_pjsip.conf\n")  # FreePBX's way: through *_custom
    (etc / "manager_custom.conf").write_text("#include warroom_manager.conf\n")
    found = {c.check: c for c in check(etc, layout, asterisk_ids=None)}
    assert found["war room files"].ok
    assert found["pjsip.conf includes warroom_pjsip.conf"].ok and found["manager.conf includes warroom_manager.conf"].ok
    missing = found["extensions.conf includes warroom_extensions.conf"]
    assert not missing.ok and missing.fix == ("add the line `#include warroom_extensions.conf` to extensions.conf "
                                              "(FreePBX: extensions_custom.conf, which extensions.conf includes)")
    assert not found["ari.conf [general] enabled"].ok and found["http.conf [general] enabled"].ok
    assert not found["modules"].ok and "res_pjsip_acl.so" in found["modules"].detail
    assert "chan_pjsip.so" not in found["modules"].detail  # autoload loads the rest
    (etc / "warroom_ari.conf").chmod(0o644)
    perms = {c.check: c for c in check(etc, layout, asterisk_ids=(4242, 4242))}
    assert "readable by everyone" in perms["warroom_ari.conf permissions"].detail
    assert "Asterisk (uid 4242) cannot read it" in perms["warroom_ari.conf permissions"].detail


def test_sip_over_tls_for_softphones_when_a_certificate_is_given(tmp_path: Path) -> None:
    from warroom.compose_lines import softphone_access

    out, settings = _render(tmp_path, tls_cert="/etc/warroom/tls/fullchain.pem", tls_key="/etc/warroom/tls/key.pem",
                            sip_bind="0.0.0.0")
    tls = _section((out / "warroom_pjsip.conf").read_text(), "warroom-tls")
    assert "protocol = tls" in tls and "bind = 0.0.0.0:5061" in tls
    assert "cert_file = /etc/warroom/tls/fullchain.pem" in tls and "priv_key_file = /etc/warroom/tls/key.pem" in tls
    assert softphone_access(settings).transport == ""  # softphones answer on the transport they registered on
    plain, _ = _render(tmp_path / "plain")
    assert "[warroom-tls]" not in (plain / "warroom_pjsip.conf").read_text()
