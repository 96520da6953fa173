"""Listen in: a supervisor listens to, whispers to, or barges into an operator's live call.

Asterisk's ChanSpy does the audio. We originate a call to the supervisor's own phone (their browser phone when
it is registered, else their SIP softphone) and, once it is answered, it runs
``ChanSpy(<the operator's channel>,<options>)``:

- ``u``: the first argument is a full channel name, matched exactly (a bare prefix such as
  ``PJSIP/op-al`` would also match ``PJSIP/op-alice-...``); it also turns off building another channel
  name from the supervisor's keypad;
- ``q``: no beep and no channel name spoken to the supervisor;
- ``E``: the spy leg ends when the operator's channel hangs up (the call is over);
- ``S``: it ends too when there is nothing left to spy on (the call ended while the supervisor's phone rang);
- ``w`` whisper: the supervisor talks to the operator only; ``B`` barge: to both operator and caller.

The pure part (:func:`chanspy_options`, :func:`originate_request`) builds the AMI Originate; :class:`ListenIn`
checks who may listen to whom and sends it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy.orm import Session

from adapters.ami import AmiClient, AmiError, Originate
from adapters.ari import AriClient, AriError
from audit.log import Actor, record
from core.errors import Conflict, ServiceError
from db.engine import Database
from db.users import Role, User
from events.asterisk import OriginateReason
from operators.softphones import Softphones
from operators.webphones import endpoints

log = logging.getLogger(__name__)

SpyMode = Literal["listen", "whisper", "barge"]
MODES: tuple[str, ...] = get_args(SpyMode)
BASE_OPTIONS = "qESu"
MODE_OPTIONS: dict[str, str] = {"listen": "", "whisper": "w", "barge": "B"}
LABELS: dict[str, str] = {"listen": "Listen", "whisper": "Whisper", "barge": "Barge"}
SPY_PREFIX = "spy-"
# AMI is a line protocol: nothing from outside may carry a comma (ChanSpy's argument separator), a
# newline or a quote into the action
_CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.@:+-]{0,199}$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
REASONS: dict[int, str] = {OriginateReason.FAILED: "the call failed", OriginateReason.HANGUP: "it was hung up",
           OriginateReason.NO_ANSWER: "it rang out unanswered", OriginateReason.BUSY: "it was busy",
           OriginateReason.CONGESTION: "the network was congested"}
LISTENER_ROLES = (Role.supervisor, Role.admin)


class ListenError(Conflict, ValueError):
    """Listening in cannot start; the message says why (fit to show on the dashboard)."""


def chanspy_options(mode: str) -> str:
    """ChanSpy's options for a mode: ``qESu`` plus ``w`` (whisper) or ``B`` (barge)."""
    if mode not in MODE_OPTIONS:
        raise ListenError(f"unknown listen-in mode '{mode}' (one of {', '.join(MODES)})")
    return BASE_OPTIONS + MODE_OPTIONS[mode]


def originate_request(supervisor_endpoint: str, target_channel_name: str, mode: str, channel_id: str,
                      caller_name: str, *, ring_seconds: int = 20) -> Originate:
    """The AMI Originate that rings the supervisor's softphone and, once answered, spies on the target."""
    options = chanspy_options(mode)
    if not _TOKEN.match(supervisor_endpoint):
        raise ListenError(f"not a softphone endpoint: {supervisor_endpoint!r}")
    if not _CHANNEL.match(target_channel_name):
        raise ListenError(f"not a channel name: {target_channel_name!r}")
    if not _TOKEN.match(channel_id):
        raise ListenError(f"not a channel id: {channel_id!r}")
    if ring_seconds <= 0:
        raise ListenError("ring_seconds must be positive")
    name = " ".join(re.sub(r'["<>\\]', "", caller_name).split())[:60] or "operator"
    return Originate(channel=f"PJSIP/{supervisor_endpoint}", channel_id=channel_id, action_id=channel_id,
                     timeout=ring_seconds, caller_id=f'"{LABELS[mode]}: {name}" <{mode}>', application="ChanSpy",
                     data=f"{target_channel_name},{options}")


def originate_fields(supervisor_endpoint: str, target_channel_name: str, mode: str, channel_id: str,
                     caller_name: str, *, ring_seconds: int = 20) -> dict[str, str]:
    """:func:`originate_request` as the AMI action's fields."""
    return originate_request(supervisor_endpoint, target_channel_name, mode, channel_id, caller_name,
                             ring_seconds=ring_seconds).fields()


@dataclass(frozen=True)
class _People:
    supervisor: User | None
    operator: User | None


def _people(session: Session, supervisor_user_id: int, operator_user_id: int) -> _People:
    return _People(session.get(User, supervisor_user_id), session.get(User, operator_user_id))


