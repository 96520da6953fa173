"""The composition root: every component is built here from the settings, with its dependencies passed
into its constructor. :func:`build_service` is the one way to build the running service: ``warroom serve``,
the integration harnesses and the benchmarks all call it (tests pass a clock or other Stasis handlers in,
never patch a built object)."""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from fastapi import FastAPI

from accounts.service import UserService
from adapters.ami import AmiClient, AmiConfig
from adapters.ari import AriClient, AriConfig
from ari_handlers.app import HandlerFactory, StasisApp
from ari_handlers.broadcast_call import BroadcastDeps, broadcast_factory
from ari_handlers.dispatch import AgentLeg, Dispatcher
from ari_handlers.factories import ivr_factories
from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.missed_call import missed_call_factory
from ari_handlers.prepare import prepare_call
from ari_handlers.progressive import Pacing, ProgressiveCall, ProgressiveFigures
from ari_handlers.queue import OperatorQueue
from ari_handlers.recorder import CallRecorder
from cluster.figures import FiguresPublisher, RemoteFigures
from cluster.nodes import NodeInfo
from cluster.peers import PeerTrunks
from cluster.presence import SoftphonePresence
from cluster.registry import NodeRegistry
from cluster.relay import EventRelay
from db.engine import Database
from db.models import utcnow
from dialer.controller import Dialer, DialerConfig
from dialer.lines import Trunk
from dialer.predictive import PacerConfig, PredictivePacer
from dialer.rules import CallingRules
from dialer.sync import DirectorySync
from directory.status import StatusRules
from events.bus import EventBus
from hotline.agi import AgiLimits, IdentifyServer
from hotline.lookup import identify
from ivr_scripts.library import ScriptLibrary
from operators.listen import ListenIn
from operators.pacing_service import PacingService
from operators.softphones import BrowserPhones, Softphones
from pollday.service import PollDayService
from privacy.job import RetentionJob
from privacy.retention import RetentionPolicy
from privacy.service import PrivacyService
from reports.shifts import parse_shifts
from sandbox.asterisk import Sandbox
from sandbox.render import AsteriskDirs
from speech.prompts import PromptStore
from speech.synth import EspeakSynthesizer
from tickets.service import TicketService
from warroom.asterisk_config import TEMPLATE_DIR, template_context
from warroom.asterisk_config import secret as _secret
from warroom.compose_lines import (
    asterisk_conf_dir,
    build_sip_guard,
    build_trunk_monitor,
    dial_plans,
    missed_call_numbers,
    softphone_access,
    trunk_health,
)
from warroom.compose_outreach import build_broadcaster, build_messages, build_outreach
from warroom.service import Service
from warroom.settings import AsteriskSettings, Settings
from web.app import create_app
from web.auth import Auth, AuthConfig
from web.services import PagesConfig, PhoneServer, WebServices, web_services


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


def cdr_dir(settings: Settings) -> Path:
    """Asterisk's log directory (its CDR files) as this host sees it: the setting, or the sandbox node's."""
    ast = settings.asterisk
    if ast.cdr_dir is not None:
        return ast.cdr_dir
    return ast.sandbox_cache / "rootfs" / AsteriskDirs.for_node(ast.node, "").log.lstrip("/")


def build_privacy(settings: Settings, db: Database) -> PrivacyService:
    """Erasure and retention over the database, Asterisk's recordings and its CDR files."""
    p = settings.privacy
    return PrivacyService(db, recordings_dir=ivr_paths(settings).recordings, cdr_dir=cdr_dir(settings),
                          policy=RetentionPolicy(p.recordings_days, p.phones_days, p.election_date))


def build_softphones(settings: Settings, ami: AmiClient, ari: AriClient, db: Database) -> Softphones:
    """Operators' endpoints, written into Asterisk's configuration directory (the sandbox node's by
    default, owned by its asterisk user)."""
    conf_dir, owner = asterisk_conf_dir(settings, build_sandbox(settings.asterisk))
    return Softphones(ami, ari, db, conf_dir, owner=owner, node=settings.asterisk.node,
                      access=softphone_access(settings), browser=browser_phones(settings.asterisk))

