"""Recording what people do, in the same transaction as the change itself (a change that rolls back
leaves no entry; an entry never exists without its change)."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from db.audit import AuditEntry
from db.models import utcnow


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (name and id), the system itself, or someone at the command line."""

    name: str
    user_id: int | None = None
    address: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def cli(cls) -> Actor:
        """The person at the command line (their operating-system user)."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(f"cli:{who}"[:80])


def record(session: Session, actor: Actor, action: str, target: str | None = None, *,
           detail: Mapping[str, Any] | None = None, outcome: str = "ok", at: datetime | None = None) -> None:
    """Add one entry (``action`` like ``campaign.start``; ``target`` like ``campaign:12``). ``detail`` must
    not hold personal data: ids, counts, states and reasons only."""
    session.add(AuditEntry(at=at or utcnow(), actor=actor.name[:80], actor_id=actor.user_id, action=action[:60],
                           target=target[:120] if target else None, outcome=outcome[:20],
                           detail=dict(detail or {}), address=actor.address))
