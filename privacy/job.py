"""The service's daily retention pass (built by :func:`warroom.compose.build_service`, started and stopped
by the service): once soon after start, then every ``every`` seconds. With a prompt store, it also deletes
the prompts no call has played for ``prompt_days`` (greetings that say members' names among them)."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from audit.log import Actor
from privacy.service import PrivacyService

log = logging.getLogger(__name__)
DAY = 24 * 3600.0


class Prunable(Protocol):
    def prune(self, unused_for: float) -> int: ...


class RetentionJob:
    def __init__(self, privacy: PrivacyService, *, every: float = DAY, first_after: float = 60.0,
                 prompts: Prunable | None = None, prompt_days: float = 7) -> None:
        self.privacy, self.every, self.first_after = privacy, every, first_after
        self.prompts, self.prompt_days = prompts, prompt_days
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> dict[str, object]:
        done = await self.privacy.apply_retention(actor=Actor.system())
        if self.prompts is not None:
            done["prompts_deleted"] = await asyncio.to_thread(self.prompts.prune, self.prompt_days * DAY)
        self.runs += 1
        log.info("retention: %s", done)
        return done

    async def _run(self) -> None:
        await asyncio.sleep(self.first_after)
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("retention pass failed; the next one is in %.0f s", self.every)
            await asyncio.sleep(self.every)
