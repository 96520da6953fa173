"""The war room's nodes: one row per ``warroom serve`` (an Asterisk node's service, or a web-only one), kept
alive by its heartbeat. Leases, claims and the dashboard's list of nodes are read from here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow
from db.types import UtcDateTime


class Node(Base):
    __tablename__ = "nodes"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    process: Mapped[str] = mapped_column(String(40))          # a token per running process (a restart is new)
    host: Mapped[str] = mapped_column(String(120))            # the machine it runs on
    web_only: Mapped[bool] = mapped_column(default=False)
    sip_host: Mapped[str | None] = mapped_column(String(120))  # where other nodes reach its SIP transport
    sip_port: Mapped[int | None] = mapped_column(Integer)
    rtp_start: Mapped[int | None] = mapped_column(Integer)
    rtp_end: Mapped[int | None] = mapped_column(Integer)
    trunks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"name", "lines"}]
    asterisk_up: Mapped[bool] = mapped_column(default=False)
    lines_free: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[list[str]] = mapped_column(JSON, default=list)  # operators' softphones registered here
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ClusterKey(Base):
    """A value every node must share, made by the first node that needs it (the inter-node trunks' secret)."""

    __tablename__ = "cluster_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
