"""What the supervisors' dashboard reads from the database: its stored figures, charts, the drill-down by
area and the tickets board, each in one transaction off the event loop."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.charts import charts
from dashboard.drill import drill
from dashboard.figures import stored_figures
from dashboard.tickets import BoardFilter, ticket_areas, ticket_row, tickets_board
from db.engine import Database
from db.tickets import CATEGORIES
from db.users import User


class DashboardService:
    """The dashboard's reads. ``timezone`` is the war room's (today's figures are its day);
    ``target_minutes`` is how long a ticket may stay open before the board shows it overdue; ``outreach``
    reads voter outreach's part of the board (None: no outreach in this service), at most once every
    ``outreach_every`` seconds (it counts through lists of lakhs; the board is read every second)."""

    def __init__(self, db: Database, *, timezone: str, target_minutes: int, node_lease: float = 30.0,
                 outreach: Callable[[], Awaitable[dict[str, Any]]] | None = None, outreach_every: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db, self.timezone, self.target_minutes, self.node_lease = db, timezone, target_minutes, node_lease
        self.outreach, self.outreach_every, self.monotonic = outreach, outreach_every, monotonic
        self._outreach: tuple[float, dict[str, Any]] | None = None  # (read at, figures)

    async def stored_figures(self) -> dict[str, Any]:
        """Campaigns with their progress, operators, today's totals, open tickets, the nodes, and the outreach
        campaigns with their progress, ETA, listens, replies and opt-outs (with the newest voice messages)."""
        figures = await self.db.run(stored_figures, self.timezone, None, self.node_lease)
        if self.outreach is not None:
            figures["outreach"] = await self.outreach_figures()
        return figures

    async def outreach_figures(self) -> dict[str, Any]:
        """Outreach's part of the board, read again once it is ``outreach_every`` seconds old."""
        assert self.outreach is not None
        now = self.monotonic()
        if self._outreach is None or now - self._outreach[0] >= self.outreach_every:
            self._outreach = (now, await self.outreach())
        return self._outreach[1]

    async def charts(self, campaign_id: int | None = None) -> dict[str, Any]:
        """Calls by hour today, outcomes by booth status, survey answers, coverage by area."""
        return await self.db.run(charts, self.timezone, campaign_id)

    async def drill(self, unit_id: int | None = None) -> dict[str, Any]:
        """One unit (None: the top) with its path, figures, survey answers and its children's figures."""
        return await self.db.run(drill, unit_id)

    async def tickets_board(self, board_filter: BoardFilter | None = None) -> list[dict[str, Any]]:
        """The tickets board (by default: open and assigned, and those resolved in the last day)."""
        return await self.db.run(tickets_board, board_filter or BoardFilter(), self.target_minutes)

    async def ticket_row(self, ticket_id: int) -> dict[str, Any] | None:
        """One ticket as the board shows it (None: no such ticket)."""
        return await self.db.run(ticket_row, ticket_id, self.target_minutes)

    async def ticket_choices(self) -> dict[str, Any]:
        """What the board's filters and assign box offer: districts, ACs, categories, enabled users."""
        def work(session: Session) -> dict[str, Any]:
            users = session.scalars(select(User.username).where(User.disabled.is_(False))
                                    .order_by(User.username)).all()
            return {**ticket_areas(session), "categories": list(CATEGORIES), "users": list(users)}

        return await self.db.run(work)
