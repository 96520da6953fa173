"""Voter outreach wired from the settings (the command line, the service and the benchmark use it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from adapters.ami import AmiClient
from db.engine import Database
from db.models import utcnow
from dialer.dialplans import DialPlan
from dialer.rules import CallingRules
from outreach.dialing import Broadcaster
from outreach.missed import MissedCallPolicy
from outreach.recordings import Messages
from outreach.service import OutreachConfig, OutreachService
from speech.synth import EspeakSynthesizer
from warroom.settings import Settings


def outreach_config(settings: Settings, rules: CallingRules, recordings_dir: Path | None = None) -> OutreachConfig:
    o = settings.outreach
    return OutreachConfig(
        dnd_file=o.dnd_file or settings.state_dir / "dnd.bin", rules=rules, ban_zone=o.ban_timezone,
        missed=MissedCallPolicy(callbacks_per_day=o.callbacks_per_day, flood_calls=o.flood_calls,
                                flood_minutes=o.flood_minutes),
        purposes=dict(o.missed_call_purposes), lines=sum(t.lines for t in settings.asterisk.trunks) or 10,
        recordings_dir=recordings_dir)


def build_messages(settings: Settings) -> Messages:
    """Recordings, the recorded-names library and synthesised names, under the state directory."""
    root = settings.state_dir / "outreach"
    ivr = settings.ivr
    return Messages(root / "recordings", root / "names", root / "name_cache",
                    EspeakSynthesizer(ivr.voices, rate=ivr.speech_rate))


def build_outreach(settings: Settings, db: Database, rules: CallingRules,
                   clock: Callable[[], datetime] = utcnow, recordings_dir: Path | None = None) -> OutreachService:
    """``rules``: the dialer's calling rules (``warroom.compose.calling_rules``); ``recordings_dir``: where the
    voice messages left in broadcast calls are (the service's)."""
    return OutreachService(db, outreach_config(settings, rules, recordings_dir), clock=clock,
                           messages=build_messages(settings))


def build_broadcaster(settings: Settings, ami: AmiClient, db: Database, outreach: OutreachService,
                      plans: dict[str, DialPlan], clock: Callable[[], datetime] = utcnow,
                      room: Callable[[str], int] | None = None,
                      in_calls: Callable[[], set[str]] | None = None) -> Broadcaster:
    """Broadcast calls on at most ``outreach.lines`` lines (default: the configured trunks' lines); they start
    once the dialer's first reconcile has reconciled them too (``Dialer.also_reconcile``)."""
    o, d = settings.outreach, settings.dialer
    lines = o.lines or sum(t.lines for t in settings.asterisk.trunks) or 1
    return Broadcaster(ami, db, outreach, lines=lines, plans=plans,
                       ring_timeout=d.ring_timeout, max_call_seconds=settings.cluster.max_call_seconds, clock=clock,
                       room=room, in_calls=in_calls, reconciled=False)
