"""Asterisk's own record of how each dialer call ended, for calls whose end we missed.

Every Originate pushes the ``[warroom-hangup]`` hangup handler (extensions.conf), which writes
``answer epoch|end epoch|cause`` to AstDB under ``warroom/<channel id>``. After an AMI reconnect the dialer
reads the entries of calls it lost sight of, then clears the family.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from adapters.ami import AmiClient, AmiError
from db.models import utcnow

log = logging.getLogger(__name__)

# Commas inside an Originate variable must be escaped, or Asterisk splits the value there.
HANGUP_HANDLER = r"CHANNEL(hangup_handler_push)=warroom-hangup\,s\,1"
ENDINGS_FAMILY = "warroom"


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

    def __init__(self, ami: AmiClient) -> None:
        self.ami = ami
        self._started: str | None = None

    async def asterisk_restarted(self) -> bool:
        """True if Asterisk started anew since we last asked (its calls then died with it)."""
        try:
            reply = await self.ami.action({"Action": "CoreStatus"})
        except AmiError:
            return False
        first = reply[0] if isinstance(reply, list) else reply
        started = f"{first.get('CoreStartupDate')} {first.get('CoreStartupTime')}"
        before, self._started = self._started, started
        return before is not None and before != started

    async def ending(self, channel_id: str) -> tuple[datetime | None, datetime, int | None] | None:
        """(answered at, ended at, cause) of one of our calls, if Asterisk recorded its end."""
        try:
            reply = await self.ami.action({"Action": "DBGet", "Family": ENDINGS_FAMILY, "Key": channel_id})
        except AmiError:
            return None
        rows = reply if isinstance(reply, list) else [reply]
        value = next((r.get("Val") for r in rows if r.get("Val")), None)
        return parse_ending(value) if value else None

    async def forget(self) -> None:
        """Drop the records of ended calls: everything up to now has been accounted for."""
        try:
            await self.ami.action({"Action": "DBDelTree", "Family": ENDINGS_FAMILY})
        except AmiError as exc:
            log.debug("DBDelTree: %s", exc)


def event_time(headers: dict[str, str]) -> datetime:
    """When an AMI event happened, from its Timestamp header (now if it has none)."""
    ts = headers.get("Timestamp")
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else utcnow()
    except ValueError:
        return utcnow()
