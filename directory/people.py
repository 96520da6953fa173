"""One person of the directory: everything known about them (posts, phones, language, DND, when verified,
every call made to them with its answers, hotline calls and tickets), and a supervisor's corrections,
written through the change feed so that the dialer follows at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Invalid, NotFound
from db.campaigns import Attempt, Campaign
from db.ivr import IvrAnswer, IvrCall
from db.models import Committee, Membership, MemberStatus, Person, Unit, utcnow
from db.operators import CallDisposition
from db.security import MemberPin
from db.tickets import Ticket
from directory.browse import label, person_row
from directory.changes import record_change
from directory.phones import PhoneError, normalise_phone

LANGUAGES = ("hi", "en")
HISTORY = 200  # calls shown on a person's page


@dataclass(frozen=True)
class PersonEdit:
    """A correction. ``None`` leaves a field as it is; ``alt_phone=""`` removes the alternate phone;
    ``remove_posts`` are membership ids of this person's posts to take away."""

    phone: str | None = None
    alt_phone: str | None = None
    language: str | None = None
    dnd: bool | None = None
    remove_posts: tuple[int, ...] = field(default_factory=tuple)


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person #{person_id}")
    return person


def posts_of(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Membership.id, Membership.post, Unit).join(Committee, Committee.id == Membership.committee_id)
        .join(Unit, Unit.id == Committee.unit_id).where(Membership.person_id == person_id).order_by(Unit.id)).all()
    return [{"membership_id": mid, "post": post, "unit_id": unit.id, "unit": label(unit.kind, unit.name, unit.number),
             "level": unit.kind.value} for mid, post, unit in rows]


def person_page(session: Session, person_id: int) -> dict[str, Any]:
    """Posts, phones, language, DND, verification, and every call (newest first) with its answers."""
    person = _person(session, person_id)
    attempts = session.execute(
        select(Attempt, Campaign.name).outerjoin(Campaign, Campaign.id == Attempt.campaign_id)
        .where(Attempt.person_id == person_id).order_by(Attempt.created_at.desc()).limit(HISTORY)).all()
    calls = session.scalars(select(IvrCall).where(IvrCall.person_id == person_id)
                            .order_by(IvrCall.started_at.desc()).limit(HISTORY)).all()
    answers: dict[int, list[dict[str, Any]]] = {}
    for call_id, question, key, value in session.execute(
            select(IvrAnswer.call_id, IvrAnswer.question, IvrAnswer.key, IvrAnswer.value)
            .where(IvrAnswer.call_id.in_([c.id for c in calls]), IvrAnswer.valid.is_(True)).order_by(IvrAnswer.id)):
        answers.setdefault(call_id, []).append({"question": question, "key": key, "value": value})
    by_attempt = {c.attempt_id: c for c in calls if c.attempt_id is not None}
    notes = {n.channel_id: n for n in session.scalars(select(CallDisposition).where(
        CallDisposition.person_id == person_id))}
    history: list[dict[str, Any]] = []
    for attempt, campaign in attempts:
        call = by_attempt.get(attempt.id)
        note = notes.get(attempt.channel_id)
        history.append({"at": attempt.created_at.isoformat(), "direction": "outbound", "campaign": campaign,
                        "phone": attempt.phone, "outcome": attempt.disposition.value if attempt.disposition else
                        attempt.state.value, "result": attempt.result, "talk_seconds": attempt.talk_seconds,
                        "script": call.script if call else None, "answers": answers.get(call.id, []) if call else [],
                        "operator": {"disposition": note.disposition.value, "notes": note.notes} if note else None})
    for call in calls:
        if call.direction == "inbound":
            note = notes.get(call.channel_id)
            history.append({"at": call.started_at.isoformat(), "direction": "inbound", "campaign": None,
                            "phone": call.caller_phone, "outcome": "hotline",
                            "result": call.result.value if call.result else None, "talk_seconds": None,
                            "script": call.script, "answers": answers.get(call.id, []),
                            "operator": {"disposition": note.disposition.value, "notes": note.notes} if note else None})
    history.sort(key=lambda h: h["at"], reverse=True)
    tickets = [{"id": t.id, "category": t.category, "status": t.status.value, "at": t.created_at.isoformat(),
                "description": t.description} for t in session.scalars(
        select(Ticket).where(Ticket.reporter_id == person_id).order_by(Ticket.created_at.desc()).limit(50))]
    return {**person_row(person), "phone_invalid": person.phone_invalid_at is not None,
            "alt_phone_invalid": person.alt_phone_invalid_at is not None,
            "dnd_at": person.dnd_at.isoformat() if person.dnd_at else None, "dnd_source": person.dnd_source,
            "created_at": person.created_at.isoformat(), "posts": posts_of(session, person_id),
            "calls": history, "tickets": tickets, "has_pin": session.get(MemberPin, person_id) is not None}


