"""Softphones: one PJSIP endpoint (endpoint + auth + aor, one registration) per enabled user, rendered from
the users table into ``pjsip_operators.conf`` (which ``pjsip.conf`` includes) and applied with a reload of
res_pjsip over AMI: no Asterisk restart, calls in progress go on. A disabled user's endpoint disappears
with the next sync. Passwords are written only as MD5 digests (``md5_cred``), never in clear. Registrations
last at most ten minutes, so a softphone that dies stops counting as registered within that time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.ami import AmiClient, AmiError
from adapters.ari import AriClient, AriError
from core.files import write_private
from core.sip import REALM, md5_cred
from db.engine import Database
from db.users import User
from operators.webphones import all_usernames, live_web_phones, render_web, sip_endpoint

FILENAME = "pjsip_operators.conf"


@dataclass(frozen=True)
class Phone:
    endpoint: str
    display_name: str
    secret: str


@dataclass(frozen=True)
class Access:
    """Where softphones connect: the transport they use (empty: the one they registered on, e.g. TLS),
    and the networks they may register and call from (anything else is refused with 403)."""

    transport: str = "transport-udp"
    networks: tuple[str, ...] = ()


def render(phones: Sequence[Phone], context: str = "warroom-operators", access: Access = Access()) -> str:
    """The endpoints' configuration text (stable order, so an unchanged table gives an unchanged file)."""
    out = ["; Rendered by warroom from the users table: one softphone per enabled user. Do not edit.\n"]
    acl = "".join(["deny = 0.0.0.0/0.0.0.0\ndeny = ::/0\n", *(f"permit = {n}\n" for n in access.networks)]) \
        if access.networks else ""
    transport = f"transport = {access.transport}\n" if access.transport else ""
    for p in sorted(phones, key=lambda p: p.endpoint):
        name = " ".join("".join(c if c.isprintable() and c not in ';"' else " " for c in p.display_name).split())
        out.append(f"""
[{p.endpoint}]
type = endpoint
{transport}context = {context}
disallow = all
allow = ulaw,alaw
auth = {p.endpoint}
aors = {p.endpoint}
direct_media = no
dtmf_mode = rfc4733
rtp_symmetric = yes
force_rport = yes
rewrite_contact = yes
callerid = "{name}" <{p.endpoint}>
{acl}
[{p.endpoint}]
type = auth
auth_type = digest
username = {p.endpoint}
realm = {REALM}
md5_cred = {md5_cred(p.endpoint, p.secret)}

[{p.endpoint}]
type = aor
max_contacts = 1
remove_existing = yes
default_expiration = 300
maximum_expiration = 600
""")
    return "".join(out)


def enabled_phones(session: Session, node: str | None = None) -> list[Phone]:
    """The softphones of enabled users; with ``node``, those whose home is that node (or who have none)."""
    query = select(User).where(User.disabled.is_(False))
    if node is not None:
        query = query.where(or_(User.home_node == node, User.home_node.is_(None)))
    return [Phone(u.sip_username, u.display_name, u.sip_secret) for u in session.scalars(query)]


@dataclass(frozen=True)
class BrowserPhones:
    """Browser phones are rendered too (issue 19); ``media_address``: the one address their media uses."""

    media_address: str | None = None


def _web_phones(session: Session, node: str | None, browser: BrowserPhones) -> str:
    taken = [sip_endpoint(name) for name in all_usernames(session)]
    return render_web(live_web_phones(session, node), media_address=browser.media_address, taken=taken)


class Softphones:
    """Keeps Asterisk's operator endpoints equal to the users table (``sync``), and says who is registered.
    With ``browser``, each signed-in page's browser phone is rendered too (:mod:`operators.webphones`);
    :meth:`poke` asks for a sync at once (a new browser phone's secret)."""

    def __init__(self, ami: AmiClient, ari: AriClient, db: Database, conf_dir: Path,
                 owner: tuple[int, int] | None = None, log: Callable[[str], None] | None = None,
                 node: str | None = None, access: Access = Access(), browser: BrowserPhones | None = None) -> None:
        self.ami, self.ari, self.db, self.node, self.access, self.browser = ami, ari, db, node, access, browser
        self.path = conf_dir / FILENAME
        self.owner = owner
        self._log = log or logging.getLogger(__name__).info
        self._lock = asyncio.Lock()
        self.changed = asyncio.Event()

    def poke(self) -> None:
        """Something changed that Asterisk must learn now (the keeper syncs at once, not in 5 s)."""
        self.changed.set()

    async def sync(self) -> bool:
        """Write the endpoints if they changed and reload res_pjsip; True when Asterisk was told."""
        async with self._lock:
            phones = await self.db.run(enabled_phones, self.node)
            text = render(phones, access=self.access)
            if self.browser is not None:
                text += await self.db.run(_web_phones, self.node, self.browser)
            try:
                if self.path.read_text() == text:
                    return False
            except OSError:
                pass
            write_private(self.path, text, 0o640, self.owner)
            try:
                await self.ami.reload_module("res_pjsip.so")
            except AmiError as exc:
                self._log(f"softphones written but res_pjsip not reloaded ({exc}); the next sync retries")
                self.path.unlink(missing_ok=True)  # so the next sync writes and reloads again
                return False
            self._log(f"softphones: {len(phones)} endpoints applied")
            return True

    async def configured(self, endpoint: str) -> bool:
        """Whether Asterisk has this endpoint in its PJSIP configuration now."""
        try:  # the configuration as res_pjsip holds it now (ARI's /endpoints keeps removed ones as "offline")
            await self.ari.request("GET", f"/asterisk/config/dynamic/res_pjsip/endpoint/{endpoint}")
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def online(self) -> list[str]:
        """The operators' endpoints registered to this node now."""
        try:
            found = await self.ari.request("GET", "/endpoints/PJSIP")
        except AriError:
            return []
        names = [str(e.get("resource", "")) for e in found or [] if isinstance(e, dict) and e.get("state") == "online"]
        return sorted(name for name in names if name.startswith("op-"))

    async def registered(self, endpoint: str) -> bool:
        """Whether the softphone is registered (its endpoint is online in Asterisk)."""
        try:
            info = await self.ari.request("GET", f"/endpoints/PJSIP/{endpoint}")
        except AriError:
            return False
        return isinstance(info, dict) and info.get("state") == "online"
