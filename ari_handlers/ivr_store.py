"""The IVR's database work, as plain synchronous functions (handlers run them in a thread, one transaction
each): who is on the call and what their templates see; the call's record; each answer as it is given;
recordings; the result; opt-outs and tickets."""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.campaigns import Attempt, Campaign, Target
from db.ivr import CallResult, IvrAnswer, IvrCall, IvrRecording
from db.models import Candidate, Committee, Membership, Person, Unit, UnitKind, utcnow
from directory.outcomes import Outcome, apply_outcome
from hotline.lookup import ancestors, latest_instruction
from hotline.pins import PinCheck, check_pin, has_pin
from ivr_scripts.context import call_context
from pollday.counting_store import hotline_fields
from tickets.service import open_ticket


@dataclass
class CallInfo:
    """Everything a call's handler needs to know before its first prompt."""

    direction: str
    language: str
    context: dict[str, Any]
    person_id: int | None = None
    booth_id: int | None = None
    booth_status: str | None = None
    attempt_id: int | None = None
    campaign_id: int | None = None
    phone: str | None = None
    scripts: dict[str, str] = field(default_factory=dict)
    instructions_unit: int | None = None  # hotline: whose instructions a verified caller hears


def _unit(u: Unit | None) -> dict[str, Any] | None:
    return {"number": u.number, "name": u.name} if u is not None else None


def _context(session: Session, person: Person | None, committee_unit: Unit | None, *, party: str,
             campaign: Campaign | None = None, phone: str | None = None,
             instructions: str | None = None, pin: bool = False,
             fields: dict[str, str] | None = None) -> dict[str, Any]:
    chain = {u.kind: u for u in ancestors(session, committee_unit.id)} if committee_unit else {}
    booth, ac = chain.get(UnitKind.booth), chain.get(UnitKind.ac)
    post = None
    if person is not None and committee_unit is not None:
        post = session.scalar(select(Membership.post).join(Committee, Committee.id == Membership.committee_id)
                              .where(Membership.person_id == person.id, Committee.unit_id == committee_unit.id))
    candidate = None
    if ac is not None:
        rows = session.scalars(select(Candidate).where(Candidate.ac_id == ac.id)).all()
        candidate = next((c for c in rows if c.party == party), rows[0] if rows else None)
    last4 = (phone or (person.phone if person else "") or "")[-4:] or None
    return call_context(
        member={"name": person.name, "name_alt": person.name_alt, "post": post, "language": person.language,
                "phone_last4": last4, "known": True} if person else {"known": False, "phone_last4": last4},
        committee={"level": committee_unit.kind.value, "name": committee_unit.name} if committee_unit else None,
        booth={**(_unit(booth) or {}), "status": booth.status.value, "voters": booth.voter_count,
               "area": booth.area} if booth else None,
        ac=_unit(ac), district={"name": chain[UnitKind.district].name} if UnitKind.district in chain else None,
        candidate={"name": candidate.name, "party": candidate.party} if candidate else None,
        campaign_name=campaign.name if campaign else None, fields=campaign.fields if campaign else fields,
        instructions=instructions, caller={"phone_last4": last4, "known": person is not None, "has_pin": pin,
                                           "verified": False})


def outbound_info(session: Session, attempt_id: int, *, party: str, default_language: str = "hi") -> CallInfo:
    """A campaign call: the attempt's person, committee and booth (status read now, as the call starts)."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(f"no attempt {attempt_id}")
    person = session.get(Person, attempt.person_id) if attempt.person_id else None
    target = session.get(Target, attempt.target_id) if attempt.target_id else None
    campaign = session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    committee = session.get(Committee, target.committee_id) if target and target.committee_id else None
    unit = session.get(Unit, committee.unit_id) if committee else None
    booth = session.get(Unit, target.booth_id) if target and target.booth_id else None
    if unit is None and booth is not None:
        unit = booth
    language = (person.language if person else None) or default_language
    return CallInfo("outbound", language, _context(session, person, unit, party=party, campaign=campaign,
                                                   phone=attempt.phone),
                    person_id=person.id if person else None, booth_id=booth.id if booth else None,
                    booth_status=booth.status.value if booth else None, attempt_id=attempt.id,
                    campaign_id=campaign.id if campaign else None, phone=attempt.phone,
                    scripts=dict(campaign.scripts or {}) if campaign else {})


def inbound_info(session: Session, *, phone: str | None, person_id: int | None, booth_id: int | None,
                 language: str | None, party: str, default_language: str = "hi",
                 at: datetime | None = None) -> CallInfo:
    """A hotline call, from what the dialplan's caller lookup (FastAGI) found. The caller ID may be spoofed:
    the booth's instructions are not in the context until the caller gives the member's PIN
    (:func:`check_caller_pin`). On counting day a counting agent's call carries their round at ``at``
    (:func:`pollday.counting_store.hotline_fields`)."""
    person = session.get(Person, person_id) if person_id else None
    booth = session.get(Unit, booth_id) if booth_id else None
    lang = language or (person.language if person else None) or default_language
    unit = booth
    if unit is None and person is not None:  # not on a booth committee: their own committee
        unit = session.scalars(select(Unit).join(Committee, Committee.unit_id == Unit.id)
                               .join(Membership, Membership.committee_id == Committee.id)
                               .where(Membership.person_id == person.id)).first()
    pin = has_pin(session, person.id if person else None)
    fields = hotline_fields(session, person.id if person else None, at or utcnow())
    return CallInfo("inbound", lang, _context(session, person, unit, party=party, phone=phone, pin=pin,
                                              fields=fields),
                    person_id=person.id if person else None, booth_id=booth.id if booth else None,
                    booth_status=booth.status.value if booth else None, phone=phone,
                    instructions_unit=booth.id if booth else (unit.id if unit else None))


def check_caller_pin(session: Session, call_id: int, person_id: int | None, digits: str, *,
                     unit_id: int | None, language: str, at: datetime) -> tuple[PinCheck, dict[str, Any]]:
    """Check the PIN a hotline caller typed; a right one marks the call verified (its tickets say so) and
    returns what the caller may now hear: the booth's latest instructions."""
    if person_id is None:
        return PinCheck(False, "no_pin"), {}
    check = check_pin(session, person_id, digits, at)
    if not check.ok:
        return check, {}
    session.execute(update(IvrCall).where(IvrCall.id == call_id).values(caller_verified=True))
    return check, {"instructions": latest_instruction(session, unit_id, language)}