def browser_phones(ast: AsteriskSettings) -> BrowserPhones | None:
    """Browser phones' media: on the HTTPS server's one address when it listens on one (the sandbox's
    loopback), else on every interface."""
    w = ast.webrtc
    if not w.enabled:
        return None
    wildcard = w.bind in ("0.0.0.0", "::", "[::]")
    return BrowserPhones(media_address=None if wildcard else w.bind)


def script_library(settings: Settings) -> ScriptLibrary:
    """The built-in scripts plus the war room's own folder."""
    return ScriptLibrary([settings.ivr.scripts_dir] if settings.ivr.scripts_dir else [])


def build_ivr(settings: Settings, ari: AriClient, db: Database, publish: Callable[[object], None] = lambda _e: None,
              clock: Callable[[], datetime] = utcnow) -> IvrDeps:
    """Scripts, speech, the operators' queue: what every IVR call handler gets."""
    ivr = settings.ivr
    paths = ivr_paths(settings)
    library = script_library(settings)
    synth = EspeakSynthesizer(ivr.voices, rate=ivr.speech_rate)
    prompts = PromptStore(synth, paths.sounds, paths.asterisk_sounds, recorded_dir=ivr.prompts_dir)
    queue = OperatorQueue(ari, db, prompts, clock=clock)
    tickets = TicketService(db, publish, recordings_dir=paths.recordings)
    return IvrDeps(ari, db, library, prompts, queue, tickets, party=settings.directory.party,
                   default_language=ivr.default_language, hotline_script=ivr.hotline_script,
                   recordings_dir=paths.recordings, clock=clock, publish=publish)


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
    trunks = [Trunk(t.name, t.lines, t.inbound_reserved, len(t.ports)) for t in settings.asterisk.trunks]
    d, c = settings.dialer, settings.cluster
    return DialerConfig(trunks=trunks, rules=calling_rules(settings), ring_timeout=d.ring_timeout,
                        caller_id=d.caller_id, settle_seconds=d.settle_seconds, poll_interval=d.poll_interval,
                        reconcile_grace=d.reconcile_grace, sweep_after=d.sweep_after_seconds,
                        node=settings.asterisk.node, lease=c.lease_seconds, max_call_seconds=c.max_call_seconds,
                        plans=dial_plans(settings), ready_ahead=d.ready_ahead, ready_max_age=d.ready_max_age)


def pacer_config(settings: Settings) -> PacerConfig:
    d = settings.dialer
    return PacerConfig(ratio=d.operator_ratio, window=timedelta(minutes=d.predictive_window_minutes),
                       min_answered=d.predictive_min_answered, min_operators=d.predictive_min_operators,
                       grace=max(0.0, d.predictive_abandon_seconds - d.predictive_handover_seconds),
                       wrap_seconds=settings.http.wrap_up_seconds, timezone=d.timezone, node=settings.asterisk.node)


