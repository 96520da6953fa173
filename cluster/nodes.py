"""The nodes table: registration (with the refusals that keep a cluster sane), heartbeats, who is alive.

A node is alive while its heartbeat is younger than the lease; a node that stops says so. Refused at
registration: a second live process with the same node name, a second node on SQLite (several nodes need
PostgreSQL), two nodes on one host whose SIP port or RTP ranges overlap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from core.errors import Conflict
from db.nodes import Node


class NodeRefused(Conflict):
    """This node may not join: the message says why and what to change."""


@dataclass(frozen=True)
class NodeInfo:
    name: str
    host: str
    web_only: bool = False
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
    row.sip_port, row.trunks = info.sip_port, list(info.trunks)
    row.rtp_start, row.rtp_end = info.rtp if info.rtp else (None, None)
    row.asterisk_up, row.lines_free = False, 0
    row.started_at = row.heartbeat_at = now
    row.stopped_at = None


def heartbeat(session: Session, name: str, process: str, now: datetime, *, asterisk_up: bool,
              lines_free: int) -> bool:
    """Say this node is alive (and how it is); False when another process has taken the name over."""
    done = session.execute(update(Node).where(Node.name == name, Node.process == process)
                           .values(heartbeat_at=now, asterisk_up=asterisk_up, lines_free=lines_free))
    return bool(getattr(done, "rowcount", 0))


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
