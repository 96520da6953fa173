"""Typed events from Asterisk, as the adapters (``adapters/ami.py``, ``adapters/ari.py``) publish them.

Nothing above the adapters sees an AMI header, an ARI JSON body or a protocol literal: the adapters turn
``Newstate`` with ``ChannelState: 6`` into ``ChannelStateChanged(state=ChannelState.UP)``, ARI's
``ChannelDtmfReceived`` into ``DtmfReceived(digit="5")``, and so on. Every event about one channel
carries the ``channel_id`` (AMI's Uniqueid, ARI's channel id: the same id, chosen by us for the calls we
originate). Call handlers route them by class name (``on_DtmfReceived``...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


class Link(enum.StrEnum):
    ami = "ami"
    ari = "ari"


class ChannelState(enum.IntEnum):
    """Asterisk's channel states (``AST_STATE_*``), as AMI's ``ChannelState`` header numbers them."""

    DOWN = 0
    RESERVED = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7
    DIALING_OFFHOOK = 8
    PRERING = 9
    UNKNOWN = 99

    @classmethod
    def parse(cls, value: object) -> ChannelState:
        """A state from a header (``"6"``) or ARI's word (``"Up"``); UNKNOWN for anything else."""
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            try:
                return cls(int(text))
            except ValueError:
                return cls.UNKNOWN
        return _ARI_STATES.get(text.lower(), cls.UNKNOWN)


_ARI_STATES = {"down": ChannelState.DOWN, "rsrved": ChannelState.RESERVED, "offhook": ChannelState.OFFHOOK,
               "dialing": ChannelState.DIALING, "ring": ChannelState.RING, "ringing": ChannelState.RINGING,
               "up": ChannelState.UP, "busy": ChannelState.BUSY, "dialing offhook": ChannelState.DIALING_OFFHOOK,
               "pre-ring": ChannelState.PRERING}


class OriginateReason(enum.IntEnum):
    """The ``Reason`` of an OriginateResponse: the last control frame Asterisk saw on the new channel."""

    FAILED = 0        # no channel (e.g. the endpoint does not exist)
    HANGUP = 1        # hung up before anything else
    RING = 2
    NO_ANSWER = 3     # AST_CONTROL_RINGING: rang until the Originate's timeout
    ANSWERED = 4
    BUSY = 5
    CONGESTION = 8


class HangupCause(enum.IntEnum):
    """Q.850 causes as Asterisk reports them (a SIP response maps to one of these)."""

    UNALLOCATED = 1              # 404, 604
    NO_ROUTE_DESTINATION = 3
    NORMAL_CLEARING = 16
    USER_BUSY = 17               # 486, 600
    NO_USER_RESPONSE = 18        # 408
    NO_ANSWER = 19               # 480 (no answer)
    SUBSCRIBER_ABSENT = 20       # 480
    CALL_REJECTED = 21           # 403, 603
    NUMBER_CHANGED = 22          # 410
    INVALID_NUMBER_FORMAT = 28   # 484
    NORMAL_UNSPECIFIED = 31
    NORMAL_CIRCUIT_CONGESTION = 34
    NETWORK_OUT_OF_ORDER = 38    # 502
    TEMPORARY_FAILURE = 41       # 500
    SWITCH_CONGESTION = 42       # 503
    REQUESTED_CHAN_UNAVAIL = 44
    RESOURCE_UNAVAIL = 47


# SoftHangupRequest's Cause when Asterisk itself is stopping (AST_SOFTHANGUP_SHUTDOWN)
SOFTHANGUP_SHUTDOWN = 4


@dataclass(frozen=True)
class LinkState:
    """A connection to Asterisk (AMI or ARI) came up or went down. Published at each change only; a
    reconnection is a down then an up, so a handler that reconciles on "up" runs once per reconnection."""

    link: str  # a Link value: "ami" | "ari"
    up: bool
    detail: str = ""
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class AsteriskEvent:
    """Base of every typed event from Asterisk (the dashboard refreshes its live figures on any)."""

    channel_id: str
    at: datetime = field(default_factory=_now, kw_only=True)


# -- AMI: the dialer's view of channels -------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelCreated(AsteriskEvent):
    """A channel appeared (``Newchannel``); ``channel`` is its name, e.g. ``PJSIP/lines-0000001a``."""

    channel: str = ""


@dataclass(frozen=True)
class ChannelStateChanged(AsteriskEvent):
    """A channel's state changed (``Newstate``): ringing, answered (``UP``)..."""

    channel: str = ""
    state: ChannelState = ChannelState.UNKNOWN


@dataclass(frozen=True)
class HungUp(AsteriskEvent):
    """A channel is gone (``Hangup``), with its Q.850 cause and, for our calls, the far end's SIP answer
    (``sip_status`` 486, ``sip_reason`` "Busy Here")."""

    channel: str = ""
    cause: int | None = None
    cause_text: str = ""
    sip_status: int | None = None
    sip_reason: str = ""


