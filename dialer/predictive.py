"""The dialer's side of predictive pacing: measure (:mod:`dialer.pacing_inputs`), decide
(:func:`dialer.pacing.decide`), remember the last decision per campaign for the dashboard.

The scheduler asks :meth:`PredictivePacer.room` how many calls a predictive operator campaign may start
now (progressive campaigns keep the old pacing, ``ari_handlers.progressive.Pacing``; a predictive one
falls back to the same rule inside :func:`~dialer.pacing.decide`). Operators are shared by the running
operator campaigns; the measured pool is divided evenly among them (each is paced on its share), and its
lines are its share of the trunk's (the scheduler's rounds, :mod:`dialer.sharing`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db.campaigns import Campaign, CampaignPacing
from db.engine import Database
from dialer.pacing import Decision, Measurements, PacingMode, PacingPolicy, decide
from dialer.pacing_inputs import CampaignFigures, OperatorFigures, campaign_figures, operator_figures

log = logging.getLogger(__name__)
FIGURES_EVERY = 2.0   # seconds a campaign's measured figures are reused


@dataclass(frozen=True)
class PacerConfig:
    ratio: float = 1.0                   # progressive: calls per ready operator
    window: timedelta = timedelta(minutes=30)
    min_answered: int = 30
    min_operators: int = 3
    grace: float = 0.5                   # the abandon wait less the hand-over to the operator
    wrap_seconds: float = 60.0
    timezone: str = "Asia/Kolkata"       # where "today" begins, for the day's abandon rate
    node: str | None = None


def policy_for(campaign: Campaign, config: PacerConfig) -> PacingPolicy:
    mode = PacingMode.predictive if campaign.pacing is CampaignPacing.predictive else PacingMode.progressive
    return PacingPolicy(mode=mode, cap=campaign.abandon_cap, ratio=config.ratio, min_answered=config.min_answered,
                        min_operators=config.min_operators,
                        min_samples=min(PacingPolicy.min_samples, config.min_answered), grace=config.grace)


def share(ops: OperatorFigures, campaigns: int, index: int) -> OperatorFigures:
    """Campaign ``index``'s even share of the operators (the first ones get the remainder)."""
    if campaigns <= 1:
        return ops

    def part(items: list[float]) -> list[float]:
        return items[index::campaigns]

    ready = ops.ready // campaigns + (1 if index < ops.ready % campaigns else 0)
    return replace(ops, ready=ready, wrapping=part(ops.wrapping), talking=part(ops.talking))


class PredictivePacer:
    """``waiting()``: answered operator calls waiting for an operator now."""

    def __init__(self, db: Database, waiting: Callable[[], int], config: PacerConfig,
                 clock: Callable[[], datetime]) -> None:
        self.db, self.waiting, self.config, self.clock = db, waiting, config, clock
        self.last: dict[int, dict[str, Any]] = {}
        self.passes: dict[int, dict[str, int]] = {}   # per campaign: predictive passes, passes dialing ahead
        self._figures: dict[int, tuple[float, CampaignFigures]] = {}  # read at most every FIGURES_EVERY seconds

    def day_start(self, now: datetime) -> datetime:
        local = now.astimezone(ZoneInfo(self.config.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    async def room(self, campaign: Campaign, free: int, ringing: list[float], campaigns: int = 1,
                   index: int = 0) -> int:
        """Calls ``campaign`` may start now, ``free`` lines being free to it and its calls ringing for
        ``ringing`` seconds each."""
        now = self.clock()
        c = self.config
        figures = await self._campaign_figures(campaign.id, now)
        ops = share(await self.db.run(operator_figures, now, c.node), campaigns, index)
        m = Measurements(lines_free=free, ready=ops.ready, waiting=self.waiting(), ringing=ringing,
                         wrapping=ops.wrapping, talking=ops.talking, wrap_seconds=c.wrap_seconds,
                         dialed=figures.dialed, answered=figures.answered, abandoned=figures.abandoned,
                         answered_day=figures.answered_day, abandoned_day=figures.abandoned_day,
                         answer_delays=figures.answer_delays, talk_times=figures.talk_times)
        decision = decide(m, policy_for(campaign, c))
        self._remember(campaign, m, decision, ops)
        return decision.start

    async def _campaign_figures(self, campaign_id: int, now: datetime) -> CampaignFigures:
        """The campaign's measured figures, read again once they are ``FIGURES_EVERY`` seconds old (they move
        with each call's end; the operators' states, which decide the moment, are read at every pass)."""
        kept = self._figures.get(campaign_id)
        if kept is not None and time.monotonic() - kept[0] < FIGURES_EVERY:
            return kept[1]
        figures = await self.db.run(campaign_figures, campaign_id, now, self.config.window, self.day_start(now))
        self._figures[campaign_id] = (time.monotonic(), figures)
        return figures

    def _remember(self, campaign: Campaign, m: Measurements, d: Decision, ops: OperatorFigures) -> None:
        passes = self.passes.setdefault(campaign.id, {"predictive_passes": 0, "dialed_ahead": 0})
        if d.mode is PacingMode.predictive:
            passes["predictive_passes"] += 1
            if d.start and d.in_progress + m.waiting > m.ready:
                passes["dialed_ahead"] += 1   # more calls out than operators ready now
        if d.start:
            log.debug("campaign %s: start %d (%s; ready %d, waiting %d, ringing %d, wrap-up %s, talking %s) %s",
                      campaign.name, d.start, d.reason, m.ready, m.waiting, len(m.ringing),
                      [round(x, 1) for x in m.wrapping], [round(x, 1) for x in m.talking], d.details)
        before = self.last.get(campaign.id)
        if before is None or before["running"] != d.mode.value:
            log.info("campaign %s paced %s: %s", campaign.name, d.mode.value, d.reason)
        self.last[campaign.id] = {
            "campaign_id": campaign.id, "pacing": campaign.pacing.value, "running": d.mode.value,
            "cap": campaign.abandon_cap, "level": d.level, "in_progress": d.in_progress, "started": d.start,
            "reason": d.reason, "why": d.why, "why_args": d.why_args, "abandon_window": round(m.abandon_rate, 4),
            "abandon_day": round(m.abandon_rate_day, 4),
            "answered_window": m.answered, "answered_day": m.answered_day, "abandoned_day": m.abandoned_day,
            "answer_rate": round(m.answer_rate, 3), "operators": m.working, "paused": ops.paused,
            "at": self.clock().isoformat(), **passes, **{f"model_{k}": v for k, v in d.details.items()}}

    def figures(self) -> dict[int, dict[str, Any]]:
        """The last decision per campaign (for the dashboard)."""
        return dict(self.last)
