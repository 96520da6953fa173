"""Phones in the browser (issue 19): each user may have, beside their SIP softphone (``op-<user>``), a phone
in the console page: the WebRTC endpoint ``op-<user>-web`` (SIP over a secure WebSocket, DTLS-SRTP media,
Opus or G.711, ICE with host candidates only). Two endpoints rather than one with two contacts: a SIP
softphone and a browser need different transports, media encryption and codecs, and each side sees which
one is registered. Calls ring the browser phone when it is registered, else the SIP softphone.

The browser phone's secret is made for one signed-in web session and handed only to that session's pages
(never shown, never typed); it goes with the session (sign-out, expiry, a new password, the user disabled:
the row is deleted with its session), so every sign-in gets a new one. The pure parts (names, rendering)
are here with the database work the services call."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound
from core.sip import REALM, md5_cred
from db.models import utcnow
from db.phones import WEB_PREFIX, WEB_SUFFIX, BrowserPhone
from db.users import User, WebSession

PREFIX, SUFFIX = WEB_PREFIX, WEB_SUFFIX


def web_endpoint(username: str) -> str:
    """The browser phone's endpoint (and SIP user) of ``username``."""
    return f"{PREFIX}{username}{SUFFIX}"


def sip_endpoint(username: str) -> str:
    """The SIP softphone's endpoint of ``username`` (as :attr:`db.users.User.sip_username`)."""
    return f"{PREFIX}{username}"


def is_web(endpoint: str) -> bool:
    return endpoint.startswith(PREFIX) and endpoint.endswith(SUFFIX)


def username_of(endpoint: str, usernames: Sequence[str] = ()) -> str:
    """The user an operator endpoint belongs to: ``op-asha`` and ``op-asha-web`` are asha's (unless a user
    named ``asha-web`` exists, listed in ``usernames``: then ``op-asha-web`` is that user's softphone)."""
    name = endpoint.removeprefix(PREFIX)
    if name.endswith(SUFFIX) and name not in usernames:
        return name[: -len(SUFFIX)]
    return name


def endpoints(username: str) -> tuple[str, str]:
    """The endpoints that may ring for ``username``, in the order tried: the browser phone, the softphone."""
    return web_endpoint(username), sip_endpoint(username)


@dataclass(frozen=True)
class WebPhone:
    endpoint: str
    display_name: str
    secret: str


def render_web(phones: Sequence[WebPhone], *, media_address: str | None = None, taken: Sequence[str] = (),
               context: str = "warroom-operators") -> str:
    """The browser phones' endpoints (appended to ``pjsip_operators.conf``), in a stable order. ``webrtc =
    yes`` gives DTLS-SRTP with a certificate made on the fly, ICE, AVPF and RTCP multiplexing; Opus first,
    then G.711, whatever the other party speaks (Opus hides lost packets better on a desk's Wi-Fi; Asterisk
    transcodes to the phone line's G.711). ``media_address``: the one address browsers reach Asterisk's
    media on (RTP is bound to it, so it is the only ICE candidate); unset, every interface's. An endpoint
    whose name is ``taken`` (a user named ``<someone>-web`` has that softphone) is left out."""
    out = []
    media = f"media_address = {media_address}\nbind_rtp_to_media_address = yes\n" if media_address else ""
    for p in sorted(phones, key=lambda p: p.endpoint):
        if p.endpoint in taken:
            continue
        name = " ".join("".join(c if c.isprintable() and c not in ';"' else " " for c in p.display_name).split())
        out.append(f"""
; --- browser phone (issue 19)
[{p.endpoint}]
type = endpoint
context = {context}
disallow = all
allow = opus,ulaw,alaw
auth = {p.endpoint}
aors = {p.endpoint}
webrtc = yes
dtls_auto_generate_cert = yes
outgoing_call_offer_pref = local_merge
dtmf_mode = rfc4733
direct_media = no
{media}callerid = "{name}" <{p.endpoint}>

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
qualify_frequency = 30
""")
    return "".join(out)


def live_web_phones(session: Session, node: str | None = None, now: datetime | None = None) -> list[WebPhone]:
    """The browser phones of enabled users whose web session is still valid; with ``node``, those homed on
    that node (or on none)."""
    query = (select(User, BrowserPhone).join(BrowserPhone, BrowserPhone.user_id == User.id)
             .join(WebSession, WebSession.id == BrowserPhone.session_id)
             .where(User.disabled.is_(False), WebSession.expires_at > (now or utcnow())))
    if node is not None:
        query = query.where(or_(User.home_node == node, User.home_node.is_(None)))
    return [WebPhone(web_endpoint(u.username), u.display_name, p.secret) for u, p in session.execute(query)]


def all_usernames(session: Session) -> list[str]:
    return list(session.scalars(select(User.username)))


@dataclass(frozen=True)
class Credentials:
    """What a signed-in page needs to register its phone. ``fresh``: made now (Asterisk learns it with the
    next softphone sync)."""

    endpoint: str
    secret: str
    fresh: bool


def issue(session: Session, user_id: int, session_id: str, now: datetime | None = None) -> Credentials:
    """The browser phone's credentials for this web session: the same while the session lasts; a new secret
    when another session (another sign-in) asks, which takes the phone over."""
    user = session.get(User, user_id)
    if user is None or user.disabled:
        raise NotFound(f"no enabled user {user_id}")
    endpoint = web_endpoint(user.username)
    if session.scalar(select(User.id).where(User.username == endpoint.removeprefix(PREFIX))) is not None:
        raise Conflict(f"the browser phone's name {endpoint} is another user's softphone: rename one of them")
    row = session.get(BrowserPhone, user_id, with_for_update=True)
    if row is not None and row.session_id == session_id:
        return Credentials(endpoint, row.secret, fresh=False)
    if row is None:
        row = BrowserPhone(user_id=user_id, session_id=session_id, secret="")
        session.add(row)
    row.session_id, row.secret, row.issued_at = session_id, secrets.token_urlsafe(24), now or utcnow()
    return Credentials(endpoint, row.secret, fresh=True)
