"""The composition root's builders: each component gets its dependencies and settings here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from adapters.ami import AmiClient, AmiConfig
from adapters.ari import AriClient, AriConfig
from ari_handlers.ivr_call import IvrDeps
from ari_handlers.queue import OperatorQueue
from dialer.controller import DialerConfig
from dialer.lines import Trunk
from dialer.rules import CallingRules
from events.bus import EventBus
from ivr_scripts.library import ScriptLibrary
from operators.softphones import Softphones
from sandbox.asterisk import Sandbox
from sandbox.render import AsteriskDirs
from speech.prompts import PromptStore
from speech.synth import EspeakSynthesizer
from warroom.settings import REPO_ROOT, AsteriskSettings, Settings

TEMPLATE_DIR = REPO_ROOT / "config" / "asterisk"


def _secret(value: Any) -> str:
    if value is None:
        raise RuntimeError("secrets not loaded: use warroom.settings.load_settings()")
    return str(value.get_secret_value())


def template_context(ast: AsteriskSettings, *, with_farm: bool = True) -> dict[str, Any]:
    """What the config templates see."""
    return {
        "node": ast.node, "ami_port": ast.ami_port, "ami_user": ast.ami_user,
        "ami_secret": _secret(ast.ami_secret), "http_port": ast.http_port, "ari_user": ast.ari_user,
        "ari_password": _secret(ast.ari_password), "ari_app": ast.ari_app, "sip_port": ast.sip_port,
        "rtp_start": ast.rtp_start, "rtp_end": ast.rtp_end, "trunks": ast.trunks,
        "farm_port": ast.farm_port if with_farm else 0, "agi_host": ast.agi_host, "agi_port": ast.agi_port,
    }


def build_sandbox(ast: AsteriskSettings, echo: Callable[[str], None] = lambda _m: None,
                  template_dir: Path = TEMPLATE_DIR) -> Sandbox:
    return Sandbox(ast.node, ast.sandbox_cache, template_dir, template_context(ast), echo=echo)


@dataclass(frozen=True)
class IvrPaths:
    sounds: Path           # synthesised prompts, as this host sees them
    asterisk_sounds: str   # the same directory as Asterisk sees it
    recordings: Path       # Asterisk's recordings, as this host sees them


def ivr_paths(settings: Settings) -> IvrPaths:
    """Where prompts go and recordings come from: the settings, or the sandbox node's directories."""
    ivr, ast = settings.ivr, settings.asterisk
    dirs = AsteriskDirs.for_node(ast.node, "")
    root = ast.sandbox_cache / "rootfs"
    inner_sounds = f"{dirs.varlib}/sounds/warroom"
    sounds = ivr.sounds_dir or root / inner_sounds.lstrip("/")
    asterisk_sounds = ivr.asterisk_sounds_dir or (str(ivr.sounds_dir) if ivr.sounds_dir else inner_sounds)
    recordings = ivr.recordings_dir or root / f"{dirs.spool}/recording".lstrip("/")
    return IvrPaths(sounds, asterisk_sounds, recordings)


def build_softphones(settings: Settings, ami: AmiClient, ari: AriClient,
                     sessions: sessionmaker[Session]) -> Softphones:
    """Operators' endpoints, written into Asterisk's configuration directory (the sandbox node's by
    default, owned by its asterisk user)."""
    ast = settings.asterisk
    if ast.config_dir is not None:
        return Softphones(ami, ari, sessions, ast.config_dir)
    box = build_sandbox(ast)
    conf_dir = box.host_path(AsteriskDirs.for_node(ast.node, "").etc)
    owner = box.asterisk_ids() if (box.root / "etc/passwd").exists() else None
    return Softphones(ami, ari, sessions, conf_dir, owner=owner)


def script_library(settings: Settings) -> ScriptLibrary:
    """The built-in scripts plus the war room's own folder."""
    return ScriptLibrary([settings.ivr.scripts_dir] if settings.ivr.scripts_dir else [])


def build_ivr(settings: Settings, ari: AriClient, sessions: sessionmaker[Session],
              publish: Callable[[object], None] = lambda _e: None) -> IvrDeps:
    """Scripts, speech, the operators' queue: what every IVR call handler gets."""
    ivr = settings.ivr
    paths = ivr_paths(settings)
    library = script_library(settings)
    synth = EspeakSynthesizer(ivr.voices, rate=ivr.speech_rate)
    prompts = PromptStore(synth, paths.sounds, paths.asterisk_sounds, recorded_dir=ivr.prompts_dir)
    queue = OperatorQueue(ari, sessions, prompts)
    return IvrDeps(ari, sessions, library, prompts, queue, party=settings.directory.party,
                   default_language=ivr.default_language, hotline_script=ivr.hotline_script,
                   recordings_dir=paths.recordings, publish=publish)


def build_ami(ast: AsteriskSettings, bus: EventBus) -> AmiClient:
    return AmiClient(AmiConfig(ast.host, ast.ami_port, ast.ami_user, _secret(ast.ami_secret),
                               action_timeout=ast.action_timeout, ping_interval=ast.ping_interval,
                               reconnect_max=ast.reconnect_max), bus)


def build_ari(ast: AsteriskSettings, bus: EventBus) -> AriClient:
    return AriClient(AriConfig(ast.host, ast.http_port, ast.ari_user, _secret(ast.ari_password), ast.ari_app,
                               timeout=ast.action_timeout, reconnect_max=ast.reconnect_max), bus)


def calling_rules(settings: Settings) -> CallingRules:
    d = settings.dialer
    return CallingRules(window_start=time.fromisoformat(d.window_start), window_end=time.fromisoformat(d.window_end),
                        timezone=d.timezone, silence_hours=d.silence_hours, max_per_day=d.max_per_day,
                        min_gap=timedelta(minutes=d.min_gap_minutes))


def dialer_config(settings: Settings) -> DialerConfig:
    """The configured trunks only: the sandbox's test trunk (``farm``) is not a phone line the dialer
    counts, dials on or shows."""
    trunks = [Trunk(t.name, t.lines, t.inbound_reserved) for t in settings.asterisk.trunks]
    return DialerConfig(trunks=trunks, rules=calling_rules(settings), ring_timeout=settings.dialer.ring_timeout,
                        caller_id=settings.dialer.caller_id)
