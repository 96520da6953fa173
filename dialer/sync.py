"""The dialer follows the directory: it consumes the change feed, in id order, from where it left off.

- a person who opted out, or is marked wrong number / unreachable, or lost every phone, leaves the queue
  of every open campaign (their targets become ``removed``, with the reason);
- a new person or post matching a running campaign's selection joins it;
- a changed phone needs nothing: the phone is read at dial time; a phone corrected by hand (``corrected``)
  gives the person's unanswered targets in open campaigns a fresh start (the old number was wrong);
- a person removed from a post (``post_removed``) leaves the queue of the campaigns that chose them for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.campaigns import Campaign, CampaignState, Target, TargetState
from db.engine import Database
from db.models import Change, Membership, Person
from dialer.campaigns import Selection, add_targets, one_per_person, target_query
from directory.changes import last_change_id, read_changes

log = logging.getLogger(__name__)
OPEN = (CampaignState.running, CampaignState.paused, CampaignState.draft)
AGAIN = (TargetState.queued, TargetState.removed, TargetState.done)  # a corrected phone's targets start again


def apply_changes(session: Session, changes: Sequence[Change]) -> dict[str, int]:
    """Apply a batch of feed rows to the campaigns' targets; returns counts of what was done."""
    removed = joined = 0
    person_ids = {c.person_id for c in changes if c.person_id is not None}
    if not person_ids:
        return {"removed": 0, "joined": 0}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    gone = [pid for pid in person_ids if pid not in people or not people[pid].reachable]
    for pid in gone:
        person = people.get(pid)
        why = "left the directory" if person is None else (
            "opted out" if person.dnd else f"marked {person.status.value}" if person.status.value != "active"
            else "no dialable phone")
        result = session.execute(
            update(Target).where(Target.person_id == pid, Target.state == TargetState.queued,
                                 Target.campaign_id.in_(select(Campaign.id).where(Campaign.state.in_(OPEN))))
            .values(state=TargetState.removed, blocked_rule="directory", blocked_by=f"directory: {why}"))
        removed += int(getattr(result, "rowcount", 0) or 0)
    removed += _posts_removed(session, [c for c in changes if c.kind == "post_removed"])
    fresh = [pid for pid in person_ids if pid in people and people[pid].reachable]
    corrected = {c.person_id for c in changes if c.kind == "corrected"} & set(fresh)
    if corrected:
        result = session.execute(
            update(Target).where(Target.person_id.in_(corrected), Target.state.in_(AGAIN),
                                 or_(Target.last_disposition.is_(None), Target.last_disposition != "answered"),
                                 Target.campaign_id.in_(select(Campaign.id).where(Campaign.state.in_(OPEN))))
            .values(state=TargetState.queued, next_at=None, tries_by={}, use_alternate=False, blocked_rule=None,
                    blocked_by=None))
        joined += int(getattr(result, "rowcount", 0) or 0)
    if fresh:
        for campaign in session.scalars(select(Campaign).where(Campaign.state == CampaignState.running)):
            have = set(session.scalars(select(Target.person_id).where(Target.campaign_id == campaign.id,
                                                                      Target.person_id.in_(fresh))))
            want = [pid for pid in fresh if pid not in have]
            if not want:
                continue
            query = target_query(Selection.from_json(campaign.selection or {}))
            rows = session.execute(query.where(Membership.person_id.in_(want))).all()
            joined += add_targets(session, campaign, one_per_person(rows))
    return {"removed": removed, "joined": joined}


def _posts_removed(session: Session, changes: Sequence[Change]) -> int:
    """Queued targets chosen for a post their person no longer holds leave open campaigns."""
    removed = 0
    for change in changes:
        result = session.execute(
            update(Target).where(Target.person_id == change.person_id, Target.state == TargetState.queued,
                                 Target.committee_id == (change.data or {}).get("committee_id"),
                                 Target.campaign_id.in_(select(Campaign.id).where(Campaign.state.in_(OPEN))))
            .values(state=TargetState.removed, blocked_rule="directory",
                    blocked_by="directory: removed from the post"))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


class DirectorySync:
    """Polls the change feed (every ``interval`` seconds) and applies it; ``on_change`` wakes the dialer."""

    def __init__(self, db: Database, interval: float = 0.5, on_change: Callable[[], None] = lambda: None) -> None:
        self.db, self.interval, self.on_change = db, interval, on_change
        self.position = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start from the feed's end: targets are chosen from the directory as it is now."""
        self.position = await self.db.run(last_change_id)
        self._task = asyncio.create_task(self._run(), name="directory-sync")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                self.position, changed = await self.db.run(self._apply, self.position)
                if changed:
                    self.on_change()
            except Exception:
                log.exception("directory sync failed; retrying")
            await asyncio.sleep(self.interval)

    def step(self, batch: int = 1000) -> bool:
        """Apply the next batch of changes now (in this thread); True if any target changed."""
        self.position, changed = self.db.transaction(self._apply, self.position, batch)
        return changed

    @staticmethod
    def _apply(session: Session, position: int, batch: int = 1000) -> tuple[int, bool]:
        """One transaction: the batch after ``position`` applied; returns the new position (taken only
        once committed, so a transaction run again after a lost connection starts from the same place)."""
        changes = read_changes(session, position, batch)
        if not changes:
            return position, False
        counts = apply_changes(session, changes)
        if counts["removed"] or counts["joined"]:
            log.info("directory sync: %s", counts)
        return changes[-1].id, bool(counts["removed"] or counts["joined"])