class ListenIn:
    """Starts (and stops) a supervisor's listen-in on an operator's connected call.

    ``calls()`` gives {operator user id: the operator's live, connected agent channel id}
    (:meth:`ari_handlers.dispatch.Dispatcher.connected_calls`)."""

    def __init__(self, ami: AmiClient, ari: AriClient, db: Database, softphones: Softphones,
                 calls: Callable[[], dict[int, str]], *, ring_seconds: int = 20) -> None:
        self.ami, self.ari, self.db, self.softphones = ami, ari, db, softphones
        self.calls, self.ring_seconds = calls, ring_seconds

    async def start(self, supervisor_user_id: int, operator_user_id: int, mode: SpyMode) -> str:
        """Ring the supervisor's softphone; once answered it spies on the operator's call in ``mode``.
        Returns the spy channel's id (``spy-<hex>``) after the supervisor answered; raises
        :class:`ListenError` when it cannot start or the softphone does not answer."""
        chanspy_options(mode)  # an unknown mode fails before anything else
        if supervisor_user_id == operator_user_id:
            raise ListenError("a supervisor cannot listen in on their own call")
        people = await self.db.run(_people, supervisor_user_id, operator_user_id)
        supervisor, operator = people.supervisor, people.operator
        if supervisor is None or supervisor.disabled:
            raise ListenError(f"no such user {supervisor_user_id} (or disabled)")
        if supervisor.role not in LISTENER_ROLES:
            raise ListenError(f"{supervisor.username} is not a supervisor: only supervisors and admins listen in")
        if operator is None:
            raise ListenError(f"no such operator {operator_user_id}")
        agent = self.calls().get(operator_user_id)
        if agent is None:
            raise ListenError(f"{operator.display_name} is not on a connected call")
        endpoint = await self._phone_of(supervisor.username)
        if endpoint is None:
            raise ListenError(f"{supervisor.display_name} has no registered softphone ({supervisor.sip_username}) "
                              "or browser phone: register one to listen in")
        if not self.ami.up:
            raise ListenError(f"cannot listen in: the AMI link to Asterisk is down ({self.ami.detail})")
        target = await self._channel_name(agent, operator.display_name)
        channel_id = f"{SPY_PREFIX}{uuid.uuid4().hex}"
        request = originate_request(endpoint, target, mode, channel_id, operator.display_name,
                                    ring_seconds=self.ring_seconds)
        log.info("listen-in: %s rings %s to %s %s (operator %d), channel %s",
                 supervisor.username, endpoint, mode, target, operator_user_id, channel_id)
        try:
            result = await self.ami.originate(request, timeout=self.ring_seconds + 15)
        except AmiError as exc:
            log.warning("listen-in %s: originate failed: %s", channel_id, exc)
            raise ListenError(f"cannot listen in: {exc}") from exc
        if not result.success:
            why = REASONS.get(result.reason, f"reason {result.reason}")
            log.info("listen-in %s: %s's softphone did not answer (%s)", channel_id, endpoint, why)
            raise ListenError(f"{supervisor.display_name}'s softphone did not answer: {why}")
        log.info("listen-in %s: %s answered, %s %s", channel_id, endpoint, mode, target)
        return channel_id

    async def _phone_of(self, username: str) -> str | None:
        """The supervisor's phone to ring: their browser phone if registered, else their softphone."""
        for endpoint in endpoints(username):
            if await self.softphones.registered(endpoint):
                return endpoint
        return None

    async def stop(self, spy_channel_id: str) -> bool:
        """Hang up a spy leg this service started; False when it was already gone. Asterisk takes the
        hang-up at once but finishes it when the next audio frame passes on the operator's channel (Asterisk
        issue #978): at once on a live conversation, only at the call's end on a silent line."""
        if not spy_channel_id.startswith(SPY_PREFIX) or not _TOKEN.match(spy_channel_id):
            raise ListenError(f"not a listen-in channel: {spy_channel_id!r}")
        try:
            await self.ari.request("DELETE", f"/channels/{spy_channel_id}")
        except AriError as exc:
            if exc.status == 404:
                return False
            raise ListenError(f"cannot stop listening: {exc}") from exc
        log.info("listen-in %s: stopped", spy_channel_id)
        return True

    async def _channel_name(self, agent: str, operator_name: str) -> str:
        """The Asterisk name of the operator's leg (``PJSIP/op-asha-0000001a``), read from Asterisk."""
        try:
            info = await self.ari.request("GET", f"/channels/{agent}")
        except AriError as exc:
            if exc.status == 404:
                raise ListenError(f"{operator_name} is not on a connected call (it just ended)") from exc
            raise ListenError(f"cannot find {operator_name}'s call in Asterisk: {exc}") from exc
        name = info.get("name") if isinstance(info, dict) else None
        if not isinstance(name, str) or not name:
            raise ListenError(f"Asterisk did not say the name of {operator_name}'s channel")
        return name


Listen = Callable[[int, int, SpyMode], Awaitable[str]]


class AuditedListen:
    """Listening in, each request in the audit log (``listen.listen``, ``listen.whisper``, ``listen.barge``
    on ``operator:<id>``): refused ones too, with why."""

    def __init__(self, db: Database, listen: Listen) -> None:
        self.db, self.listen = db, listen

    async def __call__(self, supervisor_user_id: int, operator_user_id: int, mode: SpyMode, actor: Actor) -> str:
        action, target = f"listen.{mode}"[:60], f"operator:{operator_user_id}"
        try:
            channel = await self.listen(supervisor_user_id, operator_user_id, mode)
        except ServiceError as exc:
            why = exc.message[:200]
            await self.db.run(lambda s: record(s, actor, action, target, outcome="refused", detail={"reason": why}))
            raise
        await self.db.run(lambda s: record(s, actor, action, target, detail={"channel": channel}))
        return channel