@dataclass(frozen=True)
class ShutdownHangup(AsteriskEvent):
    """Asterisk is stopping and hangs up this channel (``SoftHangupRequest`` with the shutdown cause)."""


@dataclass(frozen=True)
class OriginateResult:
    """Asterisk's verdict on one Originate we sent (the reply to our action, not a bus event)."""

    action_id: str
    channel_id: str
    success: bool
    reason: int  # an OriginateReason value (other values may appear)


@dataclass(frozen=True)
class LiveChannel:
    """A channel Asterisk has now (``CoreShowChannels``)."""

    channel_id: str
    channel: str
    state: ChannelState


@dataclass(frozen=True)
class SpyStarted(AsteriskEvent):
    """A ChanSpy leg (``channel_id``) started listening to ``spyee_id`` (``ChanSpyStart``), whose channel
    name is ``spyee_channel``."""

    spyee_id: str = ""
    spyee_channel: str = ""


# -- ARI: the Stasis application's calls ------------------------------------------------------------------
@dataclass(frozen=True)
class StasisEvent(AsteriskEvent):
    """Base of the events of channels in our Stasis application (from ARI)."""


@dataclass(frozen=True)
class StasisStarted(StasisEvent):
    """A channel entered our Stasis app with these arguments (the first one picks the handler)."""

    args: tuple[str, ...] = ()
    caller_number: str = ""
    channel: str = ""
    state: ChannelState = ChannelState.UNKNOWN


@dataclass(frozen=True)
class StasisEnded(StasisEvent):
    """A channel left our Stasis app."""


@dataclass(frozen=True)
class DtmfReceived(StasisEvent):
    """A key was pressed on the channel."""

    digit: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class TalkingStarted(StasisEvent):
    """The far end began to speak (Asterisk's talk detection, ``TALK_DETECT(set)`` on the channel)."""


@dataclass(frozen=True)
class PlaybackStarted(StasisEvent):
    """A playback began on the channel: ``media_uri`` is what it plays (``sound:/.../<prompt>``)."""

    playback_id: str = ""
    media_uri: str = ""


@dataclass(frozen=True)
class PlaybackFinished(StasisEvent):
    """A playback on the channel ended (played through, or stopped)."""

    playback_id: str = ""


@dataclass(frozen=True)
class RecordingFinished(StasisEvent):
    """A recording on the channel ended and was kept; durations in seconds when Asterisk gave them."""

    name: str = ""
    duration: float | None = None
    talking: float | None = None


@dataclass(frozen=True)
class RecordingFailed(StasisEvent):
    name: str = ""
    cause: str = ""


@dataclass(frozen=True)
class HangupRequested(StasisEvent):
    """Someone asked to hang the channel up (``ChannelHangupRequest``)."""

    cause: int | None = None


@dataclass(frozen=True)
class ChannelDestroyed(StasisEvent):
    """The channel is gone (ARI's ``ChannelDestroyed``)."""

    cause: int | None = None
    cause_text: str = ""


# -- AMI: the PBX as a whole (trunks, security) --------------------------------------------------------------
@dataclass(frozen=True)
class PbxEvent:
    """Base of the events about the PBX rather than one channel."""

    at: datetime = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True)
class RegistrationChanged(PbxEvent):
    """An outbound registration (a trunk registering with its provider) changed (``Registry``): ``status``
    is ``Registered``, ``Unregistered`` or ``Rejected`` (refused, or no answer, then retried)."""

    client_uri: str = ""
    server_uri: str = ""
    status: str = ""
    cause: str = ""


@dataclass(frozen=True)
class ContactChanged(PbxEvent):
    """A contact's reachability changed (``ContactStatus``): ``Reachable``, ``Unreachable`` (no answer to
    SIP OPTIONS), ``Created``, ``Removed``, ``Updated``, ``Unknown``..."""

    aor: str = ""
    endpoint: str = ""
    uri: str = ""
    status: str = ""
    rtt_usec: int | None = None


# security events that count as a failed attempt to get in (InvalidAccountID: no such user; ...)
AUTH_FAILURES = frozenset({"InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword",
                           "RequestNotAllowed", "AuthMethodNotAllowed", "InvalidTransport"})


@dataclass(frozen=True)
class SecurityFailure(PbxEvent):
    """Someone failed to get in (AMI ``security`` class): ``kind`` is the event (``InvalidPassword``,
    ``ChallengeResponseFailed``, ``InvalidAccountID``...), ``address`` where it came from."""

    kind: str = ""
    service: str = ""
    address: str = ""
    port: int | None = None
    account: str = ""
