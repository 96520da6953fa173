"""A dialer wired to the real sandbox Asterisk and a SIPp phone farm, for the integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.ami import AmiClient
from adapters.ari import AriClient
from ari_handlers.app import CallHandler, HandlerFactory, StasisApp
from ari_handlers.dispatch import Dispatcher
from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.progressive import ProgressiveFigures
from db import migrate
from db.campaigns import Attempt, AttemptState, Campaign, Target
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from dialer.controller import Dialer
from events.bus import EventBus
from hotline.agi import IdentifyServer
from operators.softphones import Softphones
from warroom.compose import build_service
from warroom.service import Service
from warroom.settings import Settings, TrunkSettings


def daytime_clock(hour: int = 12) -> Callable[[], datetime]:
    """A clock that runs at real speed from today's ``hour``:00 IST, so tests pass at any real hour."""
    base = datetime.now(ZoneInfo("Asia/Kolkata")).replace(hour=hour, minute=0, second=0, microsecond=0)
    start = time.monotonic()
    return lambda: (base + timedelta(seconds=time.monotonic() - start)).astimezone(UTC)


class Hold(CallHandler):
    """An answered dialer call that stays in our Stasis app until the phone hangs up (no script)."""


HOLD: dict[str, HandlerFactory] = {"dialer": Hold, "operator": Hold, "hotline": Hold}


@dataclass
class Harness:
    """The service as ``warroom serve`` builds it (:func:`warroom.compose.build_service`), on the test node,
    with the parts the tests look at named."""

    service: Service
    people: dict[str, int] = field(default_factory=dict)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.service.db.sessions

    @property
    def bus(self) -> EventBus:
        return self.service.bus

    @property
    def ami(self) -> AmiClient:
        return self.service.ami

    @property
    def ari(self) -> AriClient:
        return self.service.ari

    @property
    def dialer(self) -> Dialer:
        return self.service.dialer

    @property
    def ivr(self) -> IvrDeps:
        return self.service.ivr

    @property
    def agi(self) -> IdentifyServer:
        return self.service.agi

    @property
    def stasis(self) -> StasisApp:
        return self.service.stasis

    @property
    def dispatcher(self) -> Dispatcher:
        return self.service.dispatcher

    @property
    def softphones(self) -> Softphones:
        return self.service.softphones

    @property
    def progressive(self) -> ProgressiveFigures:
        return self.service.progressive

    def campaign(self, name: str, **kw: Any) -> int:
        kw.setdefault("selection", Selection())
        kw.setdefault("trunk", "lines")
        with self.sessions.begin() as s:
            c = create_campaign(s, name=name, mode=kw.pop("mode", "ivr"), **kw)
            change_state(s, name, "start")
            return c.id

    def attempts(self, campaign_id: int | None = None) -> list[Attempt]:
        with self.sessions() as s:
            q = select(Attempt).order_by(Attempt.id)
            if campaign_id is not None:
                q = q.where(Attempt.campaign_id == campaign_id)
            return list(s.scalars(q))

    def targets(self, campaign_id: int) -> list[Target]:
        with self.sessions() as s:
            return list(s.scalars(select(Target).where(Target.campaign_id == campaign_id)))

    def open_attempts(self) -> int:
        with self.sessions() as s:
            return len(list(s.scalars(select(Attempt.id).where(Attempt.state != AttemptState.ended))))

    def campaign_state(self, campaign_id: int) -> str:
        with self.sessions() as s:
            c = s.get(Campaign, campaign_id)
            assert c is not None
            return c.state.value


def make_directory(sessions: sessionmaker[Session], numbers: dict[str, str],
                   poll_end_at: datetime | None = None) -> dict[str, int]:
    """One AC with one booth committee holding a person per number; returns name -> person id."""
    with sessions.begin() as s:
        ac = Unit(key="ac:1", kind=UnitKind.ac, name="Test AC", number=1, poll_end_at=poll_end_at)
        s.add(ac)
        s.flush()
        booth = Unit(key="booth:1:1", kind=UnitKind.booth, name="Booth 1", number=1, parent_id=ac.id, ac_id=ac.id)
        s.add(booth)
        s.flush()
        committee = Committee(unit_id=booth.id)
        s.add(committee)
        s.flush()
        ids = {}
        for name, phone in numbers.items():
            p = Person(name=name, phone=phone)
            s.add(p)
            s.flush()
            s.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
            ids[name] = p.id
        return ids


def harness_settings(settings: Settings, tmp: Path, *, lines: int = 10, ring_timeout: float = 4.0,
                     ari_port: int | None = None, database_url: str | None = None,
                     abandon_seconds: float = 3) -> Settings:
    """The test node's settings for one test: its own database, quick timings, lenient per-person rules
    (``ari_port``: reach ARI there, e.g. through a proxy the test controls)."""
    ast = settings.asterisk.model_copy(update={"trunks": [
        TrunkSettings(name="lines", lines=lines, port=settings.asterisk.farm_port)],
        "http_port": ari_port or settings.asterisk.http_port})
    dialer = settings.dialer.model_copy(update={
        "ring_timeout": ring_timeout, "min_gap_minutes": 0, "max_per_day": 20, "settle_seconds": 1.0,
        "poll_interval": 0.5, "reconcile_grace": 0.5, "abandon_seconds": abandon_seconds,
        "sweep_after_seconds": 10})
    http = settings.http.model_copy(update={"wrap_up_seconds": 3, "operator_ring_seconds": 8})
    return settings.model_copy(update={"asterisk": ast, "dialer": dialer, "http": http,
                                       "database_url": database_url or f"sqlite:///{tmp / 'dialer.db'}"})


async def start_harness(settings: Settings, tmp: Path, numbers: dict[str, str], *, lines: int = 10,
                        ring_timeout: float = 4.0, poll_end_at: datetime | None = None,
                        clock: Callable[[], datetime] | None = None, ivr: bool = False, operators: bool = False,
                        directory: Callable[[sessionmaker[Session]], dict[str, int]] | None = None,
                        ari_port: int | None = None, database_url: str | None = None,
                        abandon_seconds: float = 3) -> Harness:
    """The service on the test node, built as ``warroom serve`` builds it. With ``ivr`` the answered calls
    run our IVR scripts; without it they are held silently until the phone hangs up. (``operators``: the
    operators' side is always there; the argument says the test uses it.)"""
    service = build_service(harness_settings(settings, tmp, lines=lines, ring_timeout=ring_timeout,
                                             ari_port=ari_port, database_url=database_url,
                                             abandon_seconds=abandon_seconds),
                            clock=clock or daytime_clock(), stasis=None if ivr else HOLD)
    migrate.upgrade(service.db.engine)
    people = directory(service.db.sessions) if directory else make_directory(service.db.sessions, numbers,
                                                                             poll_end_at)
    await service.start()
    assert await service.ami.wait_up(10), f"AMI did not come up: {service.ami.detail}"
    assert await service.ari.wait_up(10), f"ARI did not come up: {service.ari.detail}"
    return Harness(service, people)


async def stop_harness(h: Harness) -> None:
    await h.service.stop()


async def channel_count(ami: AmiClient) -> int:
    return len(await ami.channels())


FAST_RETRY = parse_retry(["no_answer=2/1s", "busy=3/1s", "congestion=2/1s", "failed=2/1s"])
