"""Users and sign-in: argon2 password hashes, server-side sessions (the cookie carries a random token, the
database only its hash), and each session's CSRF token. :class:`UserService` holds the use cases; the plain
functions below it work in the caller's transaction."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accounts.passwords import password_problem
from accounts.ratelimit import SignInLimiter
from audit.log import Actor, record
from core.errors import Conflict, Invalid, NotFound, ServiceError
from db.engine import Database
from db.models import utcnow
from db.users import Role, User, WebSession

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
SYSTEM = Actor.system()
TOUCH_EVERY = timedelta(seconds=60)  # a session's last activity is written at most this often
_HASHER = PasswordHasher()
# verified when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ServiceError):
    """A user request failed; the message says what and for whom, the subclass what kind of failure."""


class AccountInvalid(AccountError, Invalid):
    """A bad user name, role, language or password."""


class UserNotFound(AccountError, NotFound):
    """No user by that name."""


class UserExists(AccountError, Conflict):
    """The user name is taken."""


@dataclass(frozen=True)
class Principal:
    """Who a request comes from."""

    user_id: int
    username: str
    display_name: str
    role: Role
    csrf: str
    language: str


def new_password() -> str:
    """A strong random password (16 characters), to be shown once to whoever will use it."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: a session's token, or none (``retry_after`` > 0: too many tries, the password
    was not even checked)."""

    token: str | None
    retry_after: float = 0.0


def normalise_username(name: str) -> str:
    """The one form of a typed user name, for the check and the sign-in limit alike."""
    return name.strip().lower()


def _check_password(password: str, username: str = "", display_name: str = "") -> None:
    problem = password_problem(password, username=username, display_name=display_name)
    if problem:
        raise AccountInvalid(problem, field="password")


def _new_sip_secret() -> str:
    return secrets.token_urlsafe(18)


def add_user(session: Session, username: str, role: str, password: str, display_name: str | None = None,
             language: str = "en") -> User:
    if not USERNAME.match(username):
        raise AccountInvalid(f"user name '{username}': 2-32 characters, lower-case letters, digits, . _ -, "
                             "starting with a letter", field="username")
    try:
        role_ = Role(role)
    except ValueError:
        raise AccountInvalid(f"role '{role}': one of {', '.join(r.value for r in Role)}", field="role") from None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserExists(f"user '{username}' already exists", field="username")
    if language not in ("en", "hi"):
        raise AccountInvalid(f"language '{language}': en or hi", field="language")
    _check_password(password, username, display_name or "")
    user = User(username=username, display_name=display_name or username, role=role_,
                password_hash=_HASHER.hash(password), sip_secret=_new_sip_secret(), ui_language=language)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(f"no user '{username}'")
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.role, User.username)).all()


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; every session of the user ends and their softphone gets a new secret (whoever knew
    the old password may have read it on the console)."""
    user = get_user(session, username)
    _check_password(password, user.username, user.display_name)
    user.password_hash = _HASHER.hash(password)
    user.sip_secret = _new_sip_secret()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def rotate_sip_secret(session: Session, username: str) -> User:
    """A new softphone secret (the service applies it to Asterisk within seconds; the old one stops working)."""
    user = get_user(session, username)
    user.sip_secret = _new_sip_secret()
    return user


def set_disabled(session: Session, username: str, disabled: bool = True) -> User:
    """Disable (or enable) a user; disabling ends their sessions at once."""
    user = get_user(session, username)
    user.disabled = disabled
    if disabled:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def verify(session: Session, username: str, password: str) -> User | None:
    """The user if the name and password match and the user is enabled; None otherwise (same cost)."""
    user, why = check(session, username, password)
    return user if why == "ok" else None


def check(session: Session, username: str, password: str) -> tuple[User | None, str]:
    """(the user, "ok") if the name and password match an enabled user; else (the user by that name or None,
    why not). A wrong name costs as long as a wrong password."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return user, "unknown user" if user is None else "wrong password"
    if user is None:
        return None, "unknown user"
    if user.disabled:
        return user, "disabled"
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user, "ok"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_id(token: str) -> str:
    """The stored id of the session this cookie token opens (what other tables refer to)."""
    return _digest(token)


def open_session(session: Session, user: User, ip: str | None, ttl: timedelta,
                 now: datetime | None = None) -> str:
    """A new signed-in session; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(token), user_id=user.id, csrf=secrets.token_urlsafe(24), ip=ip,
                           created_at=now, expires_at=now + ttl, last_active_at=now))
    user.last_sign_in_at = now
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # housekeeping
    return token


def principal(session: Session, token: str | None, now: datetime | None = None, *, idle: timedelta | None = None,
              touch: bool = False) -> Principal | None:
    """Who holds this session token, if it is valid, unexpired, used within ``idle`` (when given) and the
    user still enabled. ``touch``: this request is the user's doing, so the session was active now (written
    at most once a minute, or a quarter of ``idle``); a session idle too long ends here."""
    if not token:
        return None
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.id == _digest(token))).first()
    if row is None:
        return None
    web, user = row
    now = now or utcnow()
    if user.disabled or web.expires_at <= now:
        return None
    active = web.last_active_at or web.created_at
    if idle is not None and active + idle <= now:
        session.delete(web)
        return None
    if touch and now - active >= (min(TOUCH_EVERY, idle / 4) if idle is not None else TOUCH_EVERY):
        web.last_active_at = now
    return Principal(user.id, user.username, user.display_name, user.role, web.csrf, user.ui_language)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


NODE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")


