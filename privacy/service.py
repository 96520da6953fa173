"""The privacy use cases: erase a person everywhere (``warroom people erase``, the admin page) and apply the
retention policy (``warroom retention apply``, and the service's daily job). Each runs its database part in
one transaction with its audit entry (counts and ids only, never the erased data), then deletes the files:
recordings under Asterisk's recording directory, and the numbers or old records in Asterisk's CDR files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from audit.log import Actor, record
from db.engine import Database
from db.models import utcnow
from privacy.cdr import drop_before, mask_numbers
from privacy.erase import Erasure, erase_person, find_subject
from privacy.phones import PhonePattern
from privacy.retention import RetentionPolicy, RetentionRun, apply_retention

log = logging.getLogger(__name__)
SYSTEM = Actor.system()


def _remove(base: Path | None, names: list[str]) -> int:
    """Delete recording files (names under ``base``, never outside it); how many were there."""
    if base is None:
        return 0
    root = base.resolve()
    gone = 0
    for name in names:
        path = (base / name).resolve()
        if not path.is_relative_to(root):
            log.warning("recording %r is outside the recordings directory: left alone", name)
            continue
        try:
            path.unlink()
            gone += 1
        except FileNotFoundError:
            pass
    return gone


class PrivacyService:
    """``recordings_dir``: Asterisk's recordings as this host sees them; ``cdr_dir``: Asterisk's log
    directory (with ``cdr-csv/`` and ``cdr-custom/``); either may be None (nothing to do there)."""

    def __init__(self, db: Database, *, recordings_dir: Path | None = None, cdr_dir: Path | None = None,
                 policy: RetentionPolicy | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.recordings_dir, self.cdr_dir = db, recordings_dir, cdr_dir
        self.policy = policy or RetentionPolicy()
        self.clock = clock

    async def erase(self, ref: str, *, dry_run: bool = False, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Erase the person ``ref`` names (a phone in any writing, or their directory id) from the
        database, the recordings and the CDR files; with ``dry_run``, say what would go and change nothing.
        The audit entry is written with the database's changes (what the files will lose is counted first)."""
        _person, phones = await self.db.run(find_subject, ref)
        patterns = [PhonePattern.of(p) for p in phones]
        planned = await asyncio.to_thread(mask_numbers, self.cdr_dir, patterns, dry_run=True)

        def work(session: Session) -> Erasure:
            erasure = erase_person(session, ref, dry_run=dry_run, elsewhere=bool(planned))
            erasure.counts["cdr_records"] = sum(r.changed for r in planned)
            if not dry_run:
                record(session, actor, "person.erase",
                       f"person:{erasure.person_id}" if erasure.person_id else None, detail=erasure.detail())
            return erasure

        erasure = await self.db.run(work)
        if not dry_run:
            await asyncio.to_thread(mask_numbers, self.cdr_dir, patterns)
            erasure.counts["recording_files"] = await asyncio.to_thread(_remove, self.recordings_dir,
                                                                        erasure.recordings)
            log.info("erasure: %s", erasure.detail())
        return erasure.detail()

    async def apply_retention(self, *, dry_run: bool = False, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Remove what the retention policy says is due (see :mod:`privacy.retention`); with ``dry_run``,
        say what would go and change nothing. A real pass is in the audit log, written with the database's
        changes (what the files will lose is counted first)."""
        now = self.clock()
        cutoff = self.policy.phones_cutoff(now)
        planned = await asyncio.to_thread(drop_before, self.cdr_dir, cutoff, dry_run=True) if cutoff else []

        def work(session: Session) -> RetentionRun:
            run = apply_retention(session, self.policy, now, dry_run=dry_run)
            run.counts["cdr_records"] = sum(r.changed for r in planned)
            if not dry_run:
                record(session, actor, "retention.apply", detail=run.detail())
            return run

        run = await self.db.run(work)
        if not dry_run:
            if cutoff is not None:
                await asyncio.to_thread(drop_before, self.cdr_dir, cutoff)
            run.counts["recording_files"] = await asyncio.to_thread(_remove, self.recordings_dir, run.recordings)
        return {**run.detail(), "policy": {"recordings_days": self.policy.recordings_days,
                                           "phones_days": self.policy.phones_days,
                                           "election_date": self.policy.election_date.isoformat()
                                           if self.policy.election_date else None}}
