"""Line accounting per trunk (pure): never more calls on a trunk than its lines, inbound included.

A trunk has ``lines`` lines of which ``inbound_reserved`` are kept for inbound calls. Outbound may use
``lines - max(inbound_reserved, inbound calls now) - outbound calls now``. A line is held from the moment
we decide to originate (before Asterisk has a channel) until that channel hangs up, so a burst of
Originates can never overshoot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Trunk:
    """A trunk's lines. With ``ports`` (a GSM gateway: one SIM per line) every outbound call also holds one
    port, the next free one round robin, so a port never carries two calls."""

    name: str
    lines: int
    inbound_reserved: int = 0
    ports: int = 0
    outbound: set[str] = field(default_factory=set)   # our channel ids holding a line
    inbound: set[str] = field(default_factory=set)    # Asterisk uniqueids of inbound calls
    port_of: dict[str, int] = field(default_factory=dict)  # channel id -> the gateway port it holds
    next_port: int = 0

    def take_port(self, channel_id: str) -> bool:
        """Give the call the next free port (round robin); False when every port is busy."""
        if not self.ports:
            return True
        busy = set(self.port_of.values())
        for step in range(self.ports):
            port = (self.next_port + step) % self.ports
            if port not in busy:
                self.port_of[channel_id] = port
                self.next_port = (port + 1) % self.ports
                return True
        return False

    @property
    def in_use(self) -> int:
        return len(self.outbound) + len(self.inbound)

    @property
    def free_for_outbound(self) -> int:
        return max(0, self.lines - max(self.inbound_reserved, len(self.inbound)) - len(self.outbound))


class LineBook:
    """All trunks' lines. Channel names tell the trunk: ``PJSIP/<trunk>-0000001a``."""

    def __init__(self, trunks: list[Trunk]) -> None:
        self.trunks = {t.name: t for t in trunks}

    def free(self, trunk: str) -> int:
        t = self.trunks.get(trunk)
        return t.free_for_outbound if t else 0

    def take(self, trunk: str, channel_id: str, *, over_cap: bool = False) -> bool:
        """Hold a line for an outbound call; False (nothing held) if none is free. ``over_cap`` holds it
        even so: a live call found at reconcile uses its line whatever the count says."""
        t = self.trunks.get(trunk)
        if t is None:
            return False
        if t.free_for_outbound <= 0 and not over_cap:
            return False
        if not t.take_port(channel_id) and not over_cap:
            return False
        t.outbound.add(channel_id)
        return True

    def transfer(self, holder: str, channel_id: str) -> bool:
        """The line (and gateway port) held by ``holder`` passes to ``channel_id``; False if it held none."""
        for t in self.trunks.values():
            if holder in t.outbound:
                t.outbound.discard(holder)
                t.outbound.add(channel_id)
                if holder in t.port_of:
                    t.port_of[channel_id] = t.port_of.pop(holder)
                return True
        return False

    def port(self, channel_id: str) -> int | None:
        """The gateway port a call holds (None: its trunk has no ports)."""
        for t in self.trunks.values():
            if channel_id in t.port_of:
                return t.port_of[channel_id]
        return None

    def release(self, channel_id: str) -> str | None:
        """Free whatever line ``channel_id`` held (outbound or inbound); returns the trunk name."""
        for t in self.trunks.values():
            if channel_id in t.outbound:
                t.outbound.discard(channel_id)
                t.port_of.pop(channel_id, None)
                return t.name
            if channel_id in t.inbound:
                t.inbound.discard(channel_id)
                return t.name
        return None

    def inbound_started(self, channel_name: str, uniqueid: str) -> str | None:
        """A channel we did not originate appeared; count it if it is on one of our trunks."""
        trunk = trunk_of(channel_name)
        t = self.trunks.get(trunk or "")
        if t is None or uniqueid in t.outbound:
            return None
        t.inbound.add(uniqueid)
        return t.name

    def reset_inbound(self, live: dict[str, str]) -> None:
        """After a reconnect: inbound = the live channels (uniqueid -> channel name) on our trunks."""
        for t in self.trunks.values():
            t.inbound.clear()
        for uniqueid, name in live.items():
            self.inbound_started(name, uniqueid)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {name: {"lines": t.lines, "in_use": t.in_use, "outbound": len(t.outbound),
                       "inbound": len(t.inbound), "reserved_inbound": t.inbound_reserved,
                       **({"ports_in_use": sorted(t.port_of.values())} if t.ports else {})}
                for name, t in self.trunks.items()}


def trunk_of(channel_name: str) -> str | None:
    """``PJSIP/lines-00000012`` -> ``lines``; None for other technologies."""
    if not channel_name.startswith("PJSIP/"):
        return None
    rest = channel_name[len("PJSIP/"):]
    name, sep, _ = rest.rpartition("-")
    return name if sep else None
