"""What every IVR call needs (built once by the composition root), and the IVR's figures."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from adapters.ari import AriClient
from ari_handlers import ivr_store as store
from ari_handlers.queue import OperatorQueue
from db.engine import Database
from db.models import utcnow
from ivr_scripts.library import ScriptLibrary
from speech.prompts import PromptStore
from tickets.service import TicketService


@dataclass
class IvrStats:
    """Figures for supervisors and benchmarks."""

    started: int = 0
    results: dict[str, int] = field(default_factory=dict)
    # the latest 10,000 keys (a service runs for weeks): DTMF event in -> answer stored, -> Asterisk stopped the prompt
    answer_latency: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    stop_latency: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    live: int = 0


@dataclass
class IvrDeps:
    """What every IVR call needs, built once by the composition root."""

    ari: AriClient
    db: Database
    library: ScriptLibrary
    prompts: PromptStore
    queue: OperatorQueue
    tickets: TicketService
    party: str = "PARTY"
    default_language: str = "hi"
    hotline_script: str = "hotline"
    recordings_dir: Path | None = None  # Asterisk's recording directory as this host sees it
    recording_format: str = "wav"
    clock: Callable[[], datetime] = utcnow
    stats: IvrStats = field(default_factory=IvrStats)
    publish: Callable[[object], None] = lambda _event: None  # each stored answer (IvrAnswered) goes here
    prepared: dict[int, store.CallInfo] = field(default_factory=dict)  # by attempt: read before it was dialed
    preparing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))  # calls prepared at once
