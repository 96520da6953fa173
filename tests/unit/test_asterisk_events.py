"""The adapters turn Asterisk's traffic into typed events: recorded AMI headers and ARI bodies in, typed
events (with named constants, never literals) out; what the service does not use is dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters import ami_events, ari_events
from ari_handlers.app import stasis_start_of
from events.asterisk import (
    ChannelCreated,
    ChannelDestroyed,
    ChannelState,
    ChannelStateChanged,
    DtmfReceived,
    HangupCause,
    HungUp,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    ShutdownHangup,
    SpyStarted,
    StasisEnded,
    StasisStarted,
)

STAMP = "1764438417.123456"  # AMI's Timestamp header (timestampevents = yes)


def test_ami_channel_events() -> None:
    new = ami_events.parse_event("Newchannel", {"Channel": "PJSIP/lines-0000001a", "Uniqueid": "wr-1",
                                                "ChannelState": "0", "Timestamp": STAMP})
    assert new == ChannelCreated("wr-1", channel="PJSIP/lines-0000001a",
                                 at=datetime.fromtimestamp(float(STAMP), UTC))
    ringing = ami_events.parse_event("Newstate", {"Uniqueid": "wr-1", "ChannelState": "5"})
    up = ami_events.parse_event("Newstate", {"Uniqueid": "wr-1", "ChannelState": "6"})
    assert isinstance(ringing, ChannelStateChanged) and ringing.state is ChannelState.RINGING
    assert isinstance(up, ChannelStateChanged) and up.state is ChannelState.UP
    odd = ami_events.parse_event("Newstate", {"Uniqueid": "wr-1", "ChannelState": "x"})
    assert isinstance(odd, ChannelStateChanged) and odd.state is ChannelState.UNKNOWN


def test_ami_hangup_with_cause_and_sip_status() -> None:
    gone = ami_events.parse_event("Hangup", {"Uniqueid": "wr-2", "Channel": "PJSIP/lines-2", "Cause": "17",
                                             "Cause-txt": "User busy", "ChanVariable": "WARROOM_SIP=SIP 486 Busy Here"})
    assert isinstance(gone, HungUp)
    assert gone.cause == HangupCause.USER_BUSY and gone.cause_text == "User busy"
    assert (gone.sip_status, gone.sip_reason) == (486, "Busy Here")
    bare = ami_events.parse_event("Hangup", {"Uniqueid": "wr-3", "Cause": ""})
    assert isinstance(bare, HungUp) and bare.cause is None and bare.sip_status is None


def test_ami_shutdown_spy_and_unused_events() -> None:
    stopping = ami_events.parse_event("SoftHangupRequest", {"Uniqueid": "wr-4", "Cause": "4", "Timestamp": STAMP})
    assert stopping == ShutdownHangup("wr-4", at=datetime.fromtimestamp(float(STAMP), UTC))
    assert ami_events.parse_event("SoftHangupRequest", {"Uniqueid": "wr-4", "Cause": "1"}) is None
    spy = ami_events.parse_event("ChanSpyStart", {"SpyerUniqueid": "spy-1", "SpyeeUniqueid": "agent-1",
                                                  "SpyeeChannel": "PJSIP/op-asha-0000001a"})
    assert isinstance(spy, SpyStarted) and spy.channel_id == "spy-1" and spy.spyee_id == "agent-1"
    assert spy.spyee_channel == "PJSIP/op-asha-0000001a"
    assert ami_events.parse_event("VarSet", {"Uniqueid": "wr-1", "Variable": "X"}) is None
    assert ami_events.parse_event("Newstate", {"Uniqueid": "wr-1", "Timestamp": "not a time"}) is not None


def _ari(kind: str, **body: object) -> dict[str, object]:
    return {"type": kind, "timestamp": "2026-11-29T17:46:57.123+0000", "application": "warroom", **body}


def test_ari_stasis_events() -> None:
    channel = {"id": "wr-9", "name": "PJSIP/lines-00000009", "state": "Up",
               "caller": {"name": "", "number": "+919826012345"}}
    start = ari_events.parse_event(_ari("StasisStart", channel=channel, args=["dialer", "3", "41"]))
    assert start == StasisStarted("wr-9", args=("dialer", "3", "41"), caller_number="+919826012345",
                                  channel="PJSIP/lines-00000009", state=ChannelState.UP,
                                  at=datetime(2026, 11, 29, 17, 46, 57, 123000, tzinfo=UTC))
    key = ari_events.parse_event(_ari("ChannelDtmfReceived", channel=channel, digit="5", duration_ms=120))
    assert isinstance(key, DtmfReceived) and key.digit == "5" and key.duration_ms == 120
    played = ari_events.parse_event(_ari("PlaybackFinished", playback={"id": "wr-9-p1",
                                                                       "target_uri": "channel:wr-9"}))
    assert played is not None and played == PlaybackFinished("wr-9", playback_id="wr-9-p1", at=played.at)
    began = ari_events.parse_event(_ari("PlaybackStarted", playback={"id": "wr-9-p1", "target_uri": "channel:wr-9",
                                                                     "media_uri": "sound:/w/ab/abc"}))
    assert began is not None and began == PlaybackStarted("wr-9", playback_id="wr-9-p1", media_uri="sound:/w/ab/abc",
                                                           at=began.at)
    rec = ari_events.parse_event(_ari("RecordingFinished", recording={
        "name": "warroom/1-q", "target_uri": "channel:wr-9", "duration": 4, "talking_duration": 3}))
    assert isinstance(rec, RecordingFinished) and (rec.name, rec.duration, rec.talking) == ("warroom/1-q", 4.0, 3.0)
    gone = ari_events.parse_event(_ari("ChannelDestroyed", channel=channel, cause=16, cause_txt="Normal Clearing"))
    assert isinstance(gone, ChannelDestroyed) and gone.cause == HangupCause.NORMAL_CLEARING
    assert isinstance(ari_events.parse_event(_ari("StasisEnd", channel=channel)), StasisEnded)


def test_ari_events_without_a_channel_or_unused_are_dropped() -> None:
    assert ari_events.channel_of({"channel": {"id": "abc"}}) == "abc"
    assert ari_events.channel_of({"type": "ApplicationReplaced"}) is None
    assert ari_events.parse_event(_ari("ApplicationReplaced")) is None
    assert ari_events.parse_event(_ari("ChannelVarset", channel={"id": "x"}, variable="A")) is None
    assert ari_events.parse_event(["not", "an", "object"]) is None


def test_a_channel_that_missed_its_stasis_start_is_rebuilt_from_its_dialplan() -> None:
    channel = {"id": "wr-7", "name": "PJSIP/lines-7", "state": "Up", "caller": {"number": "+919100000001"},
               "dialplan": {"context": "warroom-dialer", "exten": "ivr", "priority": 2, "app_name": "Stasis",
                            "app_data": "warroom,dialer,3,41"}}
    start = stasis_start_of(channel, "warroom")
    assert start is not None and start.args == ("dialer", "3", "41") and start.channel_id == "wr-7"
    assert start.state is ChannelState.UP and start.caller_number == "+919100000001"
    assert stasis_start_of(channel, "other-app") is None
    assert stasis_start_of({**channel, "dialplan": {"app_name": "Dial", "app_data": "PJSIP/x"}}, "warroom") is None
    assert stasis_start_of({"id": "x"}, "warroom") is None
