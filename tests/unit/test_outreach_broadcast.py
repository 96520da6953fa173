"""Broadcast calls apart from Asterisk: the outcome of an answered call (the carrier-announcement guard), the
broadcast dialer on a fake AMI (never more calls than its lines, every attempt written with its caller ID and
registration category, an opted-out number never dialled, unanswered calls settled), replies and counts."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.ami import Originate
from ari_handlers.broadcast_call import BroadcastCall, BroadcastDeps
from audit.log import Actor
from core.errors import NotFound
from db.engine import Database
from db.outreach import OutreachAttempt
from dialer.endings import HANGUP_HANDLER
from dialer.rules import CallingRules
from events.asterisk import DtmfReceived, OriginateReason, OriginateResult, StasisEnded, StasisStarted
from ivr_scripts.actions import Prompt
from outreach import broadcast
from outreach.broadcast import Heard, outcome
from outreach.dialing import Broadcaster
from outreach.importer import ListImportOptions
from outreach.service import OutreachConfig, OutreachService

NOON_IST = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_outcome_guards_silent_and_short_calls() -> None:
    assert outcome(Heard(1.5, voice=True, keys="1")) == "guarded"      # gone within 2 s
    assert outcome(Heard(30.0)) == "guarded"                           # answered but silent: no voice, no key
    assert outcome(Heard(30.0, voice=True)) == "listened"
    assert outcome(Heard(12.0, keys="1")) == "listened"
    assert outcome(Heard(1.0, keys="9", opted_out=True)) == "opted_out"
    assert outcome(Heard(20.0, keys="2", replied=True, opted_out=False)) == "replied"
    assert outcome(Heard(20.0, keys="3", operator=True)) == "operator"
    assert broadcast.unanswered(OriginateReason.BUSY) == "busy"
    assert broadcast.unanswered(OriginateReason.NO_ANSWER) == "no_answer"
    assert broadcast.unanswered(99) == "failed"
    assert broadcast.unanswered(0, cause=17) == "busy"  # the far end's answer, from Asterisk's record
    assert broadcast.unanswered(0, cause=1) == "invalid_number"
    assert broadcast.unanswered(0, cause=34) == "congestion"


class FakeAmi:
    """Originates wait until the test lets them finish (``answer``), with the verdict it gives."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[Originate] = []
        self.verdicts: dict[str, asyncio.Future[OriginateResult]] = {}
        self.astdb: dict[str, str] = {}  # the hangup handler's records of how calls ended

    async def db_get(self, family: str, key: str) -> str | None:
        return self.astdb.get(f"{family}/{key}")

    async def originate(self, request: Originate, timeout: float) -> OriginateResult:
        self.sent.append(request)
        future: asyncio.Future[OriginateResult] = asyncio.get_running_loop().create_future()
        self.verdicts[request.channel_id] = future
        return await future

    def finish(self, request: Originate, success: bool, reason: int) -> None:
        self.verdicts[request.channel_id].set_result(OriginateResult(request.action_id, request.channel_id,
                                                                     success, reason))


@pytest.fixture
def outreach(database: Database, tmp_path: Path) -> OutreachService:
    return OutreachService(database, OutreachConfig(tmp_path / "dnd.bin", CallingRules(min_gap=timedelta(0))),
                           clock=lambda: NOON_IST)


async def _campaign(outreach: OutreachService, tmp_path: Path, numbers: int) -> None:
    path = tmp_path / "voters.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:  # noqa: ASYNC230 (a tiny file in a test)
        csv.writer(fh).writerows([["mobile", "name", "AC", "booth"]] + [
            [f"98260{i:05d}", f"P{i}", "152", f"{i} School"] for i in range(numbers)])
    await outreach.import_list(path, ListImportOptions("voters", default_consent="form"))
    await outreach.create_campaign("b", "voters", mcmc_ref="MCMC/1", caller_id="07554000000",
                                   trunk_category="140-series")
    await outreach.start_campaign("b")


def _attempts(database: Database) -> list[OutreachAttempt]:
    with database.sessions() as s:
        return list(s.scalars(select(OutreachAttempt).order_by(OutreachAttempt.id)))


