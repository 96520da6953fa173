"""The war room's live figures across nodes: each node sends its own (on every Asterisk event, debounced,
and every second), every process keeps the others' latest and adds them to its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from events.asterisk import AsteriskEvent
from events.bus import EventBus
from events.types import NodeFigures

Figures = dict[str, Any]
SUMMED = ("dialing", "ringing", "answered", "attempts_last_minute", "ended", "ivr_calls", "with_operators")


class RemoteFigures:
    """The latest figures of every other node (forgotten when older than ``stale`` seconds)."""

    def __init__(self, bus: EventBus, node: str, stale: float = 5.0) -> None:
        self.bus, self.node, self.stale = bus, node, stale
        self._latest: dict[str, tuple[float, Figures]] = {}

    def start(self) -> None:
        self.bus.subscribe(NodeFigures, self._on_figures)

    def stop(self) -> None:
        self.bus.unsubscribe(NodeFigures, self._on_figures)

    def _on_figures(self, event: NodeFigures) -> None:
        if event.node != self.node:
            self._latest[event.node] = (time.monotonic(), event.figures)

    def fresh(self) -> dict[str, Figures]:
        now = time.monotonic()
        return {node: f for node, (at, f) in sorted(self._latest.items()) if now - at <= self.stale}


class FiguresPublisher:
    """Sends this node's figures to the others: soon after each Asterisk event, and every ``every`` s."""

    def __init__(self, bus: EventBus, node: str, figures: Callable[[], Figures], *, debounce: float = 0.1,
                 every: float = 1.0) -> None:
        self.bus, self.node, self.figures = bus, node, figures
        self.debounce, self.every = debounce, every
        self._pending: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.bus.subscribe(AsteriskEvent, self._poke)
        self._task = asyncio.create_task(self._tick(), name="node-figures")

    async def stop(self) -> None:
        self.bus.unsubscribe(AsteriskEvent, self._poke)
        if self._pending is not None:
            self._pending.cancel()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _poke(self, _event: object) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.debounce, self._send)

    def _send(self) -> None:
        self._pending = None
        self.bus.publish(NodeFigures(self.node, compact(self.figures())))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self._send()


def compact(figures: Figures) -> Figures:
    """What other nodes need of these figures (the queue's callers are counted, not listed)."""
    queue = figures.get("queue") or {}
    return {**figures, "queue": {"waiting": queue.get("waiting", 0), "longest_wait": queue.get("longest_wait", 0.0),
                                 "calls": []}}


def merge(node: str, local: Figures, remote: dict[str, Figures]) -> Figures:
    """This node's figures with the others': lines per node and trunk, calls and rates added up."""
    if not remote:
        return local
    every = {node: local, **remote}
    out: Figures = {key: sum(int(f.get(key) or 0) for f in every.values()) for key in SUMMED}
    out["lines"] = {f"{n}/{trunk}": v for n, f in every.items() for trunk, v in (f.get("lines") or {}).items()}
    dispositions: dict[str, int] = {}
    for f in every.values():
        for key, count in (f.get("dispositions") or {}).items():
            dispositions[key] = dispositions.get(key, 0) + int(count)
    out["dispositions"] = dispositions
    out["answer_rate"] = round(dispositions.get("answered", 0) / out["ended"], 3) if out["ended"] else 0.0
    out["max_line_delay"] = max(float(f.get("max_line_delay") or 0.0) for f in every.values())
    queues = [f.get("queue") or {} for f in every.values()]
    out["queue"] = {"waiting": sum(int(q.get("waiting", 0)) for q in queues),
                    "longest_wait": max(float(q.get("longest_wait", 0.0)) for q in queues),
                    "calls": (local.get("queue") or {}).get("calls", [])}
    out["links"] = {f"{n}/{link}": up for n, f in every.items() for link, up in (f.get("links") or {}).items()}
    progressive = [f.get("progressive") or {} for f in every.values()]
    answered = sum(int(p.get("answered", 0)) for p in progressive)
    abandoned = sum(int(p.get("abandoned", 0)) for p in progressive)
    out["progressive"] = {"answered": answered, "connected": sum(int(p.get("connected", 0)) for p in progressive),
                          "abandoned": abandoned, "abandon_rate": round(abandoned / answered, 3) if answered else 0.0}
    out["nodes"] = sorted(every)
    return out
