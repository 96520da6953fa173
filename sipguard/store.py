"""The ban list in the database (``sip_bans``): each ban and its lifting are written with an audit entry
in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import NotFound
from db.sip_bans import SipBan


def active(session: Session, now: datetime) -> Sequence[SipBan]:
    """Bans in force now, newest first."""
    return session.scalars(select(SipBan).where(SipBan.lifted_at.is_(None), SipBan.until > now)
                           .order_by(SipBan.banned_at.desc())).all()


def active_addresses(session: Session, now: datetime) -> list[str]:
    return sorted({b.address for b in active(session, now)})


def ban(session: Session, address: str, *, failures: int, reason: str, now: datetime, until: datetime,
        actor: Actor) -> int:
    """Ban ``address`` until ``until`` (a ban in force is extended instead of doubled); returns its id."""
    current = session.scalar(select(SipBan).where(SipBan.address == address, SipBan.lifted_at.is_(None),
                                                  SipBan.until > now))
    if current is not None:
        current.until, current.failures = max(current.until, until), current.failures + failures
        ban_id = current.id
    else:
        row = SipBan(address=address, failures=failures, reason=reason[:200], banned_at=now, until=until)
        session.add(row)
        session.flush()
        ban_id = row.id
    record(session, actor, "sip.ban", f"address:{address}",
           detail={"ban": ban_id, "failures": failures, "reason": reason[:200], "until": until.isoformat()}, at=now)
    return ban_id


def lift(session: Session, address: str, *, now: datetime, actor: Actor) -> int:
    """Lift every ban in force on ``address``; how many were lifted (NotFound when none)."""
    rows = [b for b in active(session, now) if b.address == address]
    if not rows:
        raise NotFound(f"{address} is not banned")
    for b in rows:
        b.lifted_at, b.lifted_by = now, actor.name[:80]
    record(session, actor, "sip.unban", f"address:{address}", detail={"bans": [b.id for b in rows]}, at=now)
    return len(rows)


def expire(session: Session, now: datetime) -> list[str]:
    """Bans whose time is up, recorded as ended by the system (their addresses)."""
    rows = session.scalars(select(SipBan).where(SipBan.lifted_at.is_(None), SipBan.until <= now)).all()
    for b in rows:
        b.lifted_at, b.lifted_by = b.until, "expired"
        record(session, Actor.system(), "sip.unban", f"address:{b.address}",
               detail={"bans": [b.id], "reason": "expired"}, at=now)
    return [b.address for b in rows]


def listing(session: Session, now: datetime) -> list[dict[str, Any]]:
    """The bans in force, as the dashboard and ``warroom bans list`` show them."""
    return [{"address": b.address, "failures": b.failures, "reason": b.reason,
             "banned_at": b.banned_at.isoformat(), "until": b.until.isoformat()} for b in active(session, now)]
