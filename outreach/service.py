"""Voter outreach's use cases, for the command line, the pages and the missed-call handler: import a list,
load the do-not-call file, opt numbers out, create / start / plan / report outreach campaigns, take missed
calls. Each runs in one transaction off the event loop, audited where a person acts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Invalid, NotFound, Unavailable
from db.engine import Database
from db.models import utcnow
from dialer.rules import CallingRules, day_start
from directory.importer import Rejection
from directory.phones import PhoneError, normalise_phone
from directory.reader import FileFormatError, open_table
from outreach import broadcast, campaigns
from outreach.board import board, with_eta
from outreach.dnd import DndList, LoadSummary, build
from outreach.importer import ListImportOptions, ListImportSummary, import_contacts
from outreach.missed import MissedCallPolicy, Taken, take
from outreach.missed import figures as missed_figures
from outreach.optouts import opt_out
from outreach.recordings import Messages
from outreach.rows import ALIASES, REQUIRED
from outreach.rules import INDIA

SYSTEM = Actor.system()


@dataclass(frozen=True)
class OutreachConfig:
    dnd_file: Path
    rules: CallingRules
    ban_zone: str = INDIA
    missed: MissedCallPolicy = MissedCallPolicy()
    purposes: dict[str, str] | None = None   # DID -> join / call_back / hear_message
    lines: int = 10                          # lines outreach dials on (for the ETA shown on the page)
    recordings_dir: Path | None = None       # Asterisk's recordings as this host sees them (voice messages)


class OutreachService:
    """``messages``: the broadcast recordings and the recorded names (None: no uploads in this process)."""

    def __init__(self, db: Database, config: OutreachConfig, clock: Callable[[], datetime] = utcnow,
                 messages: Messages | None = None) -> None:
        self.db, self.config, self.clock, self.messages = db, config, clock, messages
        self._dnd: DndList | None = None
        self._lock = threading.Lock()

    # -- the do-not-call file ------------------------------------------------------------------------
    @property
    def dnd(self) -> DndList:
        """The do-not-call store, mapped once (and again after each load)."""
        with self._lock:
            if self._dnd is None:
                self._dnd = DndList(self.config.dnd_file)
            return self._dnd

    def on_dnd(self, phone: str) -> bool:
        return phone in self.dnd

    async def load_dnd(self, source: Path, *, progress: Callable[[int], None] | None = None,
                       actor: Actor = SYSTEM) -> LoadSummary:
        """Replace the do-not-call store with the numbers of ``source`` (one a line)."""
        summary = await asyncio.to_thread(build, source, self.config.dnd_file, progress)
        with self._lock:
            old, self._dnd = self._dnd, None
        if old is not None:
            old.close()
        await self.db.run(lambda s: record(s, actor, "outreach.dnd_load", detail=summary.as_dict()))
        return summary

    # -- lists -----------------------------------------------------------------------------------------
    def _import(self, path: Path, options: ListImportOptions, progress: Callable[[int], None] | None,
                on_reject: Callable[[Rejection], None] | None, actor: Actor) -> ListImportSummary:
        def audit(session: Session, summary: ListImportSummary) -> None:
            counts = {k: v for k, v in summary.as_dict().items() if isinstance(v, int) and not isinstance(v, bool)}
            record(session, actor, "outreach.import", f"list:{options.list_name}"[:120],
                   detail={"file": path.name[:80], **counts})

        try:
            table = open_table(path, ALIASES, REQUIRED, keep_other=True)
        except FileFormatError as exc:
            raise FileFormatError(f"{exc} (nothing was imported)") from exc
        return import_contacts(self.db.sessions, table.rows, options, progress=progress, on_reject=on_reject,
                               on_done=audit)

    async def import_list(self, path: Path, options: ListImportOptions, *,
                          progress: Callable[[int], None] | None = None,
                          on_reject: Callable[[Rejection], None] | None = None,
                          actor: Actor = SYSTEM) -> ListImportSummary:
        """Import a CSV/XLSX file into a list; every row ends created, updated, unchanged, merged or rejected."""
        return await asyncio.to_thread(self._import, path, options, progress, on_reject, actor)

    async def opt_out(self, phone: str, source: str, actor: Actor = SYSTEM) -> bool:
        """``phone`` is never called again by any list or campaign (from the next attempt)."""
        def run(session: Session) -> bool:
            new = opt_out(session, phone, source, self.clock())
            record(session, actor, "outreach.opt_out", detail={"source": source, "new": new})
            return new
        return await self.db.run(run)

    # -- campaigns -------------------------------------------------------------------------------------
    async def create_campaign(self, name: str, list_name: str, *, mcmc_ref: str | None = None,
                              caller_id: str | None = None, trunk: str = "lines", trunk_category: str | None = None,
                              actor: Actor = SYSTEM) -> int:
        def run(session: Session) -> int:
            c = campaigns.create(session, name, list_name, mcmc_ref=mcmc_ref, caller_id=caller_id, trunk=trunk,
                                 trunk_category=trunk_category)
            record(session, actor, "outreach.campaign_create", f"outreach:{c.id}", detail={"mcmc": bool(mcmc_ref)})
            return c.id
        return await self.db.run(run)

    async def set_mcmc(self, name: str, reference: str, actor: Actor = SYSTEM) -> None:
        def run(session: Session) -> None:
            campaigns.set_mcmc(session, name, reference)
            record(session, actor, "outreach.campaign_mcmc", f"outreach:{name}"[:120],
                   detail={"mcmc_ref": reference[:120]})
        await self.db.run(run)

    async def start_campaign(self, name: str, actor: Actor = SYSTEM) -> None:
        """Start: refused without the MCMC reference, caller ID and trunk category."""
        def run(session: Session) -> None:
            campaigns.start(session, name)
            record(session, actor, "outreach.campaign_start", f"outreach:{name}"[:120])
        await self.db.run(run)

    async def set_recording(self, name: str, recording: str, actor: Actor = SYSTEM) -> None:
        """The leader's recording (``recording add``) the campaign's calls play after each person's name."""
        def run(session: Session) -> None:
            broadcast.set_recording(session, name, recording)
            record(session, actor, "outreach.campaign_recording", f"outreach:{name}"[:120],
                   detail={"recording": recording[:60]})
        await self.db.run(run)

    async def add_recording(self, source: Path, name: str, campaign: str | None = None,
                            actor: Actor = SYSTEM) -> float:
        """The leader's message from an uploaded WAV/MP3/OGG: converted for the telephone (8 kHz mono,
        loudness-normalised) and kept as ``name``; with ``campaign``, that campaign's calls play it. Returns
        its length in seconds; a file that is no recording is refused saying why (:class:`Invalid`)."""
        if self.messages is None:
            raise Unavailable("broadcast recordings are not available in this service")
        if campaign:
            await self.db.run(campaigns.get_campaign, campaign)  # refused before the work, not after
        seconds = await self.messages.add_recording(source, name)

        def run(session: Session) -> None:
            if campaign:
                broadcast.set_recording(session, campaign, name)
            record(session, actor, "outreach.recording_add", f"recording:{name}"[:120],
                   detail={"seconds": round(seconds, 1), "campaign": campaign})
        await self.db.run(run)
        return seconds

    async def recordings(self) -> list[dict[str, Any]]:
        """The broadcast recordings there are, newest first, with their length."""
        if self.messages is None:
            return []
        return await asyncio.to_thread(self.messages.kept)

    async def recording_file(self, name: str) -> Path:
        """A broadcast recording's file, to hear it in the browser."""
        found = self.messages.recording_file(name) if self.messages is not None else None
        if found is None:
            raise NotFound(f"no recording '{name[:60]}'")
        return found

    async def replies(self) -> list[dict[str, Any]]:
        """The newest voice messages left for the leader, with the person's AC and booth."""
        return await self.db.run(broadcast.replies)

    async def reply_to_play(self, reply_id: int, actor: Actor) -> Path:
        """The file of voice message ``reply_id``; every play is audited."""
        def run(session: Session) -> Path:
            name = broadcast.reply_file(session, reply_id)
            where = self.config.recordings_dir / f"{name}.wav" if name and self.config.recordings_dir else None
            if where is None or not where.is_file():
                raise NotFound(f"no voice message {reply_id}")
            record(session, actor, "outreach.reply_play", f"outreach_reply:{reply_id}")
            return where
        return await self.db.run(run)

    async def scrub(self, name: str) -> dict[str, int]:
        """How many of the campaign's numbers are opted out or on the do-not-call file, and why (read only)."""
        return await self.db.run(campaigns.scrub, name, self.on_dnd)

    async def set_state(self, name: str, state: str, actor: Actor = SYSTEM) -> None:
        def run(session: Session) -> None:
            campaigns.set_state(session, name, state)
            record(session, actor, f"outreach.campaign_{state}", f"outreach:{name}"[:120])
        await self.db.run(run)

    async def plan_due(self, name: str, limit: int) -> tuple[list[campaigns.Due], dict[str, int]]:
        """The next contacts due now (the campaign's cursor moves past them)."""
        return await self.db.run(campaigns.plan_due, name, self.clock(), self.config.rules, self.on_dnd, limit,
                                 self.config.ban_zone)

    async def record_attempt(self, name: str, due: campaigns.Due, trunk: str, outcome: str | None = None) -> int:
        return await self.db.run(campaigns.record_attempt, name, due, trunk=trunk, at=self.clock(), outcome=outcome)

    async def figures(self, name: str) -> dict[str, Any]:
        return await self.db.run(campaigns.figures, name)

    async def eta(self, name: str, lines: int, by: datetime | None = None) -> dict[str, Any]:
        """The campaign's figures with, from its live pace, when it will finish on ``lines`` lines and how many
        lines would finish it by ``by``."""
        return with_eta(await self.figures(name), self.clock(), lines, self.config.rules, by)

    async def board(self) -> dict[str, Any]:
        """What the dashboard shows of outreach (:func:`outreach.board.board`), on the configured lines."""
        return await self.db.run(board, self.clock(), self.config.rules, self.config.lines)

    async def who(self, phone: str) -> tuple[str, str]:
        """(name, language) of the contact at ``phone`` (E.164 or as written), for their message's preview."""
        try:
            e164 = normalise_phone(phone)
        except PhoneError as exc:
            raise Invalid(str(exc), field="phone") from None
        return await self.db.run(campaigns.who, e164)

    async def overview(self) -> dict[str, Any]:
        """Lists, campaigns with their figures, today's missed calls and the do-not-call file's size."""
        found = await self.db.run(campaigns.overview)
        counted = await self.db.run(broadcast.counts)
        found["campaigns"] = [await self.eta(c["name"], self.config.lines) for c in found["campaigns"]]
        for c in found["campaigns"]:
            c["counts"] = counted.get(c["id"], dict.fromkeys(broadcast.COUNTED.values(), 0))
        return {**found, "missed": await self.missed_figures(), "dnd": len(self.dnd), "lines": self.config.lines}

    def report(self, name: str) -> Iterator[list[Any]]:
        """Every attempt of the campaign, in time order (blocking: run it in a thread from async code)."""
        with self.db.sessions() as session:
            yield from campaigns.report(session, name)

    # -- missed calls ----------------------------------------------------------------------------------
    async def missed_call(self, did: str, caller: str | None) -> Taken:
        """Log a missed call on ``did`` and queue the call back (see :func:`outreach.missed.take`)."""
        purpose = (self.config.purposes or {}).get(did, "call_back")

        def run(session: Session) -> Taken:
            return take(session, did, purpose, caller, self.clock(), self.config.missed, self.config.rules,
                        campaigns.poll_calendar(session), self.config.ban_zone)
        return await self.db.run(run)

    async def missed_figures(self) -> dict[str, int]:
        """Today's missed calls by outcome (queued, capped, flood, withheld...)."""
        return await self.db.run(missed_figures, day_start(self.clock(), self.config.rules))

    def close(self) -> None:
        with self._lock:
            if self._dnd is not None:
                self._dnd.close()
                self._dnd = None
