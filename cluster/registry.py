"""This process as a node of the war room: registered at start-up (or refused, with why), kept alive by a
heartbeat that also says whether its Asterisk is up and how many lines are free, marked stopped at the end."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cluster import nodes
from cluster.nodes import NodeInfo, NodeRefused
from db.engine import Database
from db.models import utcnow

log = logging.getLogger(__name__)
Status = Callable[[], tuple[bool, int, list[str]]]  # (Asterisk up, lines free now, softphones registered)


class NodeRegistry:
    """Build with the database, this node's :class:`NodeInfo` and a status callable; ``start`` refuses a
    set-up that cannot work (:class:`NodeRefused`)."""

    def __init__(self, db: Database, info: NodeInfo, status: Status, *, lease: float = 30.0,
                 every: float = 5.0, max_skew: float = 1.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.info, self.status, self.clock = db, info, status, clock
        self.lease, self.every, self.max_skew = lease, every, max_skew
        self.process = uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.info.name

    async def start(self) -> None:
        skew = await self.db.run(nodes.clock_skew)
        if abs(skew) > self.max_skew:
            raise NodeRefused(f"node '{self.name}': this machine's clock is {skew:+.2f} s off the database's; "
                              f"leases and calling windows need them within {self.max_skew} s: sync the clock "
                              "(NTP: systemd-timesyncd or chrony)")
        await self.db.run(nodes.register, self.info, self.process, self.clock(), self.lease, self.db.backend)
        log.info("node %s registered (%s)", self.name, "web only" if self.info.web_only else self.info.host)
        self._task = asyncio.create_task(self._beat(), name="node-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            try:
                await asyncio.wait_for(self.db.run(nodes.stopped, self.name, self.process, self.clock()), 5)
            except Exception:  # the database may be away at shutdown; the lease then ends the node
                log.warning("node %s: could not record its stop", self.name, exc_info=True)

    async def beat(self) -> bool:
        """One heartbeat now; False when another process has taken this node's name."""
        up, free, registered = self.status()
        return await self.db.run(nodes.heartbeat, self.name, self.process, self.clock(), asterisk_up=up,
                                 lines_free=free, registered=registered)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                if not await self.beat():
                    log.error("node %s: another process has taken this node's name; this one stops dialing",
                              self.name)
            except Exception:
                log.exception("node %s: heartbeat failed (the lease runs out after %.0f s)", self.name, self.lease)

    async def list(self) -> list[dict[str, Any]]:
        return await self.db.run(nodes.nodes, self.clock(), self.lease)
