"""A call to a missed-call number (``[warroom-missed]``): never answered. The caller is queued to be called
back by the campaign the number belongs to, then the call is refused as busy."""

from __future__ import annotations

import logging
from collections.abc import Callable

from adapters.ari import AriClient
from ari_handlers.app import CallHandler, HandlerFactory
from db.engine import Database
from dialer.callbacks import call_back
from events.asterisk import StasisStarted

log = logging.getLogger(__name__)


class MissedCall(CallHandler):
    """Stasis arguments: the number dialed (the DID). ``campaigns`` maps a DID to its campaign's name."""

    def __init__(self, ari: AriClient, channel_id: str, args: list[str], db: Database,
                 campaigns: dict[str, str], wake: Callable[[], None]) -> None:
        super().__init__(ari, channel_id, args)
        self.db, self.campaigns, self.wake = db, campaigns, wake

    async def on_StasisStarted(self, event: StasisStarted) -> None:
        did = self.args[0] if self.args else ""
        campaign = self.campaigns.get(did)
        if campaign is None:
            done = f"no campaign for the number {did}"
        else:
            done = await self.db.run(call_back, campaign, event.caller_number)
            self.wake()
        self.transition("refused", f"missed call: {done}")
        await self.hangup("busy")


def missed_call_factory(db: Database, campaigns: dict[str, str], wake: Callable[[], None]) -> HandlerFactory:
    def make(ari: AriClient, channel_id: str, args: list[str]) -> CallHandler:
        return MissedCall(ari, channel_id, args, db, campaigns, wake)
    return make
