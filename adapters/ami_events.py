"""AMI events -> typed events: one small function per event name (easy to test with recorded events)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from events.asterisk import (
    SOFTHANGUP_SHUTDOWN,
    AsteriskEvent,
    ChannelCreated,
    ChannelState,
    ChannelStateChanged,
    HungUp,
    ShutdownHangup,
    SpyStarted,
)

Headers = dict[str, str]


def event_time(headers: Headers) -> datetime:
    """When an AMI event happened, from its Timestamp header (now if it has none or it is unreadable)."""
    ts = headers.get("Timestamp")
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else datetime.now(UTC)
    except (ValueError, OverflowError):
        return datetime.now(UTC)


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.lstrip("-").isdigit() else None


def _sip(h: Headers) -> tuple[int | None, str]:
    """The far end's SIP answer when the dialplan put it in ``WARROOM_SIP`` ("SIP 486 Busy Here")."""
    for item in h.get("ChanVariable", "").split(","):
        name, _, value = item.partition("=")
        if name.strip() == "WARROOM_SIP":
            tech, _, rest = value.strip().partition(" ")
            code, _, reason = rest.partition(" ")
            if tech.upper() == "SIP" and _int(code) is not None:
                return _int(code), reason.strip()[:80]
    return None, ""


def _newchannel(h: Headers) -> AsteriskEvent:
    return ChannelCreated(h.get("Uniqueid", ""), channel=h.get("Channel", ""), at=event_time(h))


def _newstate(h: Headers) -> AsteriskEvent:
    return ChannelStateChanged(h.get("Uniqueid", ""), channel=h.get("Channel", ""),
                               state=ChannelState.parse(h.get("ChannelState", "")), at=event_time(h))


def _hangup(h: Headers) -> AsteriskEvent:
    status, reason = _sip(h)
    return HungUp(h.get("Uniqueid", ""), channel=h.get("Channel", ""), cause=_int(h.get("Cause")),
                  cause_text=h.get("Cause-txt", ""), sip_status=status, sip_reason=reason, at=event_time(h))


def _soft_hangup(h: Headers) -> AsteriskEvent | None:
    if _int(h.get("Cause")) != SOFTHANGUP_SHUTDOWN:
        return None
    return ShutdownHangup(h.get("Uniqueid", ""), at=event_time(h))


def _spy_start(h: Headers) -> AsteriskEvent:
    return SpyStarted(h.get("SpyerUniqueid", ""), spyee_id=h.get("SpyeeUniqueid", ""),
                      spyee_channel=h.get("SpyeeChannel", ""), at=event_time(h))


PARSERS: dict[str, Callable[[Headers], AsteriskEvent | None]] = {
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "Hangup": _hangup,
    "SoftHangupRequest": _soft_hangup,
    "ChanSpyStart": _spy_start,
}


def parse_event(name: str, headers: Headers) -> AsteriskEvent | None:
    """The typed event for an AMI event, or None for events the service does not use."""
    parser = PARSERS.get(name)
    return parser(headers) if parser is not None else None
