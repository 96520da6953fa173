"""Counting failed SIP logins per address (pure): ``max_failures`` within ``window`` seconds gets an
address banned, unless it is one never to ban (the trunks' providers, the configured networks)."""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class GuardRules:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=10)
    ban_for: timedelta = timedelta(hours=1)
    never_ban: tuple[str, ...] = ("127.0.0.1/32",)


class FailureCounter:
    """Failures per address within the window. :meth:`failed` says when an address has earned a ban."""

    def __init__(self, rules: GuardRules) -> None:
        self.rules = rules
        self._exempt = [ipaddress.ip_network(n, strict=False) for n in rules.never_ban]
        self._seen: dict[str, deque[tuple[datetime, str]]] = {}

    def exempt(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return True  # not an address: nothing to ban
        return any(ip.version == net.version and ip in net for net in self._exempt)

    def failed(self, address: str, kind: str, at: datetime) -> list[str] | None:
        """One failure from ``address``; the kinds of its failures in the window when it has now reached
        ``max_failures`` (ban it), else None. An exempt address is never counted."""
        if self.exempt(address):
            return None
        seen = self._seen.setdefault(address, deque())
        seen.append((at, kind))
        while seen and seen[0][0] < at - self.rules.window:
            seen.popleft()
        if len(seen) < self.rules.max_failures:
            return None
        kinds = [k for _, k in seen]
        del self._seen[address]
        return kinds

    def forget(self, addresses: Iterable[str]) -> None:
        for address in addresses:
            self._seen.pop(address, None)

    @property
    def watched(self) -> int:
        return len(self._seen)


def acl_text(addresses: Iterable[str]) -> str:
    """The ban list as a PJSIP ACL (``warroom_bans.conf``): every request from these addresses is refused
    (403) before anything else looks at it. No section at all when nobody is banned."""
    lines = ["; Rendered by warroom: addresses banned after failing SIP authentication. Do not edit: use",
             "; `warroom bans` (the running service rewrites this file and reloads res_pjsip)."]
    nets = sorted({str(ipaddress.ip_network(a, strict=False)) for a in addresses})
    if nets:
        lines += ["", "[warroom-bans]", "type = acl", *(f"deny = {n}" for n in nets)]
    return "\n".join(lines) + "\n"
