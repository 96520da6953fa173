"""The nodes table: registration (with the refusals that keep a cluster sane), heartbeats, who is alive.

A node is alive while its heartbeat is younger than the lease; a node that stops says so. Refused at
registration: a second live process with the same node name, a second node on SQLite (several nodes need
PostgreSQL), two nodes on one host whose SIP port or RTP ranges overlap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict
from db.nodes import ClusterKey, Node


class NodeRefused(Conflict):
    """This node may not join: the message says why and what to change."""


@dataclass(frozen=True)
class NodeInfo:
    name: str
    host: str
    web_only: bool = False
    sip_host: str | None = None
    sip_port: int | None = None
    rtp: tuple[int, int] | None = None
    trunks: list[dict[str, Any]] = field(default_factory=list)


def register(session: Session, info: NodeInfo, process: str, now: datetime, lease: float, backend: str) -> None:
    """Join (or rejoin) as ``info.name``; raises :class:`NodeRefused` for a set-up that cannot work."""
    alive_since = now - timedelta(seconds=lease)
    others = session.scalars(select(Node).where(Node.name != info.name, Node.stopped_at.is_(None),
                                                Node.heartbeat_at > alive_since)).all()
    if backend == "sqlite" and any(not n.web_only for n in others) and not info.web_only:
        names = ", ".join(n.name for n in others)
        raise NodeRefused(f"node '{info.name}' cannot join: node {names} already runs on this SQLite database; "
                          "several nodes need PostgreSQL (WARROOM_DATABASE_URL=postgresql://...)")
    for other in others:
        if other.web_only or info.web_only or other.host != info.host:
            continue
        if info.sip_port is not None and other.sip_port == info.sip_port:
            raise NodeRefused(f"node '{info.name}': SIP port {info.sip_port} is node '{other.name}''s on "
                              f"{info.host} too: give each node on one host its own (WARROOM_ASTERISK__SIP_PORT)")
        if info.rtp and other.rtp_start is not None and other.rtp_end is not None and \
                info.rtp[0] <= other.rtp_end and other.rtp_start <= info.rtp[1]:
            raise NodeRefused(f"node '{info.name}': RTP ports {info.rtp[0]}-{info.rtp[1]} overlap node "
                              f"'{other.name}''s {other.rtp_start}-{other.rtp_end} on {info.host}: give each node "
                              "its own range (WARROOM_ASTERISK__RTP_START / RTP_END)")
    row = session.get(Node, info.name, with_for_update=True)
    if row is not None and row.stopped_at is None and row.heartbeat_at > alive_since and row.process != process:
        age = (now - row.heartbeat_at).total_seconds()
        raise NodeRefused(f"node '{info.name}' is already running on {row.host} (its heartbeat is {age:.0f} s "
                          "old): is it started twice? Give this one another name (WARROOM_ASTERISK__NODE)")
    if row is None:
        row = Node(name=info.name)
        session.add(row)
    row.process, row.host, row.web_only = process, info.host, info.web_only
    row.sip_host, row.sip_port, row.trunks = info.sip_host, info.sip_port, list(info.trunks)
    row.registered = []
    row.rtp_start, row.rtp_end = info.rtp if info.rtp else (None, None)
    row.asterisk_up, row.lines_free = False, 0
    row.started_at = row.heartbeat_at = now
    row.stopped_at = None


def heartbeat(session: Session, name: str, process: str, now: datetime, *, asterisk_up: bool,
              lines_free: int, registered: list[str] | None = None) -> bool:
    """Say this node is alive (and how it is: its Asterisk, free lines, the softphones registered to it);
    False when another process has taken the name over."""
    done = session.execute(update(Node).where(Node.name == name, Node.process == process)
                           .values(heartbeat_at=now, asterisk_up=asterisk_up, lines_free=lines_free,
                                   registered=sorted(registered or [])))
    return bool(getattr(done, "rowcount", 0))


@dataclass(frozen=True)
class Peer:
    """Another live node, as this node's inter-node trunk reaches it."""

    name: str
    sip_host: str
    sip_port: int


def peers(session: Session, me: str, now: datetime, lease: float) -> list[Peer]:
    """The other live nodes with an Asterisk (each gets a trunk from this node)."""
    return [Peer(n.name, n.sip_host, n.sip_port) for n in session.scalars(
        select(Node).where(Node.name != me, Node.web_only.is_(False), Node.stopped_at.is_(None),
                           Node.heartbeat_at > now - timedelta(seconds=lease), Node.sip_host.is_not(None),
                           Node.sip_port.is_not(None)).order_by(Node.name))
        if n.sip_host and n.sip_port]


def registered_on(session: Session, node: str, endpoint: str, now: datetime, lease: float) -> bool:
    """Whether ``endpoint`` was registered to live node ``node`` at its last heartbeat."""
    row = session.get(Node, node)
    return (row is not None and row.stopped_at is None and row.heartbeat_at > now - timedelta(seconds=lease)
            and endpoint in (row.registered or []))


def shared_key(session: Session, name: str, make: Callable[[], str]) -> str:
    """A value all nodes share (made once, by whichever node asks first)."""
    row = session.get(ClusterKey, name)
    if row is None:
        try:
            with session.begin_nested():
                session.add(ClusterKey(name=name, value=make()))
        except IntegrityError:
            pass  # another node made it this very moment: theirs is the one
        row = session.get(ClusterKey, name)
    assert row is not None
    return row.value


def stopped(session: Session, name: str, process: str, now: datetime) -> None:
    session.execute(update(Node).where(Node.name == name, Node.process == process)
                    .values(stopped_at=now, asterisk_up=False, lines_free=0))


def nodes(session: Session, now: datetime, lease: float) -> list[dict[str, Any]]:
    """Every node known, with whether it is alive now (the dashboard's list)."""
    out = []
    for n in session.scalars(select(Node).order_by(Node.name)):
        age = (now - n.heartbeat_at).total_seconds()
        state = "stopped" if n.stopped_at is not None else "alive" if age <= lease else "lost"
        out.append({"name": n.name, "host": n.host, "web_only": n.web_only, "state": state,
                    "heartbeat_age": round(age, 1), "asterisk_up": n.asterisk_up and state == "alive",
                    "lines_free": n.lines_free if state == "alive" else 0,
                    "lines": sum(int(t.get("lines", 0)) for t in n.trunks or []), "trunks": n.trunks,
                    "started_at": n.started_at.isoformat()})
    return out


def expired(session: Session, now: datetime, lease: float) -> list[str]:
    """Nodes whose lease ran out (killed, stopped, or their machine gone): their claims are void."""
    return list(session.scalars(select(Node.name).where(Node.heartbeat_at <= now - timedelta(seconds=lease))))


def clock_skew(session: Session) -> float:
    """Seconds the database's clock is ahead of this machine's (PostgreSQL; 0 for SQLite, which is here)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    before = time.time()
    theirs = float(session.scalar(text("SELECT extract(epoch FROM clock_timestamp())")) or 0)
    return theirs - (before + time.time()) / 2
