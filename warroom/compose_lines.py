"""The composition of the phone-line parts (issue: real lines): the trunks' health and how each trunk
dials, the SIP ban list, the softphones' access. :mod:`warroom.compose` calls these; they build only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.ami import AmiClient
from adapters.ari import AriClient
from db.engine import Database
from dialer.dialplans import DialPlan, GatewayPort
from events.bus import EventBus
from operators.softphones import Access
from sandbox.asterisk import Sandbox
from sandbox.render import AsteriskDirs
from sipguard.counter import GuardRules
from sipguard.service import SipGuard
from trunks.health import TrunkHealth, TrunkWatch
from trunks.monitor import TrunkMonitor, ari_endpoint_state
from warroom.settings import Settings
from warroom.trunk_settings import TrunkSettings


def asterisk_conf_dir(settings: Settings, sandbox: Sandbox) -> tuple[Path, tuple[int, int] | None]:
    """Where the service writes Asterisk configuration of its own (softphones, bans), and who must own it:
    ``WARROOM_ASTERISK__CONFIG_DIR``, or the sandbox node's directory (owned by its asterisk user)."""
    ast = settings.asterisk
    if ast.config_dir is not None:
        return ast.config_dir, None
    conf_dir = sandbox.host_path(AsteriskDirs.for_node(ast.node, "").etc)
    owner = sandbox.asterisk_ids() if (sandbox.root / "etc/passwd").exists() else None
    return conf_dir, owner


def softphone_access(settings: Settings) -> Access:
    """Softphones use the transport they registered on when TLS is offered, and may come only from the
    operators' networks."""
    ast = settings.asterisk
    return Access(transport="" if ast.tls_cert else ast.transport, networks=tuple(ast.operator_networks))


def uris(t: TrunkSettings) -> tuple[str, str]:
    """A registering trunk's client and server URIs, exactly as ``warroom_pjsip.conf`` renders them."""
    host = f"[{t.host}]" if ":" in t.host else t.host
    return f"sip:{t.username}@{host}:{t.port}", f"sip:{host}:{t.port}"


def trunk_watches(settings: Settings) -> list[TrunkWatch]:
    """What to expect of each trunk: whether it registers (and as whom), whether it is pinged."""
    watches = []
    for t in settings.asterisk.trunks:
        client, server = uris(t)
        watches.append(TrunkWatch(t.name, registers=t.registers, client_uri=client if t.registers else "",
                                  server_uri=server, qualified=t.qualify > 0))
    return watches


def trunk_health(settings: Settings) -> TrunkHealth:
    return TrunkHealth(trunk_watches(settings))


def build_trunk_monitor(settings: Settings, ami: AmiClient, ari: AriClient, bus: EventBus,
                        health: TrunkHealth) -> TrunkMonitor:
    return TrunkMonitor(health, ami, bus, ari_endpoint_state(ari.request))


def dial_plans(settings: Settings) -> dict[str, DialPlan]:
    """How each trunk dials: its prefix, number format, gateway ports and caller ID."""
    return {t.name: DialPlan(t.name, t.dial_prefix, t.number_format,
                             tuple(GatewayPort(p.prefix, p.port) for p in t.ports), t.host, t.caller_id)
            for t in settings.asterisk.trunks}


def build_sip_guard(settings: Settings, db: Database, bus: EventBus, ami: AmiClient, sandbox: Sandbox) -> SipGuard:
    g = settings.sip_guard
    never = (*g.never_ban, *(net for t in settings.asterisk.trunks for net in t.match))
    rules = GuardRules(max_failures=g.max_failures, window=timedelta(seconds=g.window_seconds),
                       ban_for=timedelta(seconds=g.ban_seconds), never_ban=tuple(never))
    conf_dir, owner = asterisk_conf_dir(settings, sandbox)

    async def reload() -> None:
        await ami.reload_module("res_pjsip.so")

    return SipGuard(db, bus, reload, conf_dir, rules, owner=owner)


def missed_call_numbers(settings: Settings) -> dict[str, str]:
    """DID -> the campaign whose missed-call number it is."""
    return {did: target.split(":", 1)[1].strip() for t in settings.asterisk.trunks
            for did, target in t.dids.items() if target.startswith("missed_call:")}