def build_service(settings: Settings, *, clock: Callable[[], datetime] = utcnow,
                  stasis: dict[str, HandlerFactory] | None = None) -> Service:
    """The whole service of one node, wired. ``clock`` is the dialer's and the IVR's time (tests run a
    daytime clock); ``stasis`` replaces entries of the Stasis handler table (a benchmark holds answered
    calls silently instead of playing scripts)."""
    bus = EventBus()
    db = Database.connect(settings.resolved_database_url())
    ami, ari = build_ami(settings.asterisk, bus), build_ari(settings.asterisk, bus)
    ivr = build_ivr(settings, ari, db, publish=bus.publish, clock=clock)
    d, http = settings.dialer, settings.http
    ast, cluster = settings.asterisk, settings.cluster
    pacing = Pacing(db, ivr.queue, d.operator_ratio, node=ast.node)
    health = trunk_health(settings)
    # an IVR campaign's call has its prompts made before it is dialed (unless a benchmark holds the calls)
    prepare = None if "dialer" in (stasis or {}) else functools.partial(prepare_call, ivr)
    dialer = Dialer(ami, bus, db, dialer_config(settings), clock=clock, operator_room=pacing.room, trunks=health,
                    pacer=PredictivePacer(db, ivr.queue.waiting_progressive, pacer_config(settings), clock),
                    prepare=prepare)
    softphones = build_softphones(settings, ami, ari, db)
    recorder = CallRecorder(ari, db, ivr.prompts, ivr.recordings_dir, record_hotline=settings.privacy.record_hotline,
                            clock=clock)
    dispatcher = Dispatcher(ari, bus, db, ivr.queue, softphones, ring_seconds=http.operator_ring_seconds,
                            wrap_seconds=http.wrap_up_seconds, clock=clock, library=ivr.library,
                            party=settings.directory.party, node=ast.node, lease=cluster.lease_seconds,
                            recorder=recorder)
    progressive = ProgressiveFigures()

    def progressive_call(client: AriClient, channel_id: str, args: list[str]) -> ProgressiveCall:
        return ProgressiveCall(client, channel_id, args, ivr, progressive, abandon_seconds=d.abandon_seconds,
                               predictive_abandon_seconds=d.predictive_abandon_seconds,
                               callback_number=d.callback_number)

    outreach = build_outreach(settings, db, calling_rules(settings), clock, ivr_paths(settings).recordings)

    async def take_missed_call(did: str, caller: str | None) -> str:
        return (await outreach.missed_call(did, caller)).outcome

    broadcaster = build_broadcaster(settings, ami, db, outreach, dial_plans(settings), clock,
                                    room=dialer.book.free, in_calls=lambda: dialer.book.phones)
    dialer.also_reconcile(broadcaster.reconcile)  # broadcast calls whose end was not seen, settled alike

    async def keypad_opt_out(phone: str) -> bool:
        return await outreach.opt_out(phone, "keypad")

    broadcast_deps = BroadcastDeps(db, build_messages(settings), ivr.prompts, ivr.queue, keypad_opt_out,
                                   broadcaster.ended, settings.state_dir / "outreach" / "rendered",
                                   recording_format=ivr.recording_format, unseen=broadcaster.unseen)

    handlers: dict[str, HandlerFactory] = {**ivr_factories(ivr), "agent": AgentLeg, "transfer": AgentLeg,
                                           "recorder": AgentLeg,
                                           "operator": progressive_call,
                                           "broadcast": broadcast_factory(broadcast_deps),
                                           "missed": missed_call_factory(db, missed_call_numbers(settings),
                                                                         dialer.wake, take_missed_call,
                                                                         settings.outreach.missed_call_refuse),
                                           **(stasis or {})}
    default_language = settings.ivr.default_language
    relay = EventRelay(libpq_url(db), ast.node, bus) if db.backend == "postgresql" else None
    service: Service
    registry = NodeRegistry(db, node_info(settings, dialer_config(settings)), lambda: service.status(),
                            lease=cluster.lease_seconds, every=cluster.heartbeat_seconds,
                            max_skew=cluster.max_clock_skew, clock=clock)
    privacy = build_privacy(settings, db)
    service = Service(
        settings=settings, bus=bus, db=db, ami=ami, ari=ari, ivr=ivr, progressive=progressive, dialer=dialer,
        sync=DirectorySync(db, on_change=dialer.wake), softphones=softphones, dispatcher=dispatcher,
        listen=ListenIn(ami, ari, db, softphones, dispatcher.connected_calls),
        stasis=StasisApp(ari, bus, handlers),
        agi=IdentifyServer(ast.agi_bind, ast.agi_port, lambda raw: db.transaction(identify, raw, default_language),
                           AgiLimits(max_connections=ast.agi_max_connections, allow=tuple(ast.agi_allow))),
        registry=registry, remote=RemoteFigures(bus, ast.node), relay=relay,
        peers=PeerTrunks(ami, db, softphones.path.parent, ast.node, lease=cluster.lease_seconds,
                         owner=softphones.owner, transport=ast.transport),
        publisher=FiguresPublisher(bus, ast.node, lambda: service.node_figures()) if relay else None,
        privacy=privacy, retention=RetentionJob(privacy, prompts=ivr.prompts, prompt_days=settings.privacy.prompt_days),
        trunk_health=health, trunks=build_trunk_monitor(settings, ami, ari, bus, health),
        guard=build_sip_guard(settings, db, bus, ami, build_sandbox(ast)), outreach=outreach,
        pollday=PollDayService(db, bus, clock=clock, wake=dialer.wake, rules=calling_rules(settings)),
        broadcaster=broadcaster)
    service.web, service.app = build_web(service)
    return service