async def test_broadcaster_keeps_to_its_lines_and_settles(outreach: OutreachService, database: Database,
                                                          tmp_path: Path) -> None:
    await _campaign(outreach, tmp_path, 4)
    await outreach.opt_out("9826000001", "keypad")
    ami = FakeAmi()
    dialer = Broadcaster(ami, database, outreach, lines=2, clock=lambda: NOON_IST)  # type: ignore[arg-type]
    assert await dialer.tick() == 0, "no recording: the campaign waits"
    await outreach.set_recording("b", "leader")
    full = Broadcaster(ami, database, outreach, lines=2, room=lambda trunk: 0)  # type: ignore[arg-type]
    assert await full.tick() == 0, "the dialer's line book says the trunk is full"
    assert await dialer.tick() == 2
    assert await dialer.tick() == 0, "both lines busy"
    await asyncio.sleep(0)
    assert [r.variables[0] for r in ami.sent] == [f"WARROOM_ATTEMPT={a.id}" for a in _attempts(database)]
    assert all((r.context, r.exten, r.caller_id) == ("warroom-dialer", "broadcast", "07554000000") and
               HANGUP_HANDLER in r.variables for r in ami.sent), "into the dialplan: its hangup handler runs"
    assert {(a.caller_id, a.trunk_category) for a in _attempts(database)} == {("07554000000", "140-series")}
    ami.finish(ami.sent[0], False, OriginateReason.BUSY)  # never answered: settled here, its line freed
    await asyncio.sleep(0.05)
    dialer.ended(_attempts(database)[1].id)               # the answered call left the Stasis app
    assert await dialer.tick() == 1, "one contact left (the other opted out)"
    await asyncio.sleep(0)
    phones = [a.phone for a in _attempts(database)]
    assert "+919826000001" not in phones and len(phones) == 3
    assert _attempts(database)[0].outcome == "busy"
    ami.astdb[f"warroom/{ami.sent[2].channel_id}"] = "0|1790000000.0|1"  # what the far end said: no such number
    ami.finish(ami.sent[2], False, 0)                                      # the OriginateResponse says only "failed"
    await asyncio.sleep(0.05)
    assert _attempts(database)[2].outcome == "invalid_number"
    await dialer.stop()


async def test_replies_counts_and_play(outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    await _campaign(outreach, tmp_path, 2)
    await outreach.set_recording("b", "leader")
    calls = await database.run(broadcast.plan_calls, "b", NOON_IST, outreach.config.rules, outreach.on_dnd, 5,
                               set())
    info = await database.run(broadcast.call_info, calls[0].attempt_id)
    assert info is not None and (info.recording, info.name, info.ac_no, info.booth) == ("leader", "P0", 152, "0 School")
    await database.run(broadcast.save_reply, info, "outreach/1-abc", NOON_IST, 4.0)
    await database.run(broadcast.settle, calls[0].attempt_id, "replied", 20.0)
    await database.run(broadcast.settle, calls[1].attempt_id, "guarded", 1.0)
    assert [(r["ac"], r["booth"]) for r in await outreach.replies()] == [(152, "0 School")]
    [found] = (await outreach.overview())["campaigns"]
    assert found["counts"] == {"listens": 0, "replies": 1, "opt_outs": 0, "operator": 0, "guarded": 1}
    with pytest.raises(NotFound):  # no recordings directory here: nothing to play
        await outreach.reply_to_play(1, Actor.system())


class FakeAri:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def request(self, method: str, path: str, **params: Any) -> Any:
        self.sent.append((method, path, params))

    def played(self) -> list[str]:
        return [p["media"] for m, path, p in self.sent if "/play/" in path]


class FakeMessages:
    async def render(self, recording: str, person_name: str, language: str, out: Path) -> dict[str, object]:
        return {"file": str(out)}


class FakePrompts:
    async def media(self, prompt: Prompt) -> str:
        return f"sound:{prompt.file or prompt.key}"


class FakeQueue:
    def __init__(self) -> None:
        self.entered: list[tuple[str, str]] = []
        self.left: list[str] = []

    async def enter(self, channel_id: str, **info: Any) -> None:
        self.entered.append((channel_id, info["note"]))

    async def gone(self, channel_id: str) -> None:
        self.left.append(channel_id)


@pytest.mark.parametrize(("keys", "expected"), [("1", "listened"), ("3", "operator"), ("9", "opted_out"),
                                                ("", "guarded")])
async def test_broadcast_call_keys(outreach: OutreachService, database: Database, tmp_path: Path,
                                   keys: str, expected: str) -> None:
    await _campaign(outreach, tmp_path, 1)
    await outreach.set_recording("b", "leader")
    [call] = await database.run(broadcast.plan_calls, "b", NOON_IST, outreach.config.rules, outreach.on_dnd, 1,
                                set())
    ari, queue, ended, opted = FakeAri(), FakeQueue(), [], []

    async def opt_out(phone: str) -> bool:
        opted.append(phone)
        return await outreach.opt_out(phone, "keypad")

    clock = [100.0]
    deps = BroadcastDeps(database, FakeMessages(), FakePrompts(), queue, opt_out, ended.append,  # type: ignore[arg-type]
                         tmp_path / "rendered", menu_wait=0.05, seconds=lambda: clock[0])
    handler = BroadcastCall(ari, "wrbc-1", [str(call.attempt_id)], deps)  # type: ignore[arg-type]
    await handler.handle(StasisStarted("wrbc-1", args=("broadcast", str(call.attempt_id))))
    message = f"sound:{tmp_path / 'rendered' / f'{call.attempt_id}.wav'}"
    assert ari.played() == [message]
    for key in keys:
        await handler.handle(DtmfReceived("wrbc-1", digit=key))
    if keys == "1":
        assert ari.played() == [message, message]
    if keys == "3":
        assert queue.entered == [("wrbc-1", "Broadcast call: P0, AC 152, booth 0 School")]
    clock[0] += 5  # five seconds after the answer: past the guard
    await handler.handle(StasisEnded("wrbc-1"))
    assert ended == [call.attempt_id]
    assert _attempts(database)[0].outcome == expected
    assert opted == (["+919826000000"] if keys == "9" else [])
    if keys == "9":
        assert (await outreach.scrub("b")) == {"opted_out": 1}
