"""Helpers for the IVR integration tests: a directory with booths of each status, a short test script,
and the timing of prompts (so a simulated phone speaks once the recording has started)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.ari import AriClient
from ari_handlers import ivr_store
from ari_handlers.ivr_deps import IvrDeps
from db.engine import transaction
from db.ivr import IvrAnswer, IvrCall, IvrRecording
from db.models import BoothStatus, Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import Selection
from sandbox import ivr_timing as timing
from sandbox.ivr_timing import Until, recording_starts
from tests.integration.dialer_harness import Harness

# name -> (phone, language, booth status)
MEMBERS = {
    "Asha": ("+919100000001", "hi", BoothStatus.strong),
    "Bina": ("+919100000002", "en", BoothStatus.weak),
    "Chetan": ("+919100000003", "hi", BoothStatus.swing),
    "Deepak": ("+919100000004", "en", BoothStatus.strong),
    "Esha": ("+919100000005", "en", BoothStatus.strong),
    "Farhan": ("+919826012345", "hi", BoothStatus.swing),   # a real-looking mobile: the hotline caller
}

QUICK = """\
name: quick
title: Short survey for tests
languages: [en, hi]
steps:
  - id: greet
    say: {en: "Hello {{ member.name }}.", hi: "नमस्ते।"}
  - id: ready
    ask: {en: "Ready? Press 1 or 2. To stop our calls, 9.", hi: "तैयार? 1 या 2।"}
    keys: {"1": null, "2": needs, "9": optout}
    timeout: 2
    retries: 2
    invalid: {en: "Wrong key.", hi: "गलत।"}
    no_input: {en: "No key.", hi: "कुछ नहीं।"}
    on_fail: bye
  - id: turnout
    ask: {en: "Turnout plan? 1 or 2.", hi: "1 या 2।"}
    keys: ["1", "2"]
    timeout: 2
    next: bye
  - id: needs
    ask: {en: "What is missing? 1 to 4.", hi: "क्या कमी है?"}
    keys: ["1", "2", "3", "4"]
    timeout: 3
  - id: bye
    end: {en: "Thanks.", hi: "धन्यवाद।"}
  - id: optout
    optout: {en: "We will not call you again.", hi: "अब कॉल नहीं आएगी।"}
"""


def write_quick_script(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "quick.yaml"
    path.write_text(QUICK, encoding="utf-8")
    return folder


def booth_directory(sessions: sessionmaker[Session]) -> dict[str, int]:
    """District > AC 152 > a booth per member, each booth with its status and a committee."""
    with sessions.begin() as s:
        district = Unit(key="district:bhopal", kind=UnitKind.district, name="Bhopal")
        s.add(district)
        s.flush()
        ac = Unit(key="ac:152", kind=UnitKind.ac, name="Bhopal Uttar", number=152, parent_id=district.id)
        s.add(ac)
        s.flush()
        ids = {}
        for i, (name, (phone, lang, status)) in enumerate(MEMBERS.items(), start=1):
            booth = Unit(key=f"booth:152:{i}", kind=UnitKind.booth, name=f"Booth school {i}", number=i,
                         parent_id=ac.id, ac_id=ac.id, voter_count=900 + i, status_override=status)
            s.add(booth)
            s.flush()
            committee = Committee(unit_id=booth.id)
            s.add(committee)
            s.flush()
            person = Person(name=name, phone=phone, language=lang)
            s.add(person)
            s.flush()
            s.add(Membership(person_id=person.id, committee_id=committee.id, post="president"))
            ids[name] = person.id
            ids[f"booth:{name}"] = booth.id
        return ids


def booths(h: Harness, *names: str) -> Selection:
    """A campaign selection of these members' booths (one member per booth here)."""
    return Selection(units=tuple(h.people[f"booth:{n}"] for n in names))


async def seconds_until(deps: IvrDeps, sessions: sessionmaker[Session], person_id: int, script: str,
                        keys: str, until: Until = recording_starts) -> float:
    """Seconds of prompts a member's call plays before ``until`` (see :mod:`sandbox.ivr_timing`)."""
    info = transaction(sessions, _info, person_id)
    return await timing.seconds_until(deps.prompts, deps.library.get(script), info.language, info.context, keys,
                                      until)


def _info(session: Session, person_id: int) -> ivr_store.CallInfo:
    booth_id = session.scalar(select(Committee.unit_id).join(Membership, Membership.committee_id == Committee.id)
                              .where(Membership.person_id == person_id))
    return ivr_store.inbound_info(session, phone=None, person_id=person_id, booth_id=booth_id, language=None,
                                  party="PARTY")


def calls(h: Harness) -> list[IvrCall]:
    with h.sessions() as s:
        return list(s.scalars(select(IvrCall).order_by(IvrCall.id)))


def answers(h: Harness, call_id: int) -> list[tuple[str, str, bool]]:
    with h.sessions() as s:
        return [(a.step, a.key, a.valid) for a in
                s.scalars(select(IvrAnswer).where(IvrAnswer.call_id == call_id).order_by(IvrAnswer.id))]


def recordings(h: Harness, call_id: int) -> list[IvrRecording]:
    with h.sessions() as s:
        return list(s.scalars(select(IvrRecording).where(IvrRecording.call_id == call_id)))


async def app_channels(h: Harness) -> list[str]:
    """Channels Asterisk has in our Stasis app now."""
    info = await h.ari.request("GET", f"/applications/{h.ari.config.app}")
    return list(info.get("channel_ids", []))


async def cut_websocket(ari: AriClient, seconds: float) -> None:
    """Drop the ARI websocket and keep it down for ``seconds`` (REST calls still work), then let it
    reconnect as it would after a network cut: events in between are lost, as with a real outage."""
    task = ari._task
    assert task is not None and ari._ws is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    ari.link.set(False, "cut by the test")
    await asyncio.sleep(seconds)
    await ari.start()
    assert await ari.wait_up(10), "the ARI websocket did not come back"
    await ari.bus.drain()  # the reconnect's reconcile runs on the bus
