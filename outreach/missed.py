"""Missed calls to a missed-call number (never answered: free for the caller). Each is logged with time
and the number's purpose; a withheld number or a flood from one number is ignored and counted; otherwise
the caller is matched to the outreach lists and the directory, added with consent "missed call" if new,
and a call back is queued within the calling rules, at most N a day per number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.models import Person
from db.outreach import Contact, ListEntry, MissedCall, OutreachList
from dialer.rules import CallingRules, day_start
from directory.phones import PhoneError, normalise_phone
from outreach.optouts import opted_out
from outreach.rules import INDIA, PollCalendar, check_person
from outreach.rules import Person as Callee

PURPOSES = ("join", "call_back", "hear_message")
CONSENT = "missed call"
WITHHELD = {"", "anonymous", "unknown", "restricted", "private", "withheld", "unavailable"}


@dataclass(frozen=True)
class MissedCallPolicy:
    callbacks_per_day: int = 2
    flood_calls: int = 5
    flood_minutes: float = 10.0


@dataclass(frozen=True)
class Taken:
    """What was done with one missed call: ``outcome`` is queued, capped, opted_out, flood, withheld or
    unusable; ``callback_at`` when the call back is due (queued only)."""

    outcome: str
    phone: str | None = None
    contact_id: int | None = None
    person_id: int | None = None
    callback_at: datetime | None = None


def list_name(purpose: str) -> str:
    return f"missed calls: {purpose}"


def _contact(session: Session, phone: str, purpose: str) -> tuple[int, int | None]:
    """The caller's contact (created with consent "missed call" if new, linked to a committee member if they
    are one) on the purpose's list; and the member's person id, if any."""
    person_id = session.scalar(select(Person.id).where(or_(Person.phone == phone, Person.alt_phone == phone))
                               .order_by(Person.id).limit(1))
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is None:
        contact = Contact(phone=phone, consent_source=CONSENT, person_id=person_id, fields={})
        session.add(contact)
        session.flush()
    lst = session.scalar(select(OutreachList).where(OutreachList.name == list_name(purpose)))
    if lst is None:
        lst = OutreachList(name=list_name(purpose))
        session.add(lst)
        session.flush()
    if session.get(ListEntry, (lst.id, contact.id)) is None:
        session.add(ListEntry(list_id=lst.id, contact_id=contact.id))
    return contact.id, person_id or contact.person_id


def take(session: Session, did: str, purpose: str, caller: str | None, now: datetime, policy: MissedCallPolicy,
         rules: CallingRules, calendar: PollCalendar, ban_zone: str = INDIA) -> Taken:
    """Log one missed call and decide what follows (in the caller's transaction)."""
    purpose = purpose if purpose in PURPOSES else "call_back"

    def log(taken: Taken) -> Taken:
        session.add(MissedCall(did=did[:40], purpose=purpose, phone=taken.phone, at=now, outcome=taken.outcome,
                               contact_id=taken.contact_id, callback_at=taken.callback_at))
        return taken

    text = (caller or "").strip()
    if text.lower() in WITHHELD or not any(ch.isdigit() for ch in text):
        return log(Taken("withheld"))
    try:
        phone = normalise_phone(text)
    except PhoneError:
        return log(Taken("unusable"))
    recent = session.scalar(select(func.count()).select_from(MissedCall).where(
        MissedCall.phone == phone, MissedCall.at >= now - timedelta(minutes=policy.flood_minutes)))
    if (recent or 0) + 1 > policy.flood_calls:
        return log(Taken("flood", phone))
    contact_id, person_id = _contact(session, phone, purpose)
    if opted_out(session, [phone]):
        return log(Taken("opted_out", phone, contact_id, person_id))
    queued_today = session.scalar(select(func.count()).select_from(MissedCall).where(
        MissedCall.phone == phone, MissedCall.outcome == "queued", MissedCall.at >= day_start(now, rules)))
    if (queued_today or 0) >= policy.callbacks_per_day:
        return log(Taken("capped", phone, contact_id, person_id))
    ac_no = session.scalar(select(Contact.ac_no).where(Contact.id == contact_id))
    verdict = check_person(Callee(phone, ac_no), now, rules, calendar, ban_zone)
    when = now if verdict.allowed else verdict.retry_at
    if when is None:
        return log(Taken("held", phone, contact_id, person_id))
    return log(Taken("queued", phone, contact_id, person_id, when))


def figures(session: Session, since: datetime) -> dict[str, int]:
    """Missed calls since ``since`` by outcome (queued, capped, flood, withheld...)."""
    return {str(k): int(v) for k, v in session.execute(
        select(MissedCall.outcome, func.count()).where(MissedCall.at >= since).group_by(MissedCall.outcome))}
