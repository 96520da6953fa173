"""The ban list at work: Asterisk's security events counted per address; an address that fails too often is
banned (a row, an audit entry) and the PJSIP ACL ``warroom_bans.conf`` is rewritten and res_pjsip reloaded
(no restart, calls go on). Bans end by themselves; ``warroom bans`` lists, adds and lifts them (the running
service follows within seconds)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from audit.log import Actor
from core.errors import Invalid
from core.files import write_private
from core.tasks import Tasks
from db.engine import Database
from db.models import utcnow
from events.asterisk import LinkState, SecurityFailure
from events.bus import EventBus
from sipguard import store
from sipguard.counter import FailureCounter, GuardRules, acl_text

log = logging.getLogger(__name__)
FILENAME = "warroom_bans.conf"


class SipGuard:
    """Hears failed SIP logins, bans, and keeps Asterisk's ACL equal to the bans in force. ``reload``
    reloads res_pjsip (over AMI); ``conf_dir`` is Asterisk's configuration directory."""

    def __init__(self, db: Database, bus: EventBus, reload: Callable[[], Awaitable[None]], conf_dir: Path,
                 rules: GuardRules, *, owner: tuple[int, int] | None = None,
                 clock: Callable[[], datetime] = utcnow, sync_every: float = 5.0) -> None:
        self.db, self.bus, self.reload, self.rules, self.owner = db, bus, reload, rules, owner
        self.path = conf_dir / FILENAME
        self.clock, self.sync_every = clock, sync_every
        self.counter = FailureCounter(rules)
        self.tasks = Tasks("sip guard")
        self.banned: list[str] = []
        self._applied: str | None = None
        self._lock = asyncio.Lock()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.bus.subscribe(SecurityFailure, self._on_failure)
        self.bus.subscribe(LinkState, self._on_link)
        self._loop = asyncio.create_task(self._every(), name="sip guard")

    async def stop(self) -> None:
        self.bus.unsubscribe(SecurityFailure, self._on_failure)
        self.bus.unsubscribe(LinkState, self._on_link)
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        await self.tasks.cancel_all()

    def _on_failure(self, event: SecurityFailure) -> None:
        kinds = self.counter.failed(event.address, event.kind, event.at)
        if kinds is not None:
            self.tasks.spawn(self.ban(event.address, kinds), f"ban {event.address}")

    def _on_link(self, state: LinkState) -> None:
        if state.link == "ami" and state.up and self._applied is None:  # a change Asterisk has not heard of
            self.tasks.spawn(self.sync(), "apply bans after reconnect")

    async def ban(self, address: str, kinds: list[str]) -> None:
        now = self.clock()
        reason = f"{len(kinds)} failed SIP logins in {int(self.rules.window.total_seconds() // 60)} min: " + \
                 ", ".join(sorted(set(kinds)))
        await self.db.run(store.ban, address, failures=len(kinds), reason=reason, now=now,
                          until=now + self.rules.ban_for, actor=Actor.system())
        log.warning("SIP: banned %s (%s)", address, reason)
        await self.sync()

    async def _every(self) -> None:
        while True:
            try:
                await self.sync()
            except Exception:
                log.exception("sip guard: sync failed; trying again")
            await asyncio.sleep(self.sync_every)

    async def sync(self) -> bool:
        """End the bans whose time is up, and make Asterisk's ACL the bans in force (written and reloaded
        only when it changed); True when Asterisk was told."""
        async with self._lock:
            now = self.clock()
            ended = await self.db.run(store.expire, now)
            if ended:
                log.info("SIP: bans ended for %s", ", ".join(ended))
                self.counter.forget(ended)
            self.banned = await self.db.run(store.active_addresses, now)
            text = acl_text(self.banned)
            if text == self._applied:
                return False
            if self._applied is None and _read(self.path) == text:
                self._applied = text  # as Asterisk read it when it (re)started, or as told before we started
                return False
            write_private(self.path, text, 0o640, self.owner)
            try:
                await self.reload()
            except Exception as exc:
                log.info("bans written but res_pjsip not reloaded (%s); the next sync retries", exc)
                return False
            self._applied = text
            return True

    def snapshot(self) -> dict[str, Any]:
        return {"banned": list(self.banned), "watched": self.counter.watched}


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


class BanService:
    """The ban list's use cases for the command line and the web: list, ban by hand, lift."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.clock = db, clock

    async def list(self) -> list[dict[str, Any]]:
        return await self.db.run(store.listing, self.clock())

    async def add(self, address: str, hours: float, reason: str, actor: Actor) -> int:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise Invalid(f"'{address}' is not an address") from None
        if not 0 < hours <= 24 * 365:
            raise Invalid("a ban lasts more than 0 and at most 8760 hours")
        now = self.clock()
        return await self.db.run(store.ban, address, failures=0, reason=reason or "banned by hand", now=now,
                                 until=now + timedelta(hours=hours), actor=actor)

    async def lift(self, address: str, actor: Actor) -> int:
        return await self.db.run(store.lift, address, now=self.clock(), actor=actor)
