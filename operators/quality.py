"""Call quality on browser phones: what a page measured with ``RTCPeerConnection.getStats()`` (packets
received, lost and sent, jitter, round trip), kept with the call (one row per operator and call, updated
while it lasts and once more at its end), and each operator's last call for the supervisors' dashboard,
flagged when it sounded bad (a bad headset or network shows there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Forbidden
from db.ivr import QueueCall
from db.models import utcnow
from db.phones import CallQuality
from operators.states import status_of

# above these a call sounded bad: more than 3 % lost, 30 ms of jitter, 300 ms round trip (ITU-T G.114
# puts the mouth-to-ear limit for good conversation at 150 ms one way)
BAD_LOSS, BAD_JITTER_MS, BAD_RTT_MS = 0.03, 30.0, 300.0


@dataclass(frozen=True)
class Sample:
    """One measurement of a call: counters since the call began, the last jitter and round trip."""

    packets_received: int
    packets_lost: int
    packets_sent: int
    jitter_ms: float | None = None
    rtt_ms: float | None = None
    codec: str | None = None


def loss(received: int, lost: int) -> float:
    """The fraction of packets lost (0 when nothing was expected yet)."""
    expected = received + max(0, lost)
    return max(0, lost) / expected if expected else 0.0


def bad(row: dict[str, Any]) -> list[str]:
    """What was bad about a call (empty: it sounded fine)."""
    why = []
    if row["loss"] > BAD_LOSS:
        why.append(f"{row['loss']:.0%} lost")
    if (row.get("max_jitter_ms") or 0) > BAD_JITTER_MS:
        why.append(f"jitter {row['max_jitter_ms']:.0f} ms")
    if (row.get("max_rtt_ms") or 0) > BAD_RTT_MS:
        why.append(f"round trip {row['max_rtt_ms']:.0f} ms")
    return why


def _max(old: float | None, new: float | None) -> float | None:
    return new if old is None else old if new is None else max(old, new)


def apply(row: CallQuality, sample: Sample, *, ended: bool, now: datetime) -> None:
    """Fold a sample into the call's row: counters are the latest (they only grow in one call; a smaller one
    is a restarted stream and is kept as it is), jitter and round trip the last and the worst."""
    row.packets_received = max(row.packets_received or 0, sample.packets_received)
    row.packets_lost = max(row.packets_lost or 0, sample.packets_lost)
    row.packets_sent = max(row.packets_sent or 0, sample.packets_sent)
    row.jitter_ms = sample.jitter_ms if sample.jitter_ms is not None else row.jitter_ms
    row.rtt_ms = sample.rtt_ms if sample.rtt_ms is not None else row.rtt_ms
    row.max_jitter_ms = _max(row.max_jitter_ms, sample.jitter_ms)
    row.max_rtt_ms = _max(row.max_rtt_ms, sample.rtt_ms)
    row.codec = sample.codec or row.codec
    row.samples = (row.samples or 0) + 1
    row.ended = row.ended or ended
    row.updated_at = now


def record(session: Session, user_id: int, channel_id: str, sample: Sample, *, ended: bool = False,
           now: datetime | None = None) -> CallQuality:
    """Store a sample of this operator's call ``channel_id`` (the caller's channel): refused unless it is
    their call now (or in its wrap-up), or one they already reported on."""
    now = now or utcnow()
    row = session.scalar(select(CallQuality).where(CallQuality.user_id == user_id,
                                                   CallQuality.channel_id == channel_id))
    if row is None:
        if status_of(session, user_id).channel_id != channel_id:
            raise Forbidden("that is not your call")
        queued = session.scalars(select(QueueCall).where(QueueCall.channel_id == channel_id)
                                 .order_by(QueueCall.id.desc())).first()
        row = CallQuality(user_id=user_id, channel_id=channel_id, queue_call_id=queued.id if queued else None,
                          attempt_id=queued.attempt_id if queued else None, started_at=now, samples=0,
                          packets_received=0, packets_lost=0, packets_sent=0, ended=False)
        try:
            with session.begin_nested():  # two samples of one call at once: the second updates the first's row
                session.add(row)
        except IntegrityError:
            row = session.scalars(select(CallQuality).where(CallQuality.user_id == user_id,
                                                            CallQuality.channel_id == channel_id)).one()
    apply(row, sample, ended=ended, now=now)
    session.flush()
    return row


def as_row(q: CallQuality) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel_id": q.channel_id, "codec": q.codec, "packets_received": q.packets_received,
        "packets_lost": q.packets_lost, "packets_sent": q.packets_sent, "loss": loss(q.packets_received,
                                                                                    q.packets_lost),
        "jitter_ms": q.jitter_ms, "max_jitter_ms": q.max_jitter_ms, "rtt_ms": q.rtt_ms, "max_rtt_ms": q.max_rtt_ms,
        "ended": q.ended, "at": q.updated_at.isoformat()}
    out["bad"] = bad(out)
    return out


def last_calls(session: Session, now: datetime | None = None, within: timedelta = timedelta(hours=12)
               ) -> dict[int, dict[str, Any]]:
    """Each operator's last measured call (within ``within``): {user id: quality}."""
    since = (now or utcnow()) - within
    last = (select(CallQuality.user_id, func.max(CallQuality.id).label("id"))
            .where(CallQuality.updated_at >= since).group_by(CallQuality.user_id).subquery())
    rows = session.scalars(select(CallQuality).join(last, last.c.id == CallQuality.id))
    return {q.user_id: as_row(q) for q in rows}
