"""Missed calls: a person rings a campaign's missed-call number (it is never answered, so it costs them
nothing) and is queued to be called back by that campaign at once."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.campaigns import Campaign, Target, TargetState
from db.models import Person
from directory.phones import PhoneError, normalise_phone


def call_back(session: Session, campaign_name: str, caller: str) -> str:
    """Queue the caller (by their phone or alternate phone) to be called back now by ``campaign_name``;
    returns what was done, in words (no phone number in it)."""
    campaign = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
    if campaign is None:
        return f"no campaign '{campaign_name}'"
    try:
        phone = normalise_phone(caller)
    except PhoneError as exc:
        return f"caller's number unusable: {exc}"
    person_id = session.scalar(select(Person.id).where(or_(Person.phone == phone, Person.alt_phone == phone))
                               .order_by(Person.id).limit(1))
    if person_id is None:
        return "caller not in the directory"
    target = session.scalar(select(Target).where(Target.campaign_id == campaign.id, Target.person_id == person_id))
    if target is None:
        session.add(Target(campaign_id=campaign.id, person_id=person_id, state=TargetState.queued, next_at=None,
                           tries=0, tries_by={}, blocked_by="called the missed-call number"))
        return f"person {person_id} added to campaign {campaign.id} to be called back"
    if target.state == TargetState.dialing:
        return f"person {person_id} is being called already"
    session.execute(update(Target).where(Target.id == target.id).values(
        state=TargetState.queued, next_at=None, blocked_rule=None, blocked_by="called the missed-call number"))
    return f"person {person_id} queued in campaign {campaign.id} to be called back"
