"""A call to a missed-call number (``[warroom-missed]``): never answered. The caller's number is taken
(``take``: logged with the number's purpose, matched, added to the outreach lists; its outcome says whether
a call back is due), the caller is queued to be called back by the campaign the number belongs to (if
any, and only when ``take`` says so), then the call is refused (busy or rejected, as configured)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from adapters.ari import AriClient
from ari_handlers.app import CallHandler, HandlerFactory
from db.engine import Database
from dialer.callbacks import call_back
from events.asterisk import StasisStarted

log = logging.getLogger(__name__)

TakeCall = Callable[[str, str | None], Awaitable[str]]  # (DID, caller's number) -> outcome ("queued"...)


class MissedCall(CallHandler):
    """Stasis arguments: the number dialed (the DID). ``campaigns`` maps a DID to its campaign's name."""

    def __init__(self, ari: AriClient, channel_id: str, args: list[str], db: Database,
                 campaigns: dict[str, str], wake: Callable[[], None], take: TakeCall | None = None,
                 refuse: str = "busy") -> None:
        super().__init__(ari, channel_id, args)
        self.db, self.campaigns, self.wake, self.take, self.refuse = db, campaigns, wake, take, refuse

    async def on_StasisStarted(self, event: StasisStarted) -> None:
        did = self.args[0] if self.args else ""
        taken = "queued"
        try:
            if self.take is not None:
                taken = await self.take(did, event.caller_number)
            campaign = self.campaigns.get(did)
            if taken != "queued":
                done = f"{taken}: no call back"
            elif campaign is None:
                done = f"no campaign for the number {did}"
            else:
                done = await self.db.run(call_back, campaign, event.caller_number)
                self.wake()
            self.transition("refused", f"missed call: {done}")
        finally:
            await self.hangup(self.refuse)


def missed_call_factory(db: Database, campaigns: dict[str, str], wake: Callable[[], None],
                        take: TakeCall | None = None, refuse: str = "busy") -> HandlerFactory:
    def make(ari: AriClient, channel_id: str, args: list[str]) -> CallHandler:
        return MissedCall(ari, channel_id, args, db, campaigns, wake, take, refuse)
    return make
