"""AMI events -> typed events: one small function per event name (easy to test with recorded events)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from events.asterisk import (
    AUTH_FAILURES,
    SOFTHANGUP_SHUTDOWN,
    AsteriskEvent,
    ChannelCreated,
    ChannelState,
    ChannelStateChanged,
    ContactChanged,
    HungUp,
    PbxEvent,
    RegistrationChanged,
    SecurityFailure,
    ShutdownHangup,
    SpyStarted,
)

Headers = dict[str, str]
AmiEvent = AsteriskEvent | PbxEvent


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


def _registry(h: Headers) -> AmiEvent | None:
    if h.get("ChannelType", "PJSIP") != "PJSIP":
        return None
    return RegistrationChanged(client_uri=h.get("Username", ""), server_uri=h.get("Domain", ""),
                               status=h.get("Status", ""), cause=h.get("Cause", ""), at=event_time(h))


def _contact_status(h: Headers) -> AmiEvent:
    return ContactChanged(aor=h.get("AOR", ""), endpoint=h.get("EndpointName", ""), uri=h.get("URI", ""),
                          status=h.get("ContactStatus", ""), rtt_usec=_int(h.get("RoundtripUsec")),
                          at=event_time(h))


def remote_address(value: str) -> tuple[str, int | None]:
    """``IPV4/UDP/203.0.113.7/5060`` (a security event's RemoteAddress) -> ("203.0.113.7", 5060)."""
    parts = value.split("/")
    if len(parts) >= 3 and parts[0].upper() in ("IPV4", "IPV6"):
        return parts[2], _int(parts[3]) if len(parts) > 3 else None
    return "", None


def _security(kind: str) -> Callable[[Headers], AmiEvent | None]:
    def parse(h: Headers) -> AmiEvent | None:
        address, port = remote_address(h.get("RemoteAddress", ""))
        if not address:
            return None
        return SecurityFailure(kind=kind, service=h.get("Service", ""), address=address, port=port,
                               account=h.get("AccountID", "")[:80], at=event_time(h))
    return parse


PARSERS: dict[str, Callable[[Headers], AmiEvent | None]] = {
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "Hangup": _hangup,
    "SoftHangupRequest": _soft_hangup,
    "ChanSpyStart": _spy_start,
    "Registry": _registry,
    "ContactStatus": _contact_status,
    **{kind: _security(kind) for kind in sorted(AUTH_FAILURES)},
}


# every AMI event the service reads: the parsed ones, the Originate's ending (read with its action's reply) and
# FullyBooted (the link is up once Asterisk has booted); the AMI user's event filter lets only these through
# (config/asterisk/warroom_manager.conf.j2)
EVENTS_READ = frozenset(PARSERS) | {"OriginateResponse", "FullyBooted"}


def parse_event(name: str, headers: Headers) -> AmiEvent | None:
    """The typed event for an AMI event, or None for events the service does not use."""
    parser = PARSERS.get(name)
    return parser(headers) if parser is not None else None
