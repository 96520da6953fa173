"""Sign-in limits, pure and clock-injected (tested without waiting).

Every attempt is counted when it *starts*, before the password is checked, so guesses sent at once cannot
all pass a check that only counts finished failures. Two limits hold:

- per address (an IPv6 client by its /64, the block one machine gets): after ``attempts`` tries within
  ``window`` seconds the address waits until the oldest leaves the window. A successful sign-in does not
  count against its address;
- per account (the normalised user name): never a hard lock, which anyone could use to keep a named user
  out. After ``free`` tries within the window, each further try must wait a delay after the previous one
  (``delay`` seconds, doubling, at most ``max_delay``): guessing slows to a crawl, the user waits seconds.

At most ``max_keys`` keys are tracked (addresses and accounts each): past that, the least recently seen
keys are forgotten first (their window would have ended anyway for most)."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


def address_key(host: str | None) -> str:
    """The key of a client address: IPv4 as it is, IPv6 by its /64 (an IPv4-mapped one as IPv4), anything
    else (a test client's name, no address) as the text itself."""
    if not host:
        return "?"
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Attempt:
    """An attempt that may go ahead (``wait`` is 0) or must wait ``wait`` seconds (nothing was counted)."""

    account: str
    address: str
    wait: float = 0.0


class _Recent:
    """Times of recent tries per key, oldest key first (least recently seen), at most ``cap`` keys."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.keys: OrderedDict[str, deque[float]] = OrderedDict()

    def get(self, key: str, now: float, window: float) -> deque[float]:
        q = self.keys.get(key)
        if q is None:
            q = self.keys[key] = deque()
            while len(self.keys) > self.cap:
                self.keys.popitem(last=False)
        else:
            self.keys.move_to_end(key)
        while q and now - q[0] >= window:
            q.popleft()
        return q

    def drop(self, key: str) -> None:
        self.keys.pop(key, None)


class SignInLimiter:
    def __init__(self, attempts: int = 10, window: float = 300.0, *, free: int = 5, delay: float = 1.0,
                 max_delay: float = 30.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self.free, self.delay, self.max_delay = free, delay, max_delay
        self._addresses = _Recent(max_keys)
        self._accounts = _Recent(max_keys)

    def account_wait(self, tries: int) -> float:
        """The least gap after the previous try when an account has had ``tries`` in the window."""
        if tries < self.free:
            return 0.0
        return float(min(self.delay * 2 ** (tries - self.free), self.max_delay))

    def begin(self, account: str, host: str | None) -> Attempt:
        """Ask to try ``account`` from ``host``: counted at once when it may go ahead."""
        now = self.clock()
        address = address_key(host)
        by_address = self._addresses.get(address, now, self.window)
        wait = 0.0
        if len(by_address) >= self.attempts:
            wait = self.window - (now - by_address[0])
        by_account = self._accounts.get(account, now, self.window)
        if by_account:
            wait = max(wait, self.account_wait(len(by_account)) - (now - by_account[-1]))
        if wait > 0:
            return Attempt(account, address, wait)
        by_address.append(now)
        by_account.append(now)
        return Attempt(account, address)

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt signed in: the account starts afresh and the address does not pay for it."""
        self._accounts.drop(attempt.account)
        q = self._addresses.keys.get(attempt.address)
        if q:
            q.pop()

    @property
    def tracked(self) -> int:
        return len(self._addresses.keys) + len(self._accounts.keys)
