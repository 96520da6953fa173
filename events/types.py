"""Typed events the services publish for each other and for the screens (Asterisk's own events, typed by
the adapters, are in :mod:`events.asterisk`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CallHandled:
    """A call entered our Stasis app and a handler took it (at its StasisStart, or adopted after the ARI
    link came back): for a dialer call, the person hears its script or is put through."""

    channel_id: str
    kind: str  # the first Stasis argument: dialer, operator, hotline, agent...
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class ScreenPop:
    """A call is ringing an operator's softphone: what their console shows at once."""

    user_id: int
    channel_id: str          # the caller's channel
    details: dict[str, Any]  # who is calling: name, post, committee, booth, AC, masked phone, note...
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class OperatorCall:
    """An operator's call changed: ``ringing``, ``connected``, ``ended`` or ``missed``."""

    user_id: int
    channel_id: str
    what: str
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class OperatorStateChanged:
    """The system moved an operator (on a call, wrap-up, back to ready, paused after a missed call)."""

    user_id: int
    state: str
    reason: str | None = None
    channel_id: str | None = None
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class CallbackTaskChanged:
    """A call-back task was opened (an abandoned call), taken, given back or closed: the operators' consoles
    list the open ones again."""

    task_id: int
    state: str
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class TicketChanged:
    """A ticket was opened (hotline or console), assigned or resolved: the supervisors' board shows it."""

    ticket_id: int
    what: str  # "opened" | "assigned" | "resolved"
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class CampaignChanged:
    """A campaign was started, paused, resumed or stopped (from the dashboard, the API or the CLI)."""

    campaign_id: int
    state: str
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class AttemptChanged:
    """The dialer wrote an attempt: ``started`` (dialling) or ``ended`` (settled with its disposition)."""

    attempt_id: int
    campaign_id: int | None
    what: str
    disposition: str | None = None
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class NodeFigures:
    """Another node's live figures (lines, calls, queue), relayed to every process of the war room."""

    node: str
    figures: dict[str, Any]
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class IvrAnswered:
    """An IVR call stored an answer (a key, or a number step's confirmed number): poll day reads turnout
    reports from these as they come."""

    call_id: int
    step: str
    value: str | None
    number: int | None
    valid: bool
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class PollDayChanged:
    """A poll-day report, alert or round changed for ``ac_id``: the poll-day board reads it again (``count``:
    counting day's sheet changed)."""

    ac_id: int
    what: str   # "report" | "alert" | "round" | "count"
    booth_id: int | None = None
    at: datetime = field(default_factory=_now)
