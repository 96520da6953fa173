"""A dialer wired to the real sandbox Asterisk and a SIPp phone farm, for the integration tests."""

from __future__ import annotations

import asyncio
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
from ari_handlers.app import CallHandler, StasisApp
from ari_handlers.dispatch import AgentLeg, Dispatcher
from ari_handlers.ivr_call import IvrDeps
from ari_handlers.progressive import Pacing, ProgressiveCall, ProgressiveFigures
from ari_handlers.routes import ivr_factories
from db import migrate
from db.campaigns import Attempt, AttemptState, Campaign, Target
from db.engine import make_engine, transaction
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from dialer.controller import Dialer, DialerConfig
from dialer.lines import Trunk
from dialer.rules import CallingRules
from events.bus import EventBus
from hotline.agi import IdentifyServer
from hotline.lookup import identify
from operators.softphones import Softphones
from warroom.compose import build_ami, build_ari, build_ivr, build_softphones
from warroom.settings import Settings


def daytime_clock(hour: int = 12) -> Callable[[], datetime]:
    """A clock that runs at real speed from today's ``hour``:00 IST, so tests pass at any real hour."""
    base = datetime.now(ZoneInfo("Asia/Kolkata")).replace(hour=hour, minute=0, second=0, microsecond=0)
    start = time.monotonic()
    return lambda: (base + timedelta(seconds=time.monotonic() - start)).astimezone(UTC)


class Hold(CallHandler):
    """An answered dialer call that stays in our Stasis app until the phone hangs up (no script yet)."""


@dataclass
class Harness:
    sessions: sessionmaker[Session]
    ami: AmiClient
    ari: AriClient
    bus: EventBus
    dialer: Dialer
    people: dict[str, int] = field(default_factory=dict)
    ivr: IvrDeps | None = None
    agi: IdentifyServer | None = None
    stasis: StasisApp | None = None
    dispatcher: Dispatcher | None = None
    softphones: Softphones | None = None
    progressive: ProgressiveFigures | None = None

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

    async def until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.2)

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


async def start_harness(settings: Settings, tmp: Path, numbers: dict[str, str], *, lines: int = 10,
                        ring_timeout: float = 4.0, poll_end_at: datetime | None = None,
                        clock: Callable[[], datetime] | None = None, ivr: bool = False, operators: bool = False,
                        directory: Callable[[sessionmaker[Session]], dict[str, int]] | None = None) -> Harness:
    """The dialer on the test node. With ``ivr`` the answered calls run our IVR scripts (and the hotline
    and its FastAGI lookup are up); without it they are held silently until the phone hangs up."""
    engine = make_engine(f"sqlite:///{tmp / 'dialer.db'}")
    migrate.upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    people = directory(sessions) if directory else make_directory(sessions, numbers, poll_end_at)
    bus = EventBus()
    ami = build_ami(settings.asterisk, bus)
    config = DialerConfig(trunks=[Trunk("lines", lines)], rules=CallingRules(min_gap=timedelta(0), max_per_day=20),
                          ring_timeout=ring_timeout, settle_seconds=1.0, poll_interval=0.5, reconcile_grace=0.5)
    dialer = Dialer(ami, bus, sessions, config, clock=clock or daytime_clock())
    ari = build_ari(settings.asterisk, bus)
    deps = agi = dispatcher = phones = figures = None
    if ivr:
        deps = build_ivr(settings, ari, sessions, publish=bus.publish)
        deps.clock = dialer.clock
        figures = ProgressiveFigures()
        ivr_deps = deps

        def progressive(client: AriClient, channel_id: str, args: list[str]) -> ProgressiveCall:
            return ProgressiveCall(client, channel_id, args, ivr_deps, figures, abandon_seconds=3)

        stasis = StasisApp(ari, bus, {**ivr_factories(deps), "agent": AgentLeg, "operator": progressive})
        dialer.operator_room = Pacing(sessions, deps.queue).room
        if operators:
            phones = build_softphones(settings, ami, ari, sessions)
            dispatcher = Dispatcher(ari, bus, sessions, deps.queue, phones, ring_seconds=8, wrap_seconds=3,
                                    clock=dialer.clock, library=deps.library)
        agi = IdentifyServer(settings.asterisk.agi_host, settings.asterisk.agi_port,
                             lambda raw: transaction(sessions, identify, raw))
        await agi.start()
    else:
        stasis = StasisApp(ari, bus, {"dialer": Hold, "operator": Hold, "hotline": Hold})
    await ami.start()
    await ari.start()
    assert await ami.wait_up(10), f"AMI did not come up: {ami.detail}"
    assert await ari.wait_up(10), f"ARI did not come up: {ari.detail}"
    await dialer.start()
    if dispatcher is not None:
        await dispatcher.start()
    return Harness(sessions, ami, ari, bus, dialer, people, deps, agi, stasis, dispatcher, phones, figures)


async def stop_harness(h: Harness) -> None:
    if h.dispatcher is not None:
        await h.dispatcher.stop()
    if h.agi is not None:
        await h.agi.close()
    await h.dialer.stop()
    await h.ari.close()
    await h.ami.close()


async def channel_count(ami: AmiClient) -> int:
    reply = await ami.action({"Action": "CoreShowChannels"})
    rows = reply if isinstance(reply, list) else [reply]
    return sum(1 for r in rows if r.get("Event") == "CoreShowChannel")


FAST_RETRY = parse_retry(["no_answer=2/1s", "busy=3/1s", "congestion=2/1s", "failed=2/1s"])
