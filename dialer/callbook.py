"""The dialer's book of calls in flight: what must change together, changed in one place.

A call holds three things at once: a line on its trunk, the phone it dials (never two calls to one
phone), and its attempt (the launch record, the tracker fed by Asterisk's events, the settle timer).
:class:`CallBook` takes, adopts and releases them together, so they can never drift apart; it also keeps
the inbound calls on our trunks (they use lines too) and the moments lines were freed (the re-dial delay
figure). Pure bookkeeping: no I/O, no clock but ``time.monotonic`` for the delay figure.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from db.campaigns import AttemptState
from dialer.attempt import AttemptTracker
from dialer.lines import LineBook, Trunk
from dialer.store import Launch


@dataclass
class Call:
    """One attempt in flight."""

    launch: Launch
    trunk: str
    tracker: AttemptTracker
    operator: bool = False                       # a progressive campaign's call (an operator takes it)
    settle_timer: asyncio.TimerHandle | None = None
    settling: bool = False                       # its settlement is being written

    @property
    def channel_id(self) -> str:
        return self.launch.channel_id


class CallBook:
    """Lines, phones in call and attempts in flight, for every trunk."""

    def __init__(self, trunks: list[Trunk]) -> None:
        self.lines = LineBook([Trunk(t.name, t.lines, t.inbound_reserved, t.ports) for t in trunks])
        self.calls: dict[str, Call] = {}
        self._phones: dict[str, str] = {}   # channel id -> the phone it holds
        self._freed: dict[str, deque[float]] = {t.name: deque() for t in trunks}

    # -- outbound --------------------------------------------------------------------------------------
    def free(self, trunk: str) -> int:
        return self.lines.free(trunk)

    def busy(self, phone: str) -> bool:
        """Whether a call to ``phone`` holds it now (held, ringing or live)."""
        return phone in self._phones.values()

    @property
    def phones(self) -> set[str]:
        return set(self._phones.values())

    def hold(self, trunk: str, channel_id: str, phone: str) -> bool:
        """Take a line and the phone for a call about to begin; False (nothing taken) when no line is free
        or the phone is already in a call."""
        if self.busy(phone) or not self.lines.take(trunk, channel_id):
            return False
        self._phones[channel_id] = phone
        return True

    def reserve(self, trunk: str, count: int) -> list[str]:
        """Hold up to ``count`` free lines for calls about to be claimed; returns their placeholders."""
        tokens = []
        for _ in range(max(0, count)):
            token = f"hold-{uuid.uuid4().hex}"
            if not self.lines.take(trunk, token):
                break
            tokens.append(token)
        return tokens

    def begin_reserved(self, token: str, call: Call) -> float | None:
        """A claimed call takes the line held by ``token`` (and its phone); see :meth:`begin`."""
        if not self.lines.transfer(token, call.channel_id):
            self.lines.take(call.trunk, call.channel_id, over_cap=True)
        self._phones[call.channel_id] = call.launch.phone
        return self.begin(call)

    def unreserve(self, tokens: list[str]) -> None:
        """Give back held lines no claimed call needed."""
        for token in tokens:
            self.lines.release(token)

    def drop(self, channel_id: str) -> None:
        """Give back what :meth:`hold` took, for a call that was not begun after all."""
        self.lines.release(channel_id)
        self._phones.pop(channel_id, None)

    def begin(self, call: Call) -> float | None:
        """The held call's attempt is written: book it. Returns how long its line stood free before (the
        re-dial delay), when a freed line was waiting."""
        self.calls[call.channel_id] = call
        freed = self._freed.get(call.trunk)
        return time.monotonic() - freed.popleft() if freed else None

    def adopt(self, call: Call) -> None:
        """A live call found at reconcile (after a reconnect or restart): its line, phone and attempt at
        once, even over the line count (Asterisk has the call, whatever we thought)."""
        self.lines.take(call.trunk, call.channel_id, over_cap=True)
        self._phones[call.channel_id] = call.launch.phone
        self.calls[call.channel_id] = call

    def channel_gone(self, channel_id: str) -> str | None:
        """The channel hung up: its line and phone are free at once (its attempt stays until settled).
        Returns the trunk whose line was freed."""
        self._phones.pop(channel_id, None)
        trunk = self.lines.release(channel_id)
        if trunk is not None:
            self._freed.setdefault(trunk, deque()).append(time.monotonic())
        return trunk

    def finish(self, channel_id: str) -> Call | None:
        """The attempt is settled: forget the call, and free whatever it still held."""
        call = self.calls.pop(channel_id, None)
        if call is not None:
            self.channel_gone(channel_id)
        return call

    def no_line_waiting(self, trunk: str) -> None:
        """Nothing was due when lines were free: an idle line is not a re-dial delay."""
        self._freed.get(trunk, deque()).clear()

    # -- inbound ---------------------------------------------------------------------------------------
    def inbound_started(self, channel: str, channel_id: str) -> bool:
        """A channel we did not originate appeared; True when it is an inbound call on one of our trunks."""
        return self.lines.inbound_started(channel, channel_id) is not None

    def reset_inbound(self, live: dict[str, str]) -> None:
        """After a reconnect: inbound = these live channels (channel id -> name) on our trunks."""
        self.lines.reset_inbound(live)

    # -- figures ---------------------------------------------------------------------------------------
    def operator_calls_ringing(self) -> int:
        """Progressive calls started but not answered yet (each may soon need an operator)."""
        return sum(1 for c in self.calls.values() if c.operator and c.tracker.answered_at is None)

    def calls_of(self, campaign_id: int) -> int:
        """Calls of ``campaign_id`` holding a line now (ringing or live)."""
        return sum(1 for c in self.calls.values() if c.launch.campaign_id == campaign_id)

    def ringing_ages(self, campaign_id: int, now: datetime) -> list[float]:
        """Seconds since each unanswered call of ``campaign_id`` was started."""
        return [max(0.0, (now - c.tracker.started_at).total_seconds()) for c in self.calls.values()
                if c.launch.campaign_id == campaign_id and c.tracker.answered_at is None]

    def snapshot(self) -> dict[str, object]:
        states = [c.tracker.state for c in self.calls.values()]
        return {"lines": self.lines.snapshot(),
                "dialing": sum(s is AttemptState.dialing for s in states),
                "ringing": sum(s is AttemptState.ringing for s in states),
                "answered": sum(s is AttemptState.answered for s in states)}
