"""Is an operator's softphone (or browser phone) registered? Asked of this node's Asterisk when the softphone's
home is here, else read from the heartbeat of its home node (or of any node, for a web-only process)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import utcnow
from db.nodes import Node
from db.phones import WEB_SUFFIX as SUFFIX
from db.users import User

Registered = Callable[[str], Awaitable[bool]]


def _home_of(session: Session, endpoint: str) -> str | None:
    """The home node of the endpoint's user (``op-<user>``, or ``op-<user>-web``: their browser phone)."""
    username = endpoint.removeprefix("op-")
    found = session.execute(select(User.home_node).where(User.username == username)).first()
    if found is None and username.endswith(SUFFIX):
        found = session.execute(select(User.home_node).where(User.username == username[: -len(SUFFIX)])).first()
    return found[0] if found else None


def _registered_anywhere(session: Session, endpoint: str, home: str | None, now: datetime, lease: float) -> bool:
    query = select(Node.registered).where(Node.stopped_at.is_(None),
                                          Node.heartbeat_at > now - timedelta(seconds=lease))
    if home is not None:
        query = query.where(Node.name == home)
    return any(endpoint in (listed or []) for listed in session.scalars(query))


class SoftphonePresence:
    def __init__(self, db: Database, node: str, local: Registered | None, *, lease: float = 30.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.node, self.local, self.lease, self.clock = db, node, local, lease, clock

    async def registered(self, endpoint: str) -> bool:
        home = await self.db.run(_home_of, endpoint)
        if self.local is not None and home in (None, self.node):
            return await self.local(endpoint)
        return await self.db.run(_registered_anywhere, endpoint, home, self.clock(), self.lease)