class UserService:
    """Users of the consoles and their sign-ins, each use case in one transaction with its audit entry (the
    command line's ``warroom users`` and the web's sign-in and admin actions). ``limiter`` holds sign-ins
    back (see :mod:`accounts.ratelimit`)."""

    def __init__(self, db: Database, limiter: SignInLimiter | None = None) -> None:
        self.db = db
        self.limiter = limiter or SignInLimiter()

    async def add(self, username: str, role: str, password: str, display_name: str | None = None,
                  language: str = "en", actor: Actor = SYSTEM) -> dict[str, Any]:
        """A new user (the password is checked, then kept only as an argon2 hash)."""
        def work(session: Session) -> dict[str, Any]:
            user = add_user(session, username, role, password, display_name, language)
            record(session, actor, "user.add", f"user:{user.username}", detail={"role": user.role.value})
            return user_row(user)

        return await self.db.run(work)

    async def list(self) -> list[dict[str, Any]]:
        """Every user with role and state, by role and name (never passwords)."""
        return await self.db.run(lambda s: [user_row(u) for u in list_users(s)])

    async def disable(self, username: str, actor: Actor = SYSTEM) -> None:
        """Disable a user: their sessions end at once (their softphone goes with the next sync)."""
        await self._change(username, "user.disable", actor, lambda s: set_disabled(s, username, True))

    async def enable(self, username: str, actor: Actor = SYSTEM) -> None:
        await self._change(username, "user.enable", actor, lambda s: set_disabled(s, username, False))

    async def set_password(self, username: str, password: str, actor: Actor = SYSTEM) -> None:
        """A new password; every session of the user ends and their softphone gets a new secret."""
        await self._change(username, "user.set_password", actor, lambda s: set_password(s, username, password),
                           {"softphone_secret": "rotated", "sessions": "ended"})

    async def rotate_sip_secret(self, username: str, actor: Actor = SYSTEM) -> dict[str, Any]:
        """A new softphone secret on demand (the old one stops working once the service applies it)."""
        return await self._change(username, "user.rotate_sip_secret", actor, lambda s: rotate_sip_secret(s, username))

    async def _change(self, username: str, action: str, actor: Actor, change: Callable[[Session], User],
                      detail: dict[str, Any] | None = None) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            user = change(session)
            record(session, actor, action, f"user:{user.username}", detail=detail)
            return user_row(user)

        out: dict[str, Any] = await self.db.run(work)
        return out

    async def set_home(self, username: str, node: str | None, actor: Actor = SYSTEM) -> None:
        """The node an operator's softphone registers to (None: whichever node; one node alone needs none)."""
        if node is not None and not NODE_NAME.match(node):
            raise AccountInvalid(f"'{node}' is not a node name (letters, digits, - and _)")

        def change(session: Session) -> User:
            user = get_user(session, username)
            user.home_node = node
            return user

        await self._change(username, "user.set_home", actor, change, {"home_node": node})

    async def reset_password(self, username: str, actor: Actor) -> str:
        """A new random password for ``username`` (every session of theirs ends); returned once, to be given
        to them, and kept only as a hash."""
        password = new_password()

        def work(session: Session) -> None:
            user = set_password(session, username, password)
            record(session, actor, "user.reset_password", f"user:{user.username}",
                   detail={"softphone_secret": "rotated", "sessions": "ended"})

        await self.db.run(work)
        return password

    async def end_sessions(self, username: str, actor: Actor = SYSTEM) -> int:
        """Sign a user out everywhere; how many sessions ended."""
        def work(session: Session) -> int:
            user = get_user(session, username)
            ended = session.scalar(select(func.count()).where(WebSession.user_id == user.id)) or 0
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            record(session, actor, "user.end_sessions", f"user:{user.username}", detail={"sessions": ended})
            return ended

        return await self.db.run(work)

    async def sign_in(self, username: str, password: str, ip: str | None, ttl: timedelta) -> SignIn:
        """A new session's token when the name and password match an enabled user. The try is counted
        before the password is checked (see :class:`SignInLimiter`); each sign-in and each failure is in
        the audit log (a failure names the user only when there is one: a typed name may be a password)."""
        name = normalise_username(username)
        account = name if USERNAME.match(name) else "?"
        attempt = self.limiter.begin(account, ip)
        if attempt.wait > 0:
            return SignIn(None, attempt.wait)

        def work(session: Session) -> str | None:
            user, why = check(session, name, password)
            if user is None or why != "ok":
                record(session, Actor("anonymous", None, ip), "sign_in.failed",
                       f"user:{user.username}" if user else None, detail={"reason": why}, outcome="refused")
                return None
            record(session, Actor(user.username, user.id, ip), "sign_in", f"user:{user.username}")
            return open_session(session, user, ip, ttl)

        token = await self.db.run(work)
        if token is not None:
            self.limiter.succeeded(attempt)
        return SignIn(token)

    async def principal(self, token: str | None, *, idle: timedelta | None = None,
                        touch: bool = False) -> Principal | None:
        """Who holds this session token (None: no valid session); see :func:`principal`."""
        return await self.db.run(lambda s: principal(s, token, idle=idle, touch=touch))

    async def sign_out(self, token: str, actor: Actor = SYSTEM) -> None:
        def work(session: Session) -> None:
            close_session(session, token)
            record(session, actor, "sign_out", f"user:{actor.name}" if actor.user_id else None)

        await self.db.run(work)


def user_row(user: User) -> dict[str, Any]:
    """A user as plain data (never the password's hash)."""
    return {"username": user.username, "name": user.display_name, "role": user.role.value,
            "disabled": user.disabled, "sip_user": user.sip_username, "language": user.ui_language,
            "home_node": user.home_node,
            "last_sign_in": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None}
