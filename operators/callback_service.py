"""The operators' call-back tasks as use cases (the console's list, take, give back and close; the API's list
and plain done): each audited where it shows a number or settles a task, each announced on the bus
(:class:`~events.types.CallbackTaskChanged`) so every open console lists the tasks again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Forbidden
from db.callbacks import CallbackState
from db.engine import Database
from events.types import CallbackTaskChanged
from operators import callbacks


def _no_one(_event: object) -> None:
    return None


class CallbackService:
    def __init__(self, db: Database, publish: Callable[[object], None] = _no_one) -> None:
        self.db, self.publish = db, publish

    async def listed(self, state: str | None = "open", campaign_id: int | None = None) -> list[dict[str, Any]]:
        """Call-back tasks in ``state`` (open by default; None: all), for supervisors and the API."""
        return await self.db.run(callbacks.list_tasks, CallbackState(state) if state else None, campaign_id)

    async def for_operator(self, username: str) -> list[dict[str, Any]]:
        """The console's list: the tasks this operator took, then the open ones (numbers masked but theirs)."""
        return await self.db.run(callbacks.for_operator, username)

    async def take(self, task_id: int, actor: Actor) -> dict[str, Any]:
        """The operator takes a task (nobody else may now); its number is shown to them, so audited."""
        def work(session: Session) -> dict[str, Any]:
            row = callbacks.take(session, task_id, actor.name)
            record(session, actor, "callback.take", f"callback:{task_id}")
            return row

        return self._changed(await self.db.run(work))

    async def release(self, task_id: int, actor: Actor) -> dict[str, Any]:
        """Give a taken task back to the others."""
        def work(session: Session) -> dict[str, Any]:
            row = callbacks.release(session, task_id, actor.name)
            record(session, actor, "callback.release", f"callback:{task_id}")
            return row

        return self._changed(await self.db.run(work))

    async def close(self, task_id: int, actor: Actor, outcome: str, notes: str | None = None,
                    callback_at: datetime | None = None) -> dict[str, Any]:
        """The operator called back: done or failed by the outcome, written back like a disposition."""
        if actor.user_id is None:
            raise Forbidden("closing a call-back task needs a signed-in operator")
        user_id = actor.user_id

        def work(session: Session) -> dict[str, Any]:
            row = callbacks.close(session, task_id, user_id=user_id, username=actor.name, outcome=outcome,
                                  notes=notes, callback_at=callback_at)
            record(session, actor, f"callback.{row['state']}", f"callback:{task_id}", detail={"outcome": outcome})
            return row

        return self._changed(await self.db.run(work))

    async def done(self, task_id: int, actor: Actor, notes: str | None = None) -> dict[str, Any]:
        """Someone called the person back (the API's plain done, audited)."""
        def work(session: Session) -> dict[str, Any]:
            row = callbacks.complete(session, task_id, actor.name, notes)
            record(session, actor, "callback.done", f"callback:{task_id}")
            return row

        return self._changed(await self.db.run(work))

    def _changed(self, row: dict[str, Any]) -> dict[str, Any]:
        self.publish(CallbackTaskChanged(row["id"], row["state"]))
        return row
