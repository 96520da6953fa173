"""Users and sign-in: argon2 password hashes, server-side sessions (the cookie carries a random token, the
database only its hash), and each session's CSRF token. :class:`UserService` holds the use cases; the plain
functions below it work in the caller's transaction."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Conflict, Invalid, NotFound, ServiceError
from db.engine import Database
from db.models import utcnow
from db.users import Role, User, WebSession

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountInvalid(f"the password is too short: at least {MIN_PASSWORD} characters", field="password")
    if password.strip() != password or password.lower() == password and password.isalpha():
        raise AccountInvalid("the password must not start or end with spaces, nor be only lower-case letters",
                             field="password")


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
    _check_password(password)
    user = User(username=username, display_name=display_name or username, role=role_,
                password_hash=_HASHER.hash(password), sip_secret=secrets.token_urlsafe(18), ui_language=language)
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
    """A new password; every session of the user ends."""
    user = get_user(session, username)
    _check_password(password)
    user.password_hash = _HASHER.hash(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
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
    user = session.scalar(select(User).where(User.username == username))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, ip: str | None, ttl: timedelta,
                 now: datetime | None = None) -> str:
    """A new signed-in session; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(token), user_id=user.id, csrf=secrets.token_urlsafe(24), ip=ip,
                           created_at=now, expires_at=now + ttl))
    user.last_sign_in_at = now
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # housekeeping
    return token


def principal(session: Session, token: str | None, now: datetime | None = None) -> Principal | None:
    """Who holds this session token, if it is valid, unexpired and the user still enabled."""
    if not token:
        return None
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.id == _digest(token))).first()
    if row is None:
        return None
    web, user = row
    if user.disabled or web.expires_at <= (now or utcnow()):
        return None
    return Principal(user.id, user.username, user.display_name, user.role, web.csrf, user.ui_language)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


class UserService:
    """Users of the consoles and their sign-ins, each use case in one transaction (the command line's
    ``warroom users`` and the web's sign-in)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, username: str, role: str, password: str, display_name: str | None = None,
                  language: str = "en") -> dict[str, Any]:
        """A new user (the password is checked, then kept only as an argon2 hash)."""
        return await self.db.run(lambda s: user_row(add_user(s, username, role, password, display_name, language)))

    async def list(self) -> list[dict[str, Any]]:
        """Every user with role and state, by role and name (never passwords)."""
        return await self.db.run(lambda s: [user_row(u) for u in list_users(s)])

    async def disable(self, username: str) -> None:
        """Disable a user: their sessions end at once (their softphone goes with the next sync)."""
        await self.db.run(set_disabled, username, True)

    async def enable(self, username: str) -> None:
        await self.db.run(set_disabled, username, False)

    async def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the user ends."""
        await self.db.run(set_password, username, password)

    async def reset_password(self, username: str, actor: Actor) -> str:
        """A new random password for ``username`` (every session of theirs ends); returned once, to be given
        to them, and kept only as a hash."""
        password = new_password()

        def work(session: Session) -> None:
            user = set_password(session, username, password)
            record(session, actor, "user.reset_password", f"user:{user.username}")

        await self.db.run(work)
        return password

    async def end_sessions(self, username: str) -> int:
        """Sign a user out everywhere; how many sessions ended."""
        def work(session: Session) -> int:
            user = get_user(session, username)
            ended = session.scalar(select(func.count()).where(WebSession.user_id == user.id)) or 0
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            return ended

        return await self.db.run(work)

    async def sign_in(self, username: str, password: str, ip: str | None, ttl: timedelta) -> str | None:
        """A new session's token when the name and password match an enabled user; None otherwise."""
        def work(session: Session) -> str | None:
            user = verify(session, username.strip().lower(), password)
            return open_session(session, user, ip, ttl) if user else None

        return await self.db.run(work)

    async def principal(self, token: str | None) -> Principal | None:
        """Who holds this session token (None: no valid session)."""
        return await self.db.run(principal, token)

    async def sign_out(self, token: str) -> None:
        await self.db.run(close_session, token)


def user_row(user: User) -> dict[str, Any]:
    """A user as plain data (never the password's hash)."""
    return {"username": user.username, "name": user.display_name, "role": user.role.value,
            "disabled": user.disabled, "sip_user": user.sip_username, "language": user.ui_language,
            "last_sign_in": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None}
