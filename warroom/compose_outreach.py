"""Voter outreach wired from the settings (the command line, the service and the benchmark use it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from db.engine import Database
from db.models import utcnow
from outreach.missed import MissedCallPolicy
from outreach.service import OutreachConfig, OutreachService
from warroom.compose import calling_rules
from warroom.settings import Settings


def outreach_config(settings: Settings) -> OutreachConfig:
    o = settings.outreach
    return OutreachConfig(
        dnd_file=o.dnd_file or settings.state_dir / "dnd.bin", rules=calling_rules(settings), ban_zone=o.ban_timezone,
        missed=MissedCallPolicy(callbacks_per_day=o.callbacks_per_day, flood_calls=o.flood_calls,
                                flood_minutes=o.flood_minutes),
        purposes=dict(o.missed_call_purposes))


def build_outreach(settings: Settings, db: Database, clock: Callable[[], datetime] = utcnow) -> OutreachService:
    return OutreachService(db, outreach_config(settings), clock=clock)
