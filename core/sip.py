"""SIP digest credentials as Asterisk's ``md5_cred`` wants them (no password in clear in its config)."""

from __future__ import annotations

import hashlib

REALM = "warroom"


def md5_cred(username: str, secret: str, realm: str = REALM) -> str:
    """MD5 of ``user:realm:secret``: SIP digest authentication is MD5 by definition (RFC 3261)."""
    return hashlib.md5(f"{username}:{realm}:{secret}".encode()).hexdigest()