def _phone(text: str, field_name: str) -> str:
    try:
        return normalise_phone(text)
    except PhoneError as exc:
        raise Invalid(str(exc), field=field_name) from None


def edit_person(session: Session, person_id: int, edit: PersonEdit, actor: Actor) -> list[str]:
    """Apply a supervisor's correction; return the fields changed. Each change goes to the change feed (a
    corrected phone as ``corrected``, so the person's unanswered targets start again; a post taken away as
    ``post_removed``) and the audit log (which fields, never their values)."""
    person = session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise NotFound(f"no person #{person_id}")
    changed: list[str] = []
    now = utcnow()
    phone = _phone(edit.phone, "phone") if edit.phone is not None else person.phone
    alt = (_phone(edit.alt_phone, "alt_phone") if edit.alt_phone.strip() else None) \
        if edit.alt_phone is not None else person.alt_phone
    if alt is not None and alt == phone:
        raise Invalid("the alternate phone is the same as the phone", field="alt_phone")
    if phone != person.phone:
        other = session.scalar(select(Person.id).where(Person.phone == phone, Person.id != person.id))
        if other is not None:
            raise Invalid(f"this phone is already person #{other}'s", field="phone")
        person.phone, person.phone_invalid_at = phone, None
        changed.append("phone")
    if alt != person.alt_phone:
        person.alt_phone, person.alt_phone_invalid_at = alt, None
        changed.append("alt_phone")
    if edit.language is not None and edit.language != person.language:
        if edit.language not in LANGUAGES:
            raise Invalid(f"language '{edit.language}': hi or en", field="language")
        person.language = edit.language
        changed.append("language")
    if edit.dnd is not None and edit.dnd != person.dnd:
        person.dnd, person.dnd_at = edit.dnd, now if edit.dnd else None
        person.dnd_source = f"supervisor {actor.name}"[:100] if edit.dnd else None
        if not edit.dnd and person.status is MemberStatus.opted_out:
            person.status = MemberStatus.active
        changed.append("dnd")
    corrected = {"phone", "alt_phone"} & set(changed)
    if corrected and person.status in (MemberStatus.wrong_number, MemberStatus.unreachable):
        person.status = MemberStatus.active
        changed.append("status")
    removed = []
    if edit.remove_posts:
        posts = session.scalars(select(Membership).where(Membership.id.in_(edit.remove_posts))).all()
        if {m.id for m in posts} != set(edit.remove_posts) or any(m.person_id != person.id for m in posts):
            raise Invalid("a post to remove is not one of this person's", field="remove_posts")
        for membership in posts:
            removed.append(membership.committee_id)
            session.delete(membership)
    if changed:
        person.updated_at = now
        kind = "corrected" if corrected else "dnd" if changed == ["dnd"] else "updated"
        record_change(session, person.id, kind, fields=changed, source="supervisor", status=person.status.value,
                      dnd=person.dnd)
    for committee_id in removed:
        record_change(session, person.id, "post_removed", committee_id=committee_id, source="supervisor")
    if changed or removed:
        record(session, actor, "person.edit", f"person:{person.id}",
               detail={"fields": changed, "posts_removed": len(removed)})
    return changed + (["posts"] if removed else [])

