"""A simulated operator's desk for the demo: the operator's softphone endpoint applied to Asterisk, a SIPp
softphone that registers it and answers every call (``sandbox.softphone.Softphone``), and the operator
ready, so callers waiting for a person (hotline 0, unknown numbers, survey transfers) reach it."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from accounts.service import AccountError, get_user
from core.errors import Conflict
from db.engine import Database
from db.operators import OperatorState as S
from db.users import Role
from events.bus import EventBus
from operators.states import change, status_of
from sandbox.softphone import Softphone
from warroom.compose import build_ami, build_ari, build_softphones
from warroom.settings import Settings

SOFTPHONE_PORT = 30     # the softphone's SIP port: the phone farm's port + this (the hotline caller uses + 20)
SOFTPHONE_MEDIA = 1950  # its RTP port: the phone farm's port + this


class DeskError(Conflict):
    """The desk cannot be set up; the message says why and what to do."""


@dataclass(frozen=True)
class Desk:
    user_id: int
    username: str
    endpoint: str
    secret: str


def find_operator(session: Session, username: str) -> Desk:
    """The enabled operator ``username`` and their softphone account."""
    try:
        user = get_user(session, username)
    except AccountError:
        raise DeskError(f"no user '{username}': add one with "
                        f"`warroom users add {username} --role operator --generate-password`") from None
    if user.role is not Role.operator or user.disabled:
        raise DeskError(f"'{username}' is not an enabled operator")
    return Desk(user.id, user.username, user.sip_username, user.sip_secret)


async def apply_endpoints(settings: Settings, db: Database, endpoint: str,
                          timeout: float = 10.0) -> None:
    """Make Asterisk know the operators' endpoints now, as the service does every few seconds (the same
    file, so a service started later finds nothing to change)."""
    ast = settings.asterisk
    try:
        socket.create_connection((ast.host, ast.ami_port), timeout=2).close()
    except OSError as exc:
        raise DeskError(f"Asterisk's AMI at {ast.host}:{ast.ami_port} is not reachable ({exc}): "
                        "start it with `warroom asterisk up`") from None
    bus = EventBus()
    ami, ari = build_ami(settings.asterisk, bus), build_ari(settings.asterisk, bus)  # ARI: not used, not started
    await ami.start()
    try:
        if not await ami.wait_up(timeout):
            raise DeskError(f"Asterisk's AMI is not reachable ({ami.detail}): start it with `warroom asterisk up`")
        phones = build_softphones(settings, ami, ari, db)
        await phones.sync()
        if not await phones.configured(endpoint):
            raise DeskError(f"Asterisk has no endpoint {endpoint} after the reload: see its log")
    finally:
        await ami.close()
        await ari.close()


def softphone_for(settings: Settings, desk: Desk, *, hold_seconds: int, port: int | None = None) -> Softphone:
    """The desk's simulated softphone, on the sandbox's loopback ports beside the phone farm's."""
    farm = settings.asterisk.farm_port
    return Softphone(desk.endpoint, desk.secret, sip_port=settings.asterisk.sip_port,
                     workdir=settings.state_dir / "phones" / f"operator-{desk.username}",
                     port=port or farm + SOFTPHONE_PORT, media_port=farm + SOFTPHONE_MEDIA,
                     hold_ms=hold_seconds * 1000)


def pid_file(settings: Settings, username: str) -> Path:
    """Where ``warroom phones down`` finds the softphone to stop."""
    return settings.state_dir / "phones" / f"operator-{username}.pid"


def make_ready(session: Session, user_id: int) -> None:
    """Ready, from whatever state the desk was left in: its softphone has just started and registered, so no
    call is on it (a call or wrap-up still recorded was left by a service that stopped meanwhile)."""
    state = status_of(session, user_id).state
    if state is not S.ready:
        change(session, user_id, S.ready, by_system=state is S.on_call, registered=True)
