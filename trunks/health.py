"""Each trunk's health, from Asterisk's own reports (pure: fed typed events, no I/O).

A trunk is **up** when the far end can take calls: registered (for a trunk that registers) and reachable
(for a trunk whose far end is pinged with SIP OPTIONS); otherwise it is **registering** (no answer yet),
**rejected** (the provider refused our registration: 401/403, a wrong user name or password),
**unreachable** (no answer to OPTIONS) or **unregistered**. The dialer asks :meth:`TrunkHealth.gate`
before using a trunk and :meth:`TrunkHealth.fault` when a call ends (a call that failed while its trunk was
down is the trunk's fault, not the person's).

Asterisk reports a registration only as ``Rejected``, without the SIP status, and says the same after
registrations that went unanswered; so a rejection while the far end does not answer OPTIONS counts as
unreachable, and a rejection while it answers as the provider refusing our credentials (401/403).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.asterisk import ContactChanged, RegistrationChanged

log = logging.getLogger(__name__)

UP, REGISTERING, REJECTED, UNREACHABLE, UNREGISTERED = "up", "registering", "rejected", "unreachable", "unregistered"
REJECTED_WHY = "401/403: the provider refused our registration (check the trunk's username and password)"


@dataclass(frozen=True)
class TrunkWatch:
    """What to expect of one trunk: whether it registers (and as whom) and whether it is pinged."""

    name: str
    registers: bool = False
    client_uri: str = ""      # sip:user@host:port, as the registration names it
    server_uri: str = ""      # sip:host:port
    qualified: bool = False   # OPTIONS pings tell whether the far end answers


@dataclass
class TrunkState:
    watch: TrunkWatch
    registration: str = "unknown"     # Registered / Rejected / Unregistered / unknown
    contact: str = "unknown"          # reachable / unreachable / unknown
    rtt_ms: float | None = None
    since: datetime | None = None     # when the state last changed
    down_since: datetime | None = None
    last_down: tuple[datetime, datetime | None, str] | None = None  # (from, until, why) of the last outage

    @property
    def state(self) -> str:
        if self.watch.qualified and self.contact == "unreachable":
            return UNREACHABLE
        if self.watch.registers:
            if self.registration == "Registered":
                return UP
            if self.registration == "Rejected":
                return REJECTED
            if self.registration == "Unregistered":
                return UNREGISTERED
            return REGISTERING
        return UP  # an IP trunk (not pinged yet, or never): usable

    @property
    def why(self) -> str:
        """The state in words, for the campaign's screen, the dashboard and ``warroom doctor``."""
        state = self.state
        target = self.watch.server_uri.removeprefix("sip:") or self.watch.name
        if state == REJECTED:
            return f"rejected: {REJECTED_WHY}"
        if state == UNREACHABLE:
            return f"unreachable: no answer to SIP OPTIONS from {target}"
        if state == REGISTERING:
            return f"registering with {target}: no answer yet"
        if state == UNREGISTERED:
            return f"unregistered from {target}"
        return "registered" if self.watch.registers else "up"


class TrunkHealth:
    """The health of every trunk, fed with :class:`RegistrationChanged` and :class:`ContactChanged`."""

    def __init__(self, watches: list[TrunkWatch]) -> None:
        self.trunks = {w.name: TrunkState(w) for w in watches}
        self._by_client = {_bare(w.client_uri): w.name for w in watches if w.registers}
        servers: dict[str, list[str]] = {}
        for w in watches:
            if w.registers:
                servers.setdefault(_bare(w.server_uri), []).append(w.name)
        self._by_server = {uri: names[0] for uri, names in servers.items() if len(names) == 1}

    # -- what the dialer asks ------------------------------------------------------------------------
    def gate(self, trunk: str) -> str | None:
        """None when the trunk can take calls now; else why not."""
        t = self.trunks.get(trunk)
        if t is None:
            return None  # not watched (the sandbox's test trunk): usable
        return None if t.state == UP else t.why

    def fault(self, trunk: str, since: datetime) -> str | None:
        """Why a call started at ``since`` on this trunk may have failed through no fault of the person
        called: the trunk is down now, or was down at some moment since then."""
        t = self.trunks.get(trunk)
        if t is None:
            return None
        if t.state != UP:
            return f"trunk {trunk} {t.why}"
        if t.last_down is not None:
            start, end, why = t.last_down
            if end is None or end >= since:
                return f"trunk {trunk} was {why}"
        return None

    # -- what Asterisk says --------------------------------------------------------------------------
    def registration(self, event: RegistrationChanged) -> str | None:
        """A registration changed; returns the trunk it is about (None: not one of ours)."""
        name = self._by_client.get(_bare(event.client_uri)) or self._by_server.get(_bare(event.server_uri))
        if name is None:
            return None
        self.set_registration(name, event.status, event.at)
        return name

    def contact(self, event: ContactChanged) -> str | None:
        """A contact's reachability changed; returns the trunk (None: not one of ours)."""
        name = event.aor if event.aor in self.trunks else None
        if name is None or event.status not in ("Reachable", "Unreachable"):
            return None
        rtt = event.rtt_usec / 1000 if event.rtt_usec else None
        self.set_contact(name, event.status.lower(), event.at, rtt)
        return name

    def set_registration(self, trunk: str, status: str, at: datetime) -> None:
        t = self.trunks[trunk]
        if t.watch.registers:
            self._change(t, at, lambda: setattr(t, "registration", status))

    def set_contact(self, trunk: str, status: str, at: datetime, rtt_ms: float | None = None) -> None:
        t = self.trunks[trunk]
        if rtt_ms is not None:
            t.rtt_ms = round(rtt_ms, 1)
        if t.watch.qualified:
            self._change(t, at, lambda: setattr(t, "contact", status))

    def _change(self, t: TrunkState, at: datetime, apply: Callable[[], None]) -> None:
        before, why_before, first = t.state, t.why, t.since is None
        apply()
        after = t.state
        if after == before:
            return
        t.since = at
        if after != UP:
            if before == UP:
                t.down_since = at
            t.last_down = (t.down_since or at, None, t.why)
            log.warning("trunk %s: %s -> %s (%s)", t.watch.name, before, after, t.why)
            return
        if not first:  # the first answer after start-up is no outage
            t.last_down = (t.down_since or at, at, why_before)
        t.down_since = None
        log.info("trunk %s: %s -> %s", t.watch.name, before, after)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Each trunk's state for the dashboard and /metrics."""
        return {name: {"state": t.state, "why": t.why, "registers": t.watch.registers,
                       "registration": t.registration, "contact": t.contact, "rtt_ms": t.rtt_ms,
                       "since": t.since.isoformat() if t.since else None}
                for name, t in self.trunks.items()}


def _bare(uri: str) -> str:
    """``<sip:user@host:5060>`` -> ``sip:user@host:5060`` (Asterisk may report a URI in angle brackets)."""
    return uri.strip().strip("<>").split(";")[0]
