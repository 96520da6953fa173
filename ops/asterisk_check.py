"""``warroom asterisk check --dest DIR``: is an existing Asterisk's configuration directory ready for the war
room? Our own files (``warroom_*.conf``) there, the include lines that bring them in (followed through the
PBX's own ``#include``s, so FreePBX's ``*_custom.conf`` count), ARI and its HTTP server enabled, the modules
we need loaded by ``modules.conf``, and the permissions (our files hold secrets: Asterisk reads them, nobody
else; the service writes its softphones and bans next to them)."""

from __future__ import annotations

import glob
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ops.doctor import Check

# the modules the war room's configuration and calls use (Asterisk 20/22 names)
REQUIRED_MODULES = (
    "res_pjsip.so", "chan_pjsip.so", "res_pjsip_session.so", "res_pjsip_sdp_rtp.so",
    "res_pjsip_authenticator_digest.so", "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_outbound_registration.so", "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so", "res_pjsip_registrar.so", "res_pjsip_acl.so",
    "res_pjsip_header_funcs.so", "res_pjsip_caller_id.so", "res_rtp_asterisk.so", "codec_ulaw.so", "codec_alaw.so",
    "pbx_config.so", "app_dial.so", "app_stasis.so", "app_stack.so", "app_db.so", "app_mixmonitor.so",
    "app_chanspy.so", "func_db.so", "func_cut.so", "func_hangupcause.so", "func_channel.so", "func_callerid.so",
    "func_cdr.so", "func_groupcount.so", "res_agi.so", "res_stasis.so", "res_stasis_playback.so",
    "res_stasis_recording.so", "res_stasis_snoop.so", "res_stasis_answer.so", "res_http_websocket.so",
    "res_ari.so", "res_ari_channels.so", "res_ari_bridges.so", "res_ari_applications.so", "res_ari_asterisk.so",
    "res_ari_endpoints.so", "res_ari_events.so", "res_ari_playbacks.so", "res_ari_recordings.so",
    "bridge_simple.so", "bridge_softmix.so", "bridge_holding.so", "format_wav.so", "format_gsm.so")
_INCLUDE = re.compile(r'^\s*#\s*(try)?include\s+"?([^"\s]+)"?', re.I)


@dataclass(frozen=True)
class Layout:
    """What to look for: our files' names and, for each of the PBX's files, the line that includes ours."""

    own_files: tuple[str, ...]
    includes: dict[str, str]              # pbx file -> our include line
    freepbx: dict[str, str]               # pbx file -> the FreePBX file to put the line in instead
    service_files: tuple[str, ...]        # files the running service writes there


def check(conf_dir: Path, layout: Layout, *, asterisk_ids: tuple[int, int] | None,
          modules_dir: Path | None = None) -> list[Check]:
    if not conf_dir.is_dir():
        return [Check("configuration directory", False, f"{conf_dir} is not a directory",
                      "give Asterisk's configuration directory (/etc/asterisk)")]
    out = [_own_files(conf_dir, layout)]
    out += [_include(conf_dir, pbx_file, line, layout.freepbx.get(pbx_file)) for pbx_file, line in
            layout.includes.items()]
    out += [_enabled(conf_dir, "http.conf", "general", "enabled", "Asterisk's HTTP server (ARI runs on it)"),
            _enabled(conf_dir, "ari.conf", "general", "enabled", "ARI")]
    out.append(_modules(conf_dir, modules_dir))
    out += _permissions(conf_dir, layout, asterisk_ids)
    return out


def _own_files(conf_dir: Path, layout: Layout) -> Check:
    missing = [name for name in layout.own_files if not (conf_dir / name).is_file()]
    if missing:
        return Check("war room files", False, f"missing in {conf_dir}: {', '.join(missing)}",
                     f"warroom asterisk render --dest {conf_dir}")
    return Check("war room files", True, ", ".join(layout.own_files))


def included(conf_dir: Path, start: str, target: str, seen: set[Path] | None = None) -> bool:
    """Whether ``start`` (a file in ``conf_dir``), or a file it includes, includes ``target``."""
    seen = seen if seen is not None else set()
    path = conf_dir / start
    if path in seen or not path.is_file():
        return False
    seen.add(path)
    for line in path.read_text(errors="replace").splitlines():
        m = _INCLUDE.match(line)
        if not m:
            continue
        name = m.group(2)
        if Path(name).name == target:
            return True
        pattern = name if os.path.isabs(name) else str(conf_dir / name)
        for found in sorted(glob.glob(pattern)):
            found_path = Path(found)
            if found_path.parent == conf_dir and included(conf_dir, found_path.name, target, seen):
                return True
    return False


