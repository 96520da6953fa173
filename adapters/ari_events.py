"""ARI events (JSON objects from the Stasis app's websocket) -> typed events, one function per type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from events.asterisk import (
    AsteriskEvent,
    ChannelDestroyed,
    ChannelState,
    DtmfReceived,
    HangupRequested,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFailed,
    RecordingFinished,
    StasisEnded,
    StasisStarted,
    TalkingStarted,
)

Body = dict[str, Any]


def event_time(body: Body) -> datetime:
    """ARI's ``timestamp`` (``2026-11-29T17:46:57.123+0000``), now if missing or unreadable."""
    try:
        return datetime.strptime(str(body["timestamp"]), "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)


def channel_of(body: Body) -> str | None:
    """The channel an event is about: its ``channel``, or the target of its playback or recording."""
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    for key in ("playback", "recording"):
        obj = body.get(key)
        target = obj.get("target_uri", "") if isinstance(obj, dict) else ""
        if isinstance(target, str) and target.startswith("channel:"):
            return target[len("channel:"):]
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _cause(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _stasis_start(cid: str, b: Body) -> AsteriskEvent:
    channel = b.get("channel") or {}
    caller = channel.get("caller") or {}
    return StasisStarted(cid, args=tuple(str(a) for a in b.get("args") or []),
                         caller_number=str(caller.get("number") or ""), channel=str(channel.get("name") or ""),
                         state=ChannelState.parse(channel.get("state", "")), at=event_time(b))


def _playback(b: Body) -> Body:
    playback = b.get("playback")
    return playback if isinstance(playback, dict) else {}


def _recording(b: Body) -> Body:
    rec = b.get("recording")
    return rec if isinstance(rec, dict) else {}


PARSERS: dict[str, Callable[[str, Body], AsteriskEvent]] = {
    "StasisStart": _stasis_start,
    "StasisEnd": lambda cid, b: StasisEnded(cid, at=event_time(b)),
    "ChannelDtmfReceived": lambda cid, b: DtmfReceived(cid, digit=str(b.get("digit", "")),
                                                       duration_ms=int(_number(b.get("duration_ms")) or 0),
                                                       at=event_time(b)),
    "ChannelTalkingStarted": lambda cid, b: TalkingStarted(cid, at=event_time(b)),
    "PlaybackStarted": lambda cid, b: PlaybackStarted(cid, playback_id=str(_playback(b).get("id", "")),
                                                      media_uri=str(_playback(b).get("media_uri", "")),
                                                      at=event_time(b)),
    "PlaybackFinished": lambda cid, b: PlaybackFinished(cid, playback_id=str((b.get("playback") or {}).get("id", "")),
                                                        at=event_time(b)),
    "RecordingFinished": lambda cid, b: RecordingFinished(cid, name=str(_recording(b).get("name", "")),
                                                          duration=_number(_recording(b).get("duration")),
                                                          talking=_number(_recording(b).get("talking_duration")),
                                                          at=event_time(b)),
    "RecordingFailed": lambda cid, b: RecordingFailed(cid, name=str(_recording(b).get("name", "")),
                                                      cause=str(_recording(b).get("cause", "")), at=event_time(b)),
    "ChannelHangupRequest": lambda cid, b: HangupRequested(cid, cause=_cause(b.get("cause")), at=event_time(b)),
    "ChannelDestroyed": lambda cid, b: ChannelDestroyed(cid, cause=_cause(b.get("cause")),
                                                        cause_text=str(b.get("cause_txt", "")), at=event_time(b)),
}


# the application's event filter asks Asterisk for these only (ChannelVarset and the like are not sent)
EVENTS_READ = frozenset(PARSERS)


def parse_event(body: Any) -> AsteriskEvent | None:
    """The typed event for an ARI event, or None for events the service does not use."""
    if not isinstance(body, dict):
        return None
    parser = PARSERS.get(str(body.get("type", "")))
    channel_id = channel_of(body)
    if parser is None or channel_id is None:
        return None
    return parser(channel_id, body)
