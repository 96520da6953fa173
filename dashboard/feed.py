"""The dashboard's notifier: typed events in, complete figures out to every open supervisor page.

Each message carries a whole part of the screen (``live``: lines and calls from memory; ``board``:
campaigns, operators and today's totals from the database; ``ticket``: one ticket as it is now), so a
message lost to a slow page is put right by the next one, and a (re)connecting page starts from a
``snapshot`` of everything. Asterisk events trigger a ``live`` push within ``debounce`` seconds; the
dialer's attempts and state changes a ``board`` read (at most one per ``board_gap`` seconds); both parts
are also pushed every ``every`` seconds while a page is open (waits grow, rates decay)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from core.tasks import wait_event
from events.asterisk import AsteriskEvent, LinkState
from events.bus import EventBus
from events.types import (
    AttemptChanged,
    CampaignChanged,
    NodeFigures,
    OperatorCall,
    OperatorStateChanged,
    TicketChanged,
)

log = logging.getLogger(__name__)
Message = tuple[str, dict[str, Any]]


class DashboardFeed:
    """Fans the figures out to each open page's queue (a slow page loses its oldest messages).

    It hears the bus between :meth:`start` and :meth:`close` (the composition calls both)."""

    def __init__(self, bus: EventBus, live: Callable[[], dict[str, Any]],
                 board: Callable[[], Awaitable[dict[str, Any]]],
                 tickets: Callable[[], Awaitable[list[dict[str, Any]]]],
                 ticket: Callable[[int], Awaitable[dict[str, Any] | None]], *,
                 debounce: float = 0.1, every: float = 1.0, board_gap: float = 0.4, max_queued: int = 50) -> None:
        self.live, self.board, self.tickets, self.ticket = live, board, tickets, ticket
        self.debounce, self.every, self.max_queued = debounce, every, max_queued
        self.board_gap = min(board_gap, every)  # the least time between two board reads (they cost a query)
        self._pages: set[asyncio.Queue[Message]] = set()
        self._pending: asyncio.TimerHandle | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._board_now = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # the latest snapshot read (board and tickets board), shared by the pages that open while it runs or
        # within a second after: (ticket changes before it, started at, the read)
        self._read: tuple[int, float, asyncio.Future[tuple[Any, Any]]] | None = None
        self._ticket_changes = 0
        self.bus = bus
        self._subscriptions: list[tuple[type, Callable[[Any], None]]] = [
            *((kind, self._poke) for kind in (AsteriskEvent, OperatorCall, LinkState, NodeFigures)),
            (OperatorStateChanged, self._state_changed), (CampaignChanged, self._state_changed),
            (AttemptChanged, self._state_changed),  # progress moves as the dialer writes attempts
            (TicketChanged, self._ticket_changed)]
        self._started = False

    def start(self) -> DashboardFeed:
        """Subscribe to the events that change the screen (once); returns itself."""
        if not self._started:
            for kind, handler in self._subscriptions:
                self.bus.subscribe(kind, handler)
            self._started = True
        return self

    def close(self) -> None:
        """Unsubscribe and stop the timers; open pages keep their stream but get no more pushes."""
        for kind, handler in self._subscriptions:
            self.bus.unsubscribe(kind, handler)
        self._started = False
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    @property
    def pages(self) -> int:
        return len(self._pages)

    # -- events in ---------------------------------------------------------------------------------
    def _in_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the pages' event loop (events may be published from a worker thread)."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()
        else:
            loop.call_soon_threadsafe(fn)

    def _poke(self, _event: object = None) -> None:
        """Push the live figures soon (many events in a burst make one push)."""
        if self._pages:
            self._in_loop(self._schedule_live)

    def _schedule_live(self) -> None:
        if self._pending is None and self._loop is not None:
            self._pending = self._loop.call_later(self.debounce, self._push_live)

    def _state_changed(self, event: object) -> None:
        if self._pages:
            self._in_loop(self._schedule_live)
            self._in_loop(self._board_now.set)

    def _ticket_changed(self, event: TicketChanged) -> None:
        self._ticket_changes += 1  # a snapshot read before this change is not shared any more
        if self._pages:
            self._in_loop(lambda: self._spawn(self._send_ticket(event)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_ticket(self, event: TicketChanged) -> None:
        try:
            row = await self.ticket(event.ticket_id)
        except Exception:
            log.exception("dashboard: ticket %d could not be read", event.ticket_id)
            return
        if row is not None:
            self._send(("ticket", {**row, "change": event.what}))

    # -- figures out -------------------------------------------------------------------------------
    def _push_live(self) -> None:
        """The debounce timer fired: push, and let the next event start a new timer."""
        self._pending = None
        self._send_live()

    def _send_live(self) -> None:
        try:
            self._send(("live", self.live()))
        except Exception:
            log.exception("dashboard: live figures failed")

    async def _tick(self) -> None:
        """While pages are open: the board every ``every`` seconds (at once after a state change), and
        the live figures with it."""
        while self._pages:
            await wait_event(self._board_now, self.every - self.board_gap)
            self._board_now.clear()
            try:
                self._send(("board", await self.board()))
                if self._pending is None:  # else the debounce timer pushes them in a moment
                    self._send_live()
            except Exception:
                log.exception("dashboard: board figures failed; retrying")
            await asyncio.sleep(self.board_gap)
        self._ticker = None

    def _send(self, message: Message) -> None:
        for q in list(self._pages):
            if q.full():
                q.get_nowait()
            q.put_nowait(message)

    async def snapshot(self) -> dict[str, Any]:
        """Everything on the screen, now. A burst of pages opening (say every supervisor's page reconnecting
        after a restart) costs one database read, not one per page: pages that open while a read runs, or
        within a second after it, share it, unless a ticket changed since it began (a page hears of later
        changes itself; the board is pushed again every second anyway)."""
        loop = asyncio.get_running_loop()
        now, changes, read = loop.time(), self._ticket_changes, self._read
        if read is None or read[0] != changes or now - read[1] > min(self.every, 1.0) or (
                read[2].done() and (read[2].cancelled() or read[2].exception() is not None)):
            future = asyncio.ensure_future(asyncio.gather(self.board(), self.tickets()))
            future.add_done_callback(lambda f: f.cancelled() or f.exception())  # each waiter sees the error
            read = self._read = (changes, now, future)
        board, tickets = await asyncio.shield(read[2])
        return {"live": self.live(), "board": board, "tickets": tickets}

    async def stream(self) -> AsyncIterator[Message]:
        """One page's messages: a snapshot first, then pushes (``None`` data every 15 s keeps it open)."""
        q: asyncio.Queue[Message] = asyncio.Queue(self.max_queued)
        self._loop = asyncio.get_running_loop()
        self._pages.add(q)
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="dashboard-feed")
        try:
            yield "snapshot", await self.snapshot()
            while True:
                try:
                    yield await asyncio.wait_for(q.get(), 15)
                except TimeoutError:
                    yield "keep-alive", {}
        finally:
            self._pages.discard(q)
