"""Which trunk a campaign dials on now, and why a campaign waits (pure, but for the database write of the
reason a campaign waits).

A campaign names one trunk or several (``lines,gsm``, in order of preference). The first trunk that is up
and has a free line is used; a trunk that is down (rejected, unreachable...) is passed over and, when no
trunk of the campaign is up, the campaign waits: its targets stay queued (nothing is dialed, nothing burnt
as failed) and its screen says why (``campaigns.waiting``), until a trunk is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.campaigns import Campaign
from db.engine import Database

log = logging.getLogger(__name__)


class TrunkGate(Protocol):
    """What the dialer asks about the trunks' health (``trunks.health.TrunkHealth``)."""

    def gate(self, trunk: str) -> str | None: ...

    def fault(self, trunk: str, since: datetime) -> str | None: ...


class AllUp:
    """Every trunk up (nothing watched: the sandbox's test setups, unit tests)."""

    def gate(self, trunk: str) -> str | None:
        return None

    def fault(self, trunk: str, since: datetime) -> str | None:
        return None


def trunk_names(value: str) -> list[str]:
    """A campaign's trunk column (``lines`` or ``lines,gsm``) as names in order of preference."""
    return [name.strip() for name in value.split(",") if name.strip()]


def choose(names: Sequence[str], free: Callable[[str], int], gate: TrunkGate,
           known: Callable[[str], bool]) -> tuple[str | None, int, str | None]:
    """``(trunk, free lines, None)`` for the first of ``names`` that is up with a line free; ``(None, 0,
    None)`` when the trunks that are up are all busy (nothing to say: lines free up soon); ``(None, 0, why)``
    when none of them can take calls now."""
    reasons, busy = [], False
    for name in names:
        if not known(name):
            reasons.append(f"trunk {name} is not configured")
            continue
        why = gate.gate(name)
        if why is not None:
            reasons.append(f"trunk {name} {why}")
            continue
        n = free(name)
        if n > 0:
            return name, n, None
        busy = True
    if busy:
        return None, 0, None
    return None, 0, "; ".join(reasons) or "no trunk"


class CampaignWaits:
    """Writes why a campaign waits (or that it no longer does), only when that changes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._said: dict[int, str | None] = {}

    async def note(self, campaign: Campaign, why: str | None) -> None:
        """``why`` the campaign cannot dial now (None: it dials)."""
        known = self._said.get(campaign.id, campaign.waiting)
        if known == why:
            self._said[campaign.id] = why
            return
        await self.db.run(set_waiting, campaign.id, why)
        self._said[campaign.id] = why
        if why:
            log.warning("campaign %s waits: %s", campaign.name, why)
        else:
            log.info("campaign %s dials again", campaign.name)


def set_waiting(session: Session, campaign_id: int, why: str | None) -> None:
    session.execute(update(Campaign).where(Campaign.id == campaign_id).values(waiting=why[:500] if why else None))
