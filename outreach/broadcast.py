"""Broadcast calls' bookkeeping, apart from Asterisk: which contacts of the running outreach campaigns to
dial now (planned through the law in ``outreach/rules.py``, each attempt written with its caller ID, trunk
and the trunk's registration category before it is dialed), what an answered call needs to play, how each
call ends (``outcome``, with the carrier-announcement guard), and the voice messages left for the leader."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.errors import Invalid
from db.outreach import Contact, OptOut, OutreachAttempt, OutreachCampaign, OutreachReply
from dialer.attempt import disposition_for
from dialer.rules import CallingRules
from outreach import campaigns
from outreach.rules import INDIA

GUARD_SECONDS = 2.0   # answered and gone within this: a carrier's announcement or a reflex, not a listen
# what an answered call came to, strongest first (one outcome per attempt)
OUTCOMES = ("opted_out", "replied", "operator", "listened", "guarded")
COUNTED = {"listened": "listens", "replied": "replies", "opted_out": "opt_outs", "operator": "operator",
           "guarded": "guarded"}
Ending = tuple[datetime | None, datetime, int | None]  # Asterisk's record: answered at, ended at, cause
UNANSWERED = {2: "no_answer", 3: "no_answer", 5: "busy", 8: "congestion", 1: "no_answer", 0: "failed"}


@dataclass(frozen=True)
class Dial:
    """One broadcast call to place: its attempt (already written), the number, the trunk and caller ID."""

    attempt_id: int
    campaign: str
    phone: str
    trunk: str
    caller_id: str


@dataclass(frozen=True)
class Heard:
    """What happened on an answered call, for its outcome."""

    seconds: float             # from answer to hang-up
    voice: bool = False        # the far end spoke (Asterisk's talk detection)
    keys: str = ""             # keys pressed
    replied: bool = False      # left a voice message
    opted_out: bool = False
    operator: bool = False


def outcome(heard: Heard) -> str:
    """The attempt's outcome. A call that showed no sign of a person (no voice, no key) or ended within
    ``GUARD_SECONDS`` of the answer is ``guarded``: counted apart from real listens."""
    if heard.opted_out:
        return "opted_out"
    if heard.replied:
        return "replied"
    if heard.operator:
        return "operator"
    if heard.seconds < GUARD_SECONDS or not (heard.voice or heard.keys):
        return "guarded"
    return "listened"


def unanswered(reason: int, cause: int | None = None) -> str:
    """The outcome of a call never answered, from its Q.850 hangup ``cause`` (Asterisk's record of its end)
    as the dialer reads it, else from the OriginateResponse's reason alone."""
    if cause is not None:
        return disposition_for(answered=False, cause=cause, reason=reason).value
    return UNANSWERED.get(reason, "failed")


def running(session: Session) -> list[str]:
    return list(session.scalars(select(OutreachCampaign.name).where(OutreachCampaign.state == "running")
                                .order_by(OutreachCampaign.id)))


def plan_calls(session: Session, name: str, now: datetime, rules: CallingRules, on_dnd: Any, limit: int,
               busy: set[str], ban_zone: str = INDIA, room: Callable[[str], int] | None = None) -> list[Dial]:
    """Up to ``limit`` calls for campaign ``name`` now (and no more than ``room`` says its trunk has free),
    each attempt written first (caller ID, trunk, registration category). A number already in a call
    (``busy``) is left for a later pass."""
    campaign = campaigns.get_campaign(session, name)
    if room is not None:
        limit = min(limit, room(campaign.trunk))
    if not campaign.recording or limit <= 0:
        return []  # nothing to play (the campaign waits for its recording), or no line free
    due, _ = campaigns.plan_due(session, name, now, rules, on_dnd, limit, ban_zone)
    calls = []
    for person in due:
        if person.phone in busy:
            continue
        attempt = campaigns.record_attempt(session, name, person, trunk=campaign.trunk, at=now)
        calls.append(Dial(attempt, name, person.phone, campaign.trunk, campaign.caller_id or ""))
    return calls


def set_recording(session: Session, name: str, recording: str) -> None:
    if not recording.strip():
        raise Invalid("a recording's name", field="recording")
    campaigns.get_campaign(session, name).recording = recording.strip()[:60]


@dataclass(frozen=True)
class CallInfo:
    """What an answered broadcast call needs: the recording, whom to name, where they vote."""

    attempt_id: int
    campaign_id: int
    recording: str
    phone: str
    name: str
    language: str
    contact_id: int | None
    ac_no: int | None
    booth: str | None


def call_info(session: Session, attempt_id: int) -> CallInfo | None:
    attempt = session.get(OutreachAttempt, attempt_id)
    if attempt is None:
        return None
    campaign = session.get(OutreachCampaign, attempt.campaign_id)
    contact = session.get(Contact, attempt.contact_id) if attempt.contact_id else None
    name, language = campaigns.who(session, attempt.phone) if contact else ("", "hi")
    return CallInfo(attempt.id, attempt.campaign_id, campaign.recording or "" if campaign else "", attempt.phone,
                    name, language, attempt.contact_id, contact.ac_no if contact else None,
                    contact.booth if contact else None)


def settle(session: Session, attempt_id: int, result: str, seconds: float | None) -> None:
    session.execute(update(OutreachAttempt).where(OutreachAttempt.id == attempt_id).values(
        outcome=result, listened_s=seconds))


def save_reply(session: Session, info: CallInfo, recording: str, at: datetime, seconds: float | None) -> int:
    """A voice message for the leader, kept with the person's AC and booth."""
    reply = OutreachReply(campaign_id=info.campaign_id, attempt_id=info.attempt_id, contact_id=info.contact_id,
                          name=recording, ac_no=info.ac_no, booth=info.booth, at=at, seconds=seconds)
    session.add(reply)
    session.flush()
    return reply.id


def open_attempts(session: Session, ids: Collection[int] | None = None) -> list[tuple[int, str, datetime]]:
    """Attempts with no outcome yet (id, phone, made at): every one, or those among ``ids``."""
    query = select(OutreachAttempt.id, OutreachAttempt.phone, OutreachAttempt.at).where(
        OutreachAttempt.outcome.is_(None))
    if ids is not None:
        if not ids:
            return []
        query = query.where(OutreachAttempt.id.in_(list(ids)))
    return [(i, phone, at) for i, phone, at in session.execute(query.order_by(OutreachAttempt.id))]


def missed_outcome(session: Session, attempt: OutreachAttempt, ending: Ending | None) -> tuple[str, float | None]:
    """What a call whose end this service did not see came to, from Asterisk's record of its end (answer
    time, end time, Q.850 cause; None: no record, the call was lost) and what the call left behind: a voice
    message (``replied``), the number's opt-out during it (``opted_out``). An answered call is otherwise
    ``answered`` (what the person heard is unknown: not counted as a listen), or ``guarded`` when it ended
    within ``GUARD_SECONDS``; an unanswered one as the dialer would have it (busy, no_answer...)."""
    if ending is None:
        return "failed", None
    answered, ended, cause = ending
    if answered is None:
        return disposition_for(answered=False, cause=cause, reason=None).value, None
    seconds = round(max(0.0, (ended - answered).total_seconds()), 1)
    if session.scalar(select(OutreachReply.id).where(OutreachReply.attempt_id == attempt.id).limit(1)) is not None:
        return "replied", seconds
    if session.scalar(select(OptOut.phone).where(OptOut.phone == attempt.phone, OptOut.at >= attempt.at)) is not None:
        return "opted_out", seconds
    return ("guarded" if seconds < GUARD_SECONDS else "answered"), seconds


def settle_missed(session: Session, attempt_id: int, ending: Ending | None) -> str | None:
    """Settle an attempt whose call ended unseen (see :func:`missed_outcome`), unless it has an outcome
    already (its handler, or another node, settled it first): returns the outcome given, or None."""
    attempt = session.get(OutreachAttempt, attempt_id)
    if attempt is None or attempt.outcome is not None:
        return None
    result, seconds = missed_outcome(session, attempt, ending)
    done = session.execute(update(OutreachAttempt).where(OutreachAttempt.id == attempt_id,
                                                         OutreachAttempt.outcome.is_(None))
                           .values(outcome=result, listened_s=seconds))
    return result if getattr(done, "rowcount", 0) else None


def replies(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest voice messages, with the campaign, the person's AC and booth (never the number)."""
    rows = session.execute(
        select(OutreachReply, OutreachCampaign.name).join(OutreachCampaign,
                                                          OutreachCampaign.id == OutreachReply.campaign_id)
        .order_by(OutreachReply.at.desc(), OutreachReply.id.desc()).limit(limit))
    return [{"id": r.id, "campaign": name, "ac": r.ac_no, "booth": r.booth, "at": r.at.isoformat(),
             "seconds": r.seconds} for r, name in rows]


def reply_file(session: Session, reply_id: int) -> str | None:
    reply = session.get(OutreachReply, reply_id)
    return reply.name if reply else None


def counts(session: Session) -> dict[int, dict[str, int]]:
    """Per campaign id: listens, replies, opt-outs, operator, guarded (answered calls by what they came to)."""
    found: dict[int, dict[str, int]] = {}
    for cid, result, n in session.execute(
            select(OutreachAttempt.campaign_id, OutreachAttempt.outcome, func.count())
            .where(OutreachAttempt.outcome.in_(list(COUNTED))).group_by(OutreachAttempt.campaign_id,
                                                                         OutreachAttempt.outcome)):
        if result is not None:
            found.setdefault(cid, dict.fromkeys(COUNTED.values(), 0))[COUNTED[result]] = n
    return found