def _include(conf_dir: Path, pbx_file: str, line: str, freepbx: str | None) -> Check:
    target = line.split()[-1]
    name = f"{pbx_file} includes {target}"
    if not (conf_dir / pbx_file).is_file():
        return Check(name, False, f"no {pbx_file} in {conf_dir}", f"create {pbx_file} with the line: {line}")
    if included(conf_dir, pbx_file, target):
        return Check(name, True, "yes")
    where = f"{pbx_file}" + (f" (FreePBX: {freepbx}, which {pbx_file} includes)" if freepbx else "")
    return Check(name, False, f"{pbx_file} does not include {target}", f"add the line `{line}` to {where}")


def _settings(conf_dir: Path, start: str, seen: set[Path] | None = None) -> Iterable[tuple[str, str, str]]:
    """(section, name, value) of a config file and the files it includes, in order."""
    seen = seen if seen is not None else set()
    path = conf_dir / start
    if path in seen or not path.is_file():
        return
    seen.add(path)
    section = ""
    for raw in path.read_text(errors="replace").splitlines():
        m = _INCLUDE.match(raw)
        if m:
            for found in sorted(glob.glob(str(conf_dir / m.group(2)))):
                yield from _settings(conf_dir, Path(found).name, seen)
            continue
        line = raw.split(";", 1)[0].strip()
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            section = header.group(1)
        elif "=" in line:
            key, _, value = line.partition("=")
            yield section, key.strip().lower(), value.strip().lstrip(">").strip()


def _enabled(conf_dir: Path, file: str, section: str, key: str, what: str) -> Check:
    values = [v for s, k, v in _settings(conf_dir, file) if s == section and k == key]
    if values and values[-1].lower() in ("yes", "true", "1", "on"):
        return Check(f"{file} [{section}] {key}", True, f"{what} enabled")
    return Check(f"{file} [{section}] {key}", False, f"{what} is not enabled",
                 f"in {file}, section [{section}]: {key} = yes")


def _modules(conf_dir: Path, modules_dir: Path | None) -> Check:
    settings = [(k, v) for s, k, v in _settings(conf_dir, "modules.conf") if s == "modules"]
    autoload = next((v.lower() in ("yes", "true", "1") for k, v in reversed(settings) if k == "autoload"), False)
    loaded = {v for k, v in settings if k in ("load", "require", "preload", "preload-require")}
    noload = {v for k, v in settings if k == "noload"}
    missing = [m for m in REQUIRED_MODULES if (m in noload) or (not autoload and m not in loaded)]
    if modules_dir is not None and modules_dir.is_dir():
        missing += [f"{m} (not installed)" for m in REQUIRED_MODULES if not (modules_dir / m).exists()]
    if missing:
        return Check("modules", False, f"not loaded: {', '.join(missing)}",
                     "in modules.conf: load => each of them (or autoload = yes without noload of them); install "
                     "the Asterisk packages that hold those not installed; then `core restart gracefully`")
    return Check("modules", True, f"the {len(REQUIRED_MODULES)} modules the war room uses are loaded"
                                  + (" (autoload)" if autoload else ""))


def _permissions(conf_dir: Path, layout: Layout, asterisk_ids: tuple[int, int] | None) -> list[Check]:
    out = []
    for name in layout.own_files:
        path = conf_dir / name
        if not path.is_file():
            continue
        st = path.stat()
        problems = []
        if st.st_mode & stat.S_IROTH:
            problems.append("readable by everyone (it holds secrets)")
        if asterisk_ids is not None and asterisk_ids[0] != 0:
            uid, gid = asterisk_ids
            readable = (st.st_uid == uid and st.st_mode & stat.S_IRUSR) or \
                (st.st_gid == gid and st.st_mode & stat.S_IRGRP)
            if not readable:
                problems.append(f"Asterisk (uid {uid}) cannot read it")
        if problems:
            owner = f"{asterisk_ids[0]}:{asterisk_ids[1]}" if asterisk_ids else "asterisk:asterisk"
            out.append(Check(f"{name} permissions", False, "; ".join(problems), f"chown {owner} {path} && "
                                                                                   f"chmod 0640 {path}"))
    if not os.access(conf_dir, os.W_OK):
        out.append(Check("service may write its files", False,
                         f"this user cannot write {conf_dir} ({', '.join(layout.service_files)})",
                         f"run the check as the service's user; give it write access: chgrp asterisk {conf_dir} && "
                         f"chmod g+w {conf_dir}, the service's user in group asterisk"))
    if not out:
        out.append(Check("permissions", True, "our files readable by Asterisk only; the service may write its own"))
    return out
