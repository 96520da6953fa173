"""Poll day's use cases: save an AC's plan, run its rounds on time (each as a dialer campaign), turn the
IVR's answers into booth reports as they are given, raise alerts for booths gone silent, and read the
board. Counting day the same way: an AC's counting plan, its rounds calling the counting agents, their
answers into each table's return, and the result sheet. It publishes :class:`~events.types.PollDayChanged`
for the boards' live pages.

:meth:`PollDayService.start` subscribes to the IVR's answers and starts the round ticker (every
``every`` seconds); :meth:`close` stops both. ``tick`` can also be called with a moment (tests, a CLI).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.tasks import Tasks
from db.engine import Database
from db.models import utcnow
from dialer.rules import CallingRules
from directory.units import UnitNotFound, resolve_units
from events.bus import EventBus
from events.types import IvrAnswered, PollDayChanged
from pollday import board as boards
from pollday import counting_board, store
from pollday import counting_store as counts
from pollday.counting import CountingPlan
from pollday.errors import PlanInvalid
from pollday.plan import PollDayPlan
from pollday.rounds import round_now

log = logging.getLogger(__name__)


class PollDayService:
    def __init__(self, db: Database, bus: EventBus, *, clock: Callable[[], datetime] = utcnow,
                 wake: Callable[[], None] = lambda: None, every: float = 5.0,
                 rules: CallingRules | None = None) -> None:
        self.db, self.bus, self.clock, self.wake, self.every = db, bus, clock, wake, every
        self.rules = rules or CallingRules()  # the dialer's calling rules (a round's preview judges by them)
        self._tasks = Tasks("poll day")
        self._ticker: asyncio.Task[None] | None = None

    # -- life -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.bus.subscribe(IvrAnswered, self._answered)
        if self._ticker is None:
            self._ticker = self._tasks.spawn(self._tick_forever(), "round ticker")

    def close(self) -> None:
        self.bus.unsubscribe(IvrAnswered, self._answered)
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    async def _tick_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("poll day: a round tick failed")
            await asyncio.sleep(self.every)

    # -- use cases --------------------------------------------------------------------------------
    async def save_plan(self, plan: PollDayPlan, actor: Actor) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            row = store.save_plan(session, plan)
            record(session, actor, "pollday.plan", f"unit:{plan.ac_id}", detail=store.summary(row))
            return store.summary(row)
        return await self.db.run(work)

    async def ac_id(self, ref: str) -> int:
        """An AC by reference (``ac:152`` or an id)."""
        def work(session: Session) -> int:
            try:
                return resolve_units(session, [ref])[0]
            except UnitNotFound as exc:
                raise PlanInvalid(str(exc), field="ac") from None
        return await self.db.run(work)

    async def plans(self) -> list[dict[str, Any]]:
        return await self.db.run(lambda s: [store.summary(r) for r in store.plans(s)])

    async def reach(self, ac_id: int, *, counting: bool = False) -> dict[str, Any]:
        """Who the AC's current (or next) turnout round, or counting round, would reach and who the calling
        rules would hold back (and why), as the dialer will judge its calls: the plan's own agents are not
        held by the silence period, the calling window or the daily cap."""
        def work(session: Session) -> dict[str, Any]:
            if counting:
                return counts.round_reach(session, counts.plan_for_ac(session, ac_id), self.clock(), self.rules)
            return store.round_reach(session, store.plan_for_ac(session, ac_id), self.clock(), self.rules)
        return await self.db.run(work)

    async def tick(self, now: datetime | None = None) -> list[tuple[int, int]]:
        """Start every round that is due (late ones too; missed ones are noted as superseded) and raise
        silence alerts; returns the (AC, round) pairs started."""
        moment = now or self.clock()

        def work(session: Session) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[int]]:
            started, counting, alerted = [], [], []
            for row in store.plans(session):
                done = store.started_rounds(session, row.id)
                found = round_now(store.plan_of(row), moment, done)
                if found.round is not None and found.round.number not in done and store.start_round(
                        session, row, found.round, late=found.late,
                        superseded=tuple(n for n in found.superseded if n not in done), now=moment) is not None:
                    started.append((row.ac_id, found.round.number))  # else another node started it just now
                if store.silence_alerts(session, row, moment):
                    alerted.append(row.ac_id)
            for count in counts.plans(session):  # counting day: the same scheduler, counting rounds
                begun = counts.started_rounds(session, count.id)
                found = round_now(counts.plan_of(count), moment, begun)
                if found.round is not None and found.round.number not in begun and counts.start_round(
                        session, count, found.round, late=found.late,
                        superseded=tuple(n for n in found.superseded if n not in begun), now=moment) is not None:
                    counting.append((count.ac_id, found.round.number))
            return started, counting, alerted

        started, counting, alerted = await self.db.run(work)
        for ac_id, number in started:
            log.info("poll day: AC %s round %s started", ac_id, number)
            self.bus.publish(PollDayChanged(ac_id, "round"))
        for ac_id, number in counting:
            log.info("counting day: AC %s round %s started", ac_id, number)
            self.bus.publish(PollDayChanged(ac_id, "count"))
        for ac_id in alerted:
            self.bus.publish(PollDayChanged(ac_id, "alert"))
        if started or counting:
            self.wake()
        return started + counting

    def _answered(self, event: IvrAnswered) -> None:
        if event.step in store.REPORT_STEPS and event.valid:
            self._tasks.spawn(self.record(event), f"report from call {event.call_id}")
        elif counts.is_count_step(event.step) and event.valid and event.number is not None:
            self._tasks.spawn(self.record_count(event), f"count from call {event.call_id}")

    async def record(self, event: IvrAnswered) -> store.Recorded | None:
        """Put one answer into its booth's report (nothing when the call is not a poll-day report)."""
        found = await self.db.run(store.record_answer, event.call_id, event.step, event.value, event.number,
                                  event.at)
        if found is not None:
            self.bus.publish(PollDayChanged(found.ac_id, "report", found.booth_id))
        return found

    async def board(self, ac_id: int) -> dict[str, Any]:
        return await self.db.run(boards.board, ac_id, self.clock())

    async def export(self, ac_id: int, rnd: int) -> list[dict[str, Any]]:
        return await self.db.run(boards.export_round, ac_id, rnd)

    async def close_alert(self, alert_id: int, actor: Actor) -> None:
        def work(session: Session) -> int:
            alert = store.close_alert(session, alert_id, actor.name)
            record(session, actor, "pollday.alert.done", f"alert:{alert_id}")
            return store.ac_of_plan(session, alert.plan_id)
        self.bus.publish(PollDayChanged(await self.db.run(work), "alert"))

    # -- counting day -----------------------------------------------------------------------------
    async def save_counting_plan(self, plan: CountingPlan, actor: Actor) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            row = counts.save_plan(session, plan)
            record(session, actor, "pollday.counting_plan", f"unit:{plan.ac_id}", detail=counts.summary(row))
            return counts.summary(row)
        return await self.db.run(work)

    async def counting_plans(self) -> list[dict[str, Any]]:
        return await self.db.run(lambda s: [counts.summary(r) for r in counts.plans(s)])

    async def record_count(self, event: IvrAnswered) -> counts.Counted | None:
        """Put one counting answer (a party's votes at the caller's table) into the round's return."""
        found = await self.db.run(counts.record_answer, event.call_id, event.step, event.number, event.at)
        if found is not None:
            self.bus.publish(PollDayChanged(found.ac_id, "count"))
        return found

    async def enter_votes(self, ac_id: int, rnd: int, table: int, votes: dict[str, int],
                          actor: Actor) -> dict[str, Any]:
        """An operator's figures for a table's round (called back after an alert, or read off the sheet),
        checked like an agent's; audited."""
        def work(session: Session) -> counts.Counted:
            found = counts.enter_votes(session, ac_id, rnd, table, votes, self.clock())
            record(session, actor, "pollday.count_enter", f"unit:{ac_id}",
                   detail={"round": rnd, "table": table, "votes": votes})
            return found
        found = await self.db.run(work)
        self.bus.publish(PollDayChanged(ac_id, "count"))
        return {"ac_id": ac_id, "round": rnd, "table": table, "complete": found.complete}

    async def counting_sheet(self, ac_id: int) -> dict[str, Any]:
        return await self.db.run(counting_board.sheet, ac_id, self.clock())

    async def close_count_alert(self, alert_id: int, actor: Actor) -> None:
        def work(session: Session) -> int:
            alert = counts.close_alert(session, alert_id, actor.name)
            record(session, actor, "pollday.count_alert.done", f"count_alert:{alert_id}")
            return counts.ac_of_plan(session, alert.plan_id)
        self.bus.publish(PollDayChanged(await self.db.run(work), "count"))
