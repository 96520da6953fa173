"""Users, passwords and sessions (SQLite and PostgreSQL); the sign-in rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import (
    AccountError,
    add_user,
    close_session,
    open_session,
    principal,
    set_disabled,
    set_password,
    verify,
)
from db.models import utcnow
from db.users import Role, User


def test_add_user_validates_and_hashes(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        user = add_user(s, "asha", "operator", "correct horse 42", "Asha Devi")
        assert user.password_hash.startswith("$argon2") and "correct horse" not in user.password_hash
        assert len(user.sip_secret) >= 20 and user.sip_username == "op-asha"
        for args, message in [(("Asha", "operator", "correct horse 42"), "user name 'Asha'"),
                              (("ravi", "boss", "correct horse 42"), "role 'boss'"),
                              (("ravi", "operator", "short"), "too short"),
                              (("ravi", "operator", "onlyletters"), "only lower-case letters"),
                              (("asha", "operator", "correct horse 42"), "user 'asha' already exists")]:
            with pytest.raises(AccountError, match=message):
                add_user(s, *args)
    with session_factory() as s:
        assert s.query(User).count() == 1


def test_verify_sessions_disable_and_password_change(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        user = add_user(s, "sup", "supervisor", "Supervise-2026!")
        assert verify(s, "sup", "wrong password!") is None and verify(s, "nobody", "Supervise-2026!") is None
        assert verify(s, "sup", "Supervise-2026!") is not None
        token = open_session(s, user, "127.0.0.1", timedelta(hours=1))
    with session_factory() as s:
        who = principal(s, token)
        assert who is not None and who.role is Role.supervisor and len(who.csrf) > 20
        assert principal(s, token, now=utcnow() + timedelta(hours=2)) is None  # expired
        assert principal(s, "forged-token") is None and principal(s, None) is None
    with session_factory.begin() as s:
        set_password(s, "sup", "Another-Pass-99")
    with session_factory() as s:
        assert principal(s, token) is None, "a new password ends every session"
    with session_factory.begin() as s:
        user = s.query(User).one()
        token = open_session(s, user, None, timedelta(hours=1))
        set_disabled(s, "sup")
        assert verify(s, "sup", "Another-Pass-99") is None
    with session_factory.begin() as s:
        assert principal(s, token) is None
        set_disabled(s, "sup", False)
        token = open_session(s, s.query(User).one(), None, timedelta(hours=1))
        close_session(s, token)
        assert principal(s, token) is None


def test_passwords_must_be_long_and_uncommon(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        for password in ("Password123!", "Qwertyuiop1", "1234567890", "letmein12345", "P@ssw0rd2024",
                         "RaviKumar123", "Warroom2026!"):
            with pytest.raises(AccountError, match="too common or easy to guess"):
                add_user(s, "ravi", "operator", password, "Ravi Kumar")
        add_user(s, "ravi", "operator", "Monsoon-Booth-88", "Ravi Kumar")
        with pytest.raises(AccountError, match="too common"):
            set_password(s, "ravi", "password1234")
