"""Listen in: ChanSpy's options per mode, the Originate it takes, and every reason a listen-in is refused
(with fakes for AMI, ARI and the softphones; the users in SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user
from adapters.ami import AmiClient, AmiError, Originate
from adapters.ari import AriClient, AriError
from ari_handlers.dispatch import Dispatcher, Offer
from db.engine import Database
from events.asterisk import OriginateResult
from operators.listen import ListenError, ListenIn, chanspy_options, originate_fields
from operators.softphones import Softphones

AGENT = "agent-0123abcd"
AGENT_NAME = "PJSIP/op-asha-0000001a"


def test_options_per_mode_are_quiet_exact_and_end_with_the_call() -> None:
    assert chanspy_options("listen") == "qESu"
    assert chanspy_options("whisper") == "qESuw"
    assert chanspy_options("barge") == "qESuB"
    with pytest.raises(ListenError, match="unknown listen-in mode 'spy' \\(one of listen, whisper, barge\\)"):
        chanspy_options("spy")


def test_originate_rings_the_supervisor_and_spies_on_the_exact_channel() -> None:
    fields = originate_fields("op-meera", AGENT_NAME, "whisper", "spy-42", 'Asha "A" <Devi>', ring_seconds=15)
    assert fields == {
        "Action": "Originate", "ActionID": "spy-42", "ChannelId": "spy-42", "Channel": "PJSIP/op-meera",
        "Application": "ChanSpy", "Data": "PJSIP/op-asha-0000001a,qESuw", "Async": "true", "Timeout": "15000",
        "CallerID": '"Whisper: Asha A Devi" <whisper>',
    }
    assert originate_fields("op-meera", AGENT_NAME, "listen", "spy-1", "Asha")["CallerID"] == '"Listen: Asha" <listen>'
    assert originate_fields("op-meera", AGENT_NAME, "barge", "spy-1", "")["Data"] == f"{AGENT_NAME},qESuB"


@pytest.mark.parametrize("endpoint,channel,channel_id", [
    ("op-meera\r\nAction: Hangup", AGENT_NAME, "spy-1"),     # no second action smuggled in
    ("op-meera", "PJSIP/op-asha-1,qB", "spy-1"),             # no options smuggled in after a comma
    ("op-meera", "", "spy-1"),
    ("op-meera", AGENT_NAME, "spy 1"),
])
def test_originate_refuses_what_is_not_a_plain_name(endpoint: str, channel: str, channel_id: str) -> None:
    with pytest.raises(ListenError, match="not a"):
        originate_fields(endpoint, channel, "listen", channel_id, "Asha")


def test_connected_calls_lists_only_bridged_operators() -> None:
    d = cast(Dispatcher, object.__new__(Dispatcher))
    d.offers = {"agent-a": Offer("caller-a", 7, connected=True), "agent-b": Offer("caller-b", 8)}
    assert d.connected_calls() == {7: "agent-a"}


# -- the service, with fakes -----------------------------------------------------------------------------
@dataclass
class FakeAmi:
    up: bool = True
    detail: str = "logged in"
    response: str = "Success"
    reason: str = "4"
    fail: AmiError | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def originate(self, request: Originate, timeout: float) -> OriginateResult:
        self.sent.append(request.fields())
        if self.fail is not None:
            raise self.fail
        return OriginateResult(request.action_id, request.channel_id, self.response == "Success", int(self.reason))


@dataclass
class FakeAri:
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    deleted: list[str] = field(default_factory=list)

    async def request(self, method: str, path: str, **params: Any) -> Any:
        if self.down:
            raise AriError(f"ARI {method} {path}: ConnectError")
        channel = path.removeprefix("/channels/")
        if channel not in self.channels:
            raise AriError(f"ARI {method} {path}: 404 Channel not found", 404)
        if method == "DELETE":
            self.deleted.append(channel)
            del self.channels[channel]
            return None
        return self.channels[channel]


@dataclass
class FakePhones:
    online: set[str] = field(default_factory=set)

    async def registered(self, endpoint: str) -> bool:
        return endpoint in self.online


@dataclass
class World:
    listen: ListenIn
    ami: FakeAmi
    ari: FakeAri
    phones: FakePhones
    calls: dict[int, str]
    supervisor: int
    operator: int
    idle_operator: int
    other_supervisor: int


@pytest.fixture
def world(session_factory: sessionmaker[Session], database: Database) -> World:
    with session_factory.begin() as s:
        sup = add_user(s, "meera", "supervisor", "Supervisor-pass-1", "Meera Joshi")
        op = add_user(s, "asha", "operator", "Operator-pass-1", "Asha Devi")
        idle = add_user(s, "ravi", "operator", "Operator-pass-1", "Ravi Kumar")
        other = add_user(s, "nikhil", "supervisor", "Supervisor-pass-1", "Nikhil Rao")
        ids = sup.id, op.id, idle.id, other.id
    ami, ari, phones = FakeAmi(), FakeAri({AGENT: {"id": AGENT, "name": AGENT_NAME}}), FakePhones({"op-meera"})
    calls = {ids[1]: AGENT}
    listen = ListenIn(cast(AmiClient, ami), cast(AriClient, ari), database,
                      cast(Softphones, phones),
                      lambda: dict(calls), ring_seconds=12)
    return World(listen, ami, ari, phones, calls, *ids)


async def test_start_originates_chanspy_on_the_operators_channel(world: World) -> None:
    channel_id = await world.listen.start(world.supervisor, world.operator, "barge")
    assert channel_id.startswith("spy-") and len(channel_id) == 4 + 32
    [sent] = world.ami.sent
    assert sent == originate_fields("op-meera", AGENT_NAME, "barge", channel_id, "Asha Devi", ring_seconds=12)
    assert sent["Data"] == "PJSIP/op-asha-0000001a,qESuB" and sent["CallerID"] == '"Barge: Asha Devi" <barge>'
    assert await world.listen.start(world.supervisor, world.operator, "listen") != channel_id  # a new leg each time


async def test_stop_hangs_up_only_spy_legs(world: World) -> None:
    world.ari.channels["spy-abc"] = {"id": "spy-abc", "name": "PJSIP/op-meera-00000002"}
    assert await world.listen.stop("spy-abc") is True
    assert world.ari.deleted == ["spy-abc"]
    assert await world.listen.stop("spy-abc") is False  # already gone
    with pytest.raises(ListenError, match="not a listen-in channel"):
        await world.listen.stop(AGENT)
    assert world.ari.deleted == ["spy-abc"]


@pytest.mark.parametrize("case,message", [
    ("unknown mode", "unknown listen-in mode 'eavesdrop'"),
    ("own call", "cannot listen in on their own call"),
    ("operator idle", "Ravi Kumar is not on a connected call"),
    ("not registered", "Nikhil Rao has no registered softphone \\(op-nikhil\\)"),
    ("operator as listener", "asha is not a supervisor"),
    ("no such supervisor", "no such user 9999"),
    ("ami down", "the AMI link to Asterisk is down \\(connection lost"),
    ("call just ended", "Asha Devi is not on a connected call \\(it just ended\\)"),
    ("ari down", "cannot find Asha Devi's call in Asterisk"),
    ("originate refused", "cannot listen in: Originate refused: Extension does not exist"),
    ("not answered", "Meera Joshi's softphone did not answer: it rang out unanswered"),
    ("busy", "Meera Joshi's softphone did not answer: it was busy"),
])
async def test_refusals_say_why_and_dial_nothing_they_should_not(world: World, case: str, message: str) -> None:
    supervisor, operator, mode = world.supervisor, world.operator, "listen"
    if case == "unknown mode":
        mode = "eavesdrop"
    elif case == "own call":
        operator = supervisor
    elif case == "operator idle":
        operator = world.idle_operator
    elif case == "not registered":
        supervisor = world.other_supervisor
    elif case == "operator as listener":
        supervisor, operator = world.operator, world.idle_operator
        world.calls[operator] = AGENT
    elif case == "no such supervisor":
        supervisor = 9999
    elif case == "ami down":
        world.ami.up, world.ami.detail = False, "connection lost: ConnectionResetError()"
    elif case == "call just ended":
        world.ari.channels.clear()
    elif case == "ari down":
        world.ari.down = True
    elif case == "originate refused":
        world.ami.fail = AmiError("Originate refused: Extension does not exist.")
    elif case == "not answered":
        world.ami.response, world.ami.reason = "Failure", "3"
    elif case == "busy":
        world.ami.response, world.ami.reason = "Failure", "5"
    with pytest.raises(ListenError, match=message) as raised:
        await world.listen.start(supervisor, operator, mode)  # type: ignore[arg-type]  # bad modes on purpose
    assert isinstance(raised.value, ValueError)
    originated = case in ("originate refused", "not answered", "busy")
    assert len(world.ami.sent) == (1 if originated else 0), world.ami.sent
