"""Asterisk's own record of how each dialer call ended, for calls whose end we missed.

Every Originate pushes the ``[warroom-hangup]`` hangup handler (extensions.conf), which writes
``answer epoch|end epoch|cause`` to AstDB under ``warroom/<channel id>``. After an AMI reconnect the dialer
reads the entries of calls it lost sight of, then clears the family.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Protocol

from adapters.ami import AmiError, Originate
from events.asterisk import LiveChannel, OriginateResult

log = logging.getLogger(__name__)

# Commas inside an Originate variable must be escaped, or Asterisk splits the value there.
HANGUP_HANDLER = r"CHANNEL(hangup_handler_push)=warroom-hangup\,s\,1"
ENDINGS_FAMILY = "warroom"
FORGET_CHANNEL = "Local/forget@warroom-maint"


class AmiPort(Protocol):
    """What the dialer asks of the AMI adapter (``adapters.ami.AmiClient``; a fake in unit tests). Each
    method raises :class:`AmiError` when Asterisk cannot be asked."""

    @property
    def up(self) -> bool: ...

    async def originate(self, request: Originate, timeout: float) -> OriginateResult: ...

    async def channels(self, timeout: float = 10.0) -> list[LiveChannel]: ...

    async def hangup(self, channel: str) -> None: ...

    async def started_at(self) -> str: ...

    async def db_get(self, family: str, key: str) -> str | None: ...



def parse_ending(value: str) -> tuple[datetime | None, datetime, int | None] | None:
    """``answer epoch|end epoch|cause`` as written by [warroom-hangup]; answer 0 = never answered."""
    parts = value.split("|")
    try:
        answer, end = float(parts[0] or 0), float(parts[1])
    except (ValueError, IndexError):
        return None
    cause = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    answered = datetime.fromtimestamp(answer, UTC) if answer > 0 else None
    return answered, datetime.fromtimestamp(end, UTC), cause


class AsteriskRecords:
    """What Asterisk itself remembers: its start time (did it restart?) and how our calls ended."""

    def __init__(self, ami: AmiPort) -> None:
        self.ami = ami
        self._started: str | None = None

    async def asterisk_restarted(self) -> bool:
        """True if Asterisk started anew since we last asked (its calls then died with it). Raises the
        adapter's error when it cannot be asked."""
        started = await self.ami.started_at()
        before, self._started = self._started, started
        return before is not None and before != started

    async def ending(self, channel_id: str) -> tuple[datetime | None, datetime, int | None] | None:
        """(answered at, ended at, cause) of one of our calls, if Asterisk recorded its end."""
        value = await self.ami.db_get(ENDINGS_FAMILY, channel_id)
        return parse_ending(value) if value else None

    async def forget(self) -> None:
        """Drop the records of ended calls: everything up to now has been accounted for. The dialplan does
        it (``[warroom-maint]``): our AMI user has no right to change AstDB."""
        token = uuid.uuid4().hex
        request = Originate(channel=FORGET_CHANNEL, channel_id=f"maint-{token}", action_id=f"maint-a-{token}",
                            timeout=5, application="NoOp")
        try:
            await self.ami.originate(request, timeout=10)
        except AmiError as exc:
            log.debug("forgetting the endings: %s", exc)
