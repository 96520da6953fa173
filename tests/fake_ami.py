"""A fake AMI for the dialer's unit tests: it keeps channels like Asterisk does and publishes the typed
events the real adapter would, when the test says what the phone does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from adapters.ami import AmiError, Originate
from events.asterisk import (
    ChannelCreated,
    ChannelState,
    ChannelStateChanged,
    HangupCause,
    HungUp,
    LinkState,
    LiveChannel,
    OriginateReason,
    OriginateResult,
)
from events.bus import EventBus
from events.types import CallHandled


@dataclass
class FakeAmi:
    bus: EventBus
    up: bool = True
    started: str = "2026-11-29 10:00:00"
    originated: list[Originate] = field(default_factory=list)
    live: dict[str, LiveChannel] = field(default_factory=dict)
    astdb: dict[str, str] = field(default_factory=dict)
    hung_up: list[str] = field(default_factory=list)
    _results: dict[str, asyncio.Future[OriginateResult]] = field(default_factory=dict)
    _seq: int = 0

    # -- the adapter's interface ----------------------------------------------------------------------
    async def originate(self, request: Originate, timeout: float) -> OriginateResult:
        if not self.up:
            raise AmiError("AMI link is down (fake)")
        if request.channel == "Local/forget@warroom-maint":  # the dialplan's DBdeltree(warroom)
            self.astdb = {k: v for k, v in self.astdb.items() if not k.startswith("warroom/")}
            return OriginateResult(request.action_id, request.channel_id, True, OriginateReason.ANSWERED)
        self.originated.append(request)
        self._seq += 1
        cid = request.channel_id
        self.live[cid] = LiveChannel(cid, f"PJSIP/lines-{self._seq:08x}", ChannelState.DOWN)
        result: asyncio.Future[OriginateResult] = asyncio.get_running_loop().create_future()
        self._results[cid] = result
        self.bus.publish(ChannelCreated(cid, channel=self.live[cid].channel))
        return await asyncio.wait_for(result, timeout)

    async def channels(self, timeout: float = 10.0) -> list[LiveChannel]:
        self._check()
        return list(self.live.values())

    async def hangup(self, channel: str) -> None:
        self._check()
        self.hung_up.append(channel)

    async def started_at(self) -> str:
        self._check()
        return self.started

    async def db_get(self, family: str, key: str) -> str | None:
        self._check()
        return self.astdb.get(f"{family}/{key}")

    def _check(self) -> None:
        if not self.up:
            raise AmiError("AMI link is down (fake)")

    # -- what the phones and the network do -----------------------------------------------------------
    def ring(self, cid: str) -> None:
        self._state(cid, ChannelState.RINGING)

    def answer(self, cid: str, *, handled: bool = True) -> None:
        """The phone answers; with ``handled`` the call enters our Stasis app (as when ARI is up)."""
        self._state(cid, ChannelState.UP)
        self._resolve(cid, True, OriginateReason.ANSWERED)
        if handled:
            self.bus.publish(CallHandled(cid, "dialer"))

    def hang_up(self, cid: str, cause: int = HangupCause.NORMAL_CLEARING, *, answered_at: float = 0,
                ended_at: float = 0) -> None:
        """The channel ends; Asterisk's hangup handler records it in AstDB (as [warroom-hangup] does)."""
        self.live.pop(cid, None)
        self.astdb[f"warroom/{cid}"] = f"{answered_at}|{ended_at or 1764400000.0}|{cause}"
        if self.up:
            self.bus.publish(HungUp(cid, cause=cause))

    def fail(self, cid: str, cause: int, reason: int) -> None:
        """Not answered: the channel hangs up with ``cause`` and the Originate fails with ``reason``."""
        self.hang_up(cid, cause)
        self._resolve(cid, False, reason)

    def _state(self, cid: str, state: ChannelState) -> None:
        channel = self.live[cid]
        self.live[cid] = LiveChannel(cid, channel.channel, state)
        if self.up:
            self.bus.publish(ChannelStateChanged(cid, channel=channel.channel, state=state))

    def _resolve(self, cid: str, ok: bool, reason: int) -> None:
        future = self._results.pop(cid, None)
        if future is not None and not future.done():
            request = next(r for r in self.originated if r.channel_id == cid)
            future.set_result(OriginateResult(request.action_id, cid, ok, reason))

    def link(self, up: bool) -> None:
        """The AMI link goes down (replies in flight fail, events are lost) or comes back."""
        self.up = up
        if not up:
            for future in self._results.values():
                if not future.done():
                    future.set_exception(AmiError("AMI link down before the reply (fake)"))
            self._results.clear()
        self.bus.publish(LinkState("ami", up, "fake"))
