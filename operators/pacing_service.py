"""Supervisors' use cases for pacing: switch an operator campaign between progressive and predictive and
set its abandon cap (audited), and the pacing board the dashboard shows (per campaign: the mode, the dial
level, the abandon rate over the window and the day against the cap; for the room: occupancy and wait
between calls). The web API, the page and ``warroom campaign pacing`` all call :class:`PacingService`. The
call-back tasks abandoned calls leave are :class:`operators.callback_service.CallbackService`'s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from db.campaigns import Campaign, CampaignMode, CampaignPacing, CampaignState
from db.engine import Database
from dialer.campaigns import CampaignInvalid, get_campaign
from dialer.pacing_inputs import campaign_figures
from operators.occupancy import occupancy

MAX_CAP = 0.2          # a cap above 20% is a mistake (3% is the usual regulator's)
SHOWN = (CampaignState.running, CampaignState.paused, CampaignState.draft)


def parse_cap(text: str | float) -> float:
    """``3%``, ``3`` (percent when above 1) or ``0.03`` -> 0.03; a clear error otherwise."""
    raw = str(text).strip()
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise CampaignInvalid(f"abandon cap '{raw}': give a percentage such as 3% or a fraction such as 0.03") \
            from None
    if raw.endswith("%") or value > 1:
        value /= 100
    if not 0 < value <= MAX_CAP:
        raise CampaignInvalid(f"abandon cap '{raw}': must be above 0 and at most {MAX_CAP:.0%}")
    return round(value, 4)


def set_pacing(session: Session, ref: str, pacing: str | None, cap: float | None) -> Campaign:
    campaign = get_campaign(session, ref)
    if pacing is not None:
        try:
            mode = CampaignPacing(pacing)
        except ValueError:
            raise CampaignInvalid(f"pacing '{pacing}': one of {', '.join(p.value for p in CampaignPacing)}") from None
        if mode is CampaignPacing.predictive and campaign.mode is not CampaignMode.operator:
            raise CampaignInvalid(f"campaign '{campaign.name}' is an {campaign.mode.value} campaign: only operator "
                                  "campaigns are paced (predictive dialing needs operators)")
        campaign.pacing = mode
    if cap is not None:
        campaign.abandon_cap = parse_cap(cap)
    return campaign


def pacing_row(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "state": c.state.value, "pacing": c.pacing.value, "abandon_cap": c.abandon_cap}


class PacingService:
    """``live()``: the pacer's last decision per campaign id (this node's dialer)."""

    def __init__(self, db: Database, live: Callable[[], dict[int, dict[str, Any]]], *, window: timedelta,
                 timezone: str, clock: Callable[[], datetime], wake: Callable[[], None] = lambda: None) -> None:
        self.db, self.live, self.window, self.timezone, self.clock, self.wake = db, live, window, timezone, clock, wake

    async def set(self, ref: str, actor: Actor, pacing: str | None = None, cap: float | str | None = None) -> \
            dict[str, Any]:
        """Switch a campaign's pacing and/or set its abandon cap (``3%`` or ``0.03``)."""
        if pacing is None and cap is None:
            raise CampaignInvalid("give the pacing (progressive or predictive), the abandon cap, or both")
        cap_value = parse_cap(cap) if cap is not None else None

        def work(session: Session) -> dict[str, Any]:
            campaign = set_pacing(session, ref, pacing, cap_value)
            record(session, actor, "campaign.pacing", f"campaign:{campaign.id}",
                   detail={"pacing": campaign.pacing.value, "abandon_cap": campaign.abandon_cap})
            return pacing_row(campaign)

        out = await self.db.run(work)
        self.wake()
        return out

    async def board(self) -> dict[str, Any]:
        """Per operator campaign shown: pacing, dial level and abandon rates against the cap; for the operators:
        occupancy and wait between calls over the window and today."""
        now = self.clock()
        day = now.astimezone(ZoneInfo(self.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
        live = self.live()

        def work(session: Session) -> dict[str, Any]:
            rows = []
            for c in session.scalars(select(Campaign).where(Campaign.mode == CampaignMode.operator,
                                                            Campaign.state.in_(SHOWN)).order_by(Campaign.id)):
                f = campaign_figures(session, c.id, now, self.window, day)
                last = live.get(c.id, {})
                rows.append({**pacing_row(c), "running": last.get("running", "progressive"),
                             "level": last.get("level"), "reason": last.get("reason"),
                             "why": last.get("why"), "why_args": last.get("why_args") or {},
                             "abandon_window": round(f.abandoned / f.answered, 4) if f.answered else 0.0,
                             "abandon_day": round(f.abandoned_day / f.answered_day, 4) if f.answered_day else 0.0,
                             "answered_window": f.answered, "answered_day": f.answered_day,
                             "abandoned_day": f.abandoned_day,
                             "answer_rate": round(f.answered / f.dialed, 3) if f.dialed else None})
            return {"campaigns": rows, "window_minutes": round(self.window.total_seconds() / 60),
                    "operators": {"window": occupancy(session, now - self.window, now),
                                  "day": occupancy(session, day, now)}}

        return await self.db.run(work)