def node_info(settings: Settings, config: DialerConfig) -> NodeInfo:
    """What this node tells the others: where it runs, its ports, its trunks and lines."""
    ast = settings.asterisk
    return NodeInfo(ast.node, socket.gethostname(), web_only=settings.cluster.web_only,
                    sip_host=settings.cluster.sip_address, sip_port=ast.sip_port,
                    rtp=(ast.rtp_start, ast.rtp_end),
                    trunks=[{"name": t.name, "lines": t.lines} for t in config.trunks])


def libpq_url(db: Database) -> str:
    """The database's URL as libpq (psycopg's own connections) reads it."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_web(service: Service) -> tuple[WebServices, FastAPI]:
    """The HTTP side: the services the routes call, and the app (sign-in, the operators' console, the
    dashboard, the API, /metrics)."""
    settings = service.settings
    http, ast = settings.http, settings.asterisk
    token = http.metrics_token.get_secret_value() if http.metrics_token else None
    users = UserService(service.db)
    auth = Auth(users, AuthConfig(
        secure_cookie=http.secure_cookie, machine_tokens=(("/metrics", token),) if token else (),
        idle=timedelta(minutes=http.idle_minutes) if http.idle_minutes else None))
    web = web_services(
        service.db, service.bus, live_figures=service.live_figures, timezone=settings.dialer.timezone,
        target_minutes=http.ticket_target_minutes, shifts=parse_shifts(settings.reports.shifts),
        defaults=calling_rules(settings), check_scripts=service.ivr.library.campaign_problems,
        wake=service.dialer.wake, sip_server=(ast.host, ast.sip_port),
        registered=SoftphonePresence(service.db, ast.node, None if service.web_only else service.softphones.registered,
                                     lease=settings.cluster.lease_seconds).registered,
        listen=service.listen.start, transfer=service.dispatcher.transfer, recordings_dir=service.ivr.recordings_dir,
        node_lease=settings.cluster.lease_seconds, users=users, privacy=service.privacy,
        phones_changed=service.softphones.poke, pollday=service.pollday, outreach=service.outreach,
        phone_server=PhoneServer(ast.https_port, ast.webrtc.ws_url, enabled=ast.webrtc.enabled),
        pages=PagesConfig(status_rules=status_rules(settings), verify_days=settings.directory.verify_days,
                          work_dir=settings.state_dir / "imports", library=service.ivr.library,
                          make_prompt=service.ivr.prompts.made, party=settings.directory.party,
                          hotline=settings.ivr.hotline_script, clock=service.dialer.clock),
        pacing=PacingService(service.db, service.dialer.pacing,
                             window=timedelta(minutes=settings.dialer.predictive_window_minutes),
                             timezone=settings.dialer.timezone, clock=service.dialer.clock, wake=service.dialer.wake))
    return web, create_app(web, health=service.health, auth=auth, trusted_proxies=tuple(http.trusted_proxies))


def status_rules(settings: Settings) -> StatusRules:
    """How a booth's status follows from its past results."""
    d = settings.directory
    return StatusRules(d.party, d.strong_margin, d.weak_margin, d.status_elections)
