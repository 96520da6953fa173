"""What the supervisors' dashboard shows of voter outreach, read in one transaction: each outreach campaign
not stopped with its progress through its list, the calls in flight, how long it will take at its live pace
on the lines it dials on (and how many calls a line makes an hour), what its answered calls came to (real
listens apart from the carrier-announcement guard's silent or short answers, voice messages for the leader,
opt-outs, callers who asked for an operator), and the newest voice messages, to play."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.outreach import OutreachAttempt, OutreachCampaign
from dialer.rules import CallingRules
from outreach import broadcast, campaigns
from outreach.eta import Pace, finish_at, lines_needed

SHOWN = ("running", "paused", "draft")


def with_eta(found: dict[str, Any], now: datetime, lines: int, rules: CallingRules,
             by: datetime | None = None) -> dict[str, Any]:
    """A campaign's figures (:func:`outreach.campaigns.figures`) with, at its live pace (answer rate, mean
    listen; defaults until it has made calls), when it finishes on ``lines`` lines and how many lines would
    finish it by ``by``."""
    made = sum(found["attempts"].values())
    pace = Pace(answer_rate=found["answered"] / made if made else Pace.answer_rate,
                listen_seconds=found["mean_listen_s"] or Pace.listen_seconds)
    remaining = max(0, found["list_size"] - found["planned"])
    done = finish_at(now, remaining, lines, pace, rules)
    out = {**found, "remaining": remaining, "lines": lines, "per_line_hour": round(pace.per_line_hour(), 1),
           "finishes_at": done.isoformat() if done else None}
    if by is not None:
        out.update(by=by.isoformat(), lines_needed=lines_needed(now, by, remaining, pace, rules))
    return out


def board(session: Session, now: datetime, rules: CallingRules, lines: int, replies: int = 8) -> dict[str, Any]:
    """Outreach campaigns (running, paused, draft) with progress, ETA and what their calls came to; the
    ``replies`` newest voice messages (campaign, AC, booth, when: never the number)."""
    counted = broadcast.counts(session)
    flying: dict[int, int] = {campaign_id: n for campaign_id, n in session.execute(
        select(OutreachAttempt.campaign_id, func.count()).join(
            OutreachCampaign, OutreachCampaign.id == OutreachAttempt.campaign_id)
        .where(OutreachAttempt.outcome.is_(None), OutreachCampaign.state.in_(SHOWN))
        .group_by(OutreachAttempt.campaign_id))}
    shown = []
    for name in session.scalars(select(OutreachCampaign.name).where(OutreachCampaign.state.in_(SHOWN))
                                .order_by(OutreachCampaign.id)):
        found = with_eta(campaigns.figures(session, name), now, lines, rules)
        made = sum(found["attempts"].values())
        found.update(counts=counted.get(found["id"], dict.fromkeys(broadcast.COUNTED.values(), 0)),
                     in_flight=flying.get(found["id"], 0), calls=made)
        shown.append(found)
    return {"campaigns": shown, "replies": broadcast.replies(session, replies), "lines": lines}