def open_call(session: Session, channel_id: str, info: CallInfo, script: str, language: str,
              at: datetime) -> int:
    call = IvrCall(channel_id=channel_id, direction=info.direction, attempt_id=info.attempt_id,
                   campaign_id=info.campaign_id, person_id=info.person_id, booth_id=info.booth_id,
                   caller_phone=info.phone, script=script, language=language, booth_status=info.booth_status,
                   caller_verified=False if info.direction == "inbound" else None, state="started", started_at=at)
    session.add(call)
    session.flush()
    return call.id


def end_interrupted(session: Session, channel_id: str, at: datetime) -> bool:
    """A call this service was running when it stopped (its row has no result): it ends ``partial``, and
    its attempt with it. False when the channel has no IVR call yet."""
    call = session.scalar(select(IvrCall).where(IvrCall.channel_id == channel_id))
    if call is None:
        return False
    if call.result is None:
        finish_call(session, call.id, CallResult.partial.value, f"{call.state} (interrupted)", at)
    return True


def save_answer(session: Session, call_id: int, *, step: str, question: str, key: str, value: str | None,
                valid: bool, at: datetime, number: int | None = None) -> None:
    session.add(IvrAnswer(call_id=call_id, step=step, question=question[:200], key=key, value=value, valid=valid,
                          number=number, at=at))


def recording_started(session: Session, call_id: int, attempt_id: int | None, step: str, name: str, fmt: str,
                      at: datetime) -> int:
    rec = IvrRecording(call_id=call_id, attempt_id=attempt_id, step=step, name=name, format=fmt, state="recording",
                       at=at)
    session.add(rec)
    session.flush()
    return rec.id


def wav_seconds(path: Path) -> int | None:
    """A WAV file's length in whole seconds (None when it cannot be read)."""
    try:
        with wave.open(str(path), "rb") as w:
            return round(w.getnframes() / float(w.getframerate() or 8000))
    except (OSError, EOFError, wave.Error):
        return None


def recording_ended(session: Session, name: str, *, state: str, duration: int | None,
                    talking: int | None) -> int | None:
    """Close a recording's row (once: a later duplicate changes nothing); returns its id."""
    rec = session.scalars(select(IvrRecording).where(IvrRecording.name == name)).first()
    if rec is None:
        return None
    if rec.state == "recording":
        rec.state, rec.duration, rec.talking = state, duration, talking
    return rec.id


def finish_call(session: Session, call_id: int, result: str, state: str, at: datetime) -> None:
    """The call's result, once; a dialer attempt gets the same result."""
    call = session.get(IvrCall, call_id)
    if call is None or call.result is not None:
        return
    call.result, call.state, call.ended_at = CallResult(result), state[:60], at
    if call.attempt_id:
        session.execute(update(Attempt).where(Attempt.id == call.attempt_id).values(result=result))


def opt_out(session: Session, person_id: int, at: datetime) -> list[str]:
    return apply_outcome(session, person_id, Outcome.opted_out, source="ivr", at=at)


def ticket_from_call(session: Session, call_id: int, category: str | None, note_step: str | None,
                     at: datetime) -> int:
    """Open a ticket from a hotline call: the booth and reporter from the call, its voice note attached."""
    call = session.get(IvrCall, call_id)
    if call is None:
        raise LookupError(f"no IVR call {call_id}")
    recording_id = None
    if note_step:
        recording_id = session.scalar(select(IvrRecording.id).where(IvrRecording.call_id == call_id,
                                                                    IvrRecording.step == note_step)
                                      .order_by(IvrRecording.id.desc()))
    ticket = open_ticket(session, category=category or "other", source="hotline", booth_id=call.booth_id,
                         reporter_id=call.person_id, reporter_phone=call.caller_phone, call_id=call_id,
                         recording_id=recording_id, at=at,
                         reporter_verified=bool(call.caller_verified))  # caller ID alone can be spoofed
    return ticket.id
