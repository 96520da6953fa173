"""Voter outreach on the supervisors' dashboard: each outreach campaign not stopped with its progress, the
calls in flight, its ETA at its live pace, and what its answered calls came to (listens apart from the
carrier-announcement guard's silent or short answers, replies, opt-outs, to an operator); the newest voice
messages, playable; read with the board (its ``outreach`` part), at most every few seconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard.service import DashboardService
from db.engine import Database
from dialer.rules import CallingRules
from outreach import broadcast
from outreach.board import board
from outreach.service import OutreachConfig, OutreachService
from tests.unit.test_outreach_broadcast import NOON_IST, _campaign


@pytest.fixture
def outreach(database: Database, tmp_path: Path) -> OutreachService:
    return OutreachService(database, OutreachConfig(tmp_path / "dnd.bin", CallingRules(min_gap=timedelta(0))),
                           clock=lambda: NOON_IST)


async def _calls(outreach: OutreachService, database: Database, n: int) -> list[broadcast.Dial]:
    return await database.run(broadcast.plan_calls, "b", NOON_IST, outreach.config.rules, outreach.on_dnd, n, set())


async def test_the_board_shows_progress_eta_and_what_the_calls_came_to(
        outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    await _campaign(outreach, tmp_path, 10)
    await outreach.set_recording("b", "leader")
    calls = await _calls(outreach, database, 8)
    ended = ["listened", "listened", "listened", "guarded", "replied", "opted_out", "operator"]
    for call, result in zip(calls, ended, strict=False):  # the eighth call is still going
        await database.run(broadcast.settle, call.attempt_id, result, 1.0 if result == "guarded" else 30.0)
    info = await database.run(broadcast.call_info, calls[4].attempt_id)
    assert info is not None
    await database.run(broadcast.save_reply, info, "outreach/5-abc", NOON_IST + timedelta(seconds=40), 6.5)

    found = await database.run(board, NOON_IST, outreach.config.rules, 10)
    [c] = found["campaigns"]
    assert (c["name"], c["state"], c["list_size"], c["planned"], c["in_flight"], c["calls"]) == ("b", "running", 10,
                                                                                                   8, 1, 8)
    assert c["counts"] == {"listens": 3, "replies": 1, "opt_outs": 1, "operator": 1, "guarded": 1}
    assert c["remaining"] == 2 and c["per_line_hour"] > 0
    assert datetime.fromisoformat(c["finishes_at"]) > NOON_IST  # two contacts left on 10 lines: in seconds
    assert datetime.fromisoformat(c["finishes_at"]) < NOON_IST + timedelta(minutes=1)
    assert found["lines"] == 10
    [reply] = found["replies"]
    assert (reply["campaign"], reply["ac"], reply["booth"], reply["seconds"]) == ("b", 152, "4 School", 6.5)
    assert "phone" not in reply  # never the number


async def test_a_stopped_campaign_leaves_the_board_its_voice_messages_stay(
        outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    await _campaign(outreach, tmp_path, 2)
    await outreach.set_recording("b", "leader")
    [call] = await _calls(outreach, database, 1)
    info = await database.run(broadcast.call_info, call.attempt_id)
    assert info is not None
    await database.run(broadcast.save_reply, info, "outreach/1-abc", NOON_IST, 3.0)
    await outreach.set_state("b", "stopped")
    found = await outreach.board()
    assert found["campaigns"] == [] and len(found["replies"]) == 1


async def test_the_dashboard_reads_outreach_with_its_board_at_most_every_few_seconds(database: Database) -> None:
    reads: list[int] = []
    clock = [100.0]

    async def outreach_board() -> dict[str, Any]:
        reads.append(1)
        return {"campaigns": [], "replies": [], "lines": len(reads)}

    service = DashboardService(database, timezone="Asia/Kolkata", target_minutes=60, outreach=outreach_board,
                               outreach_every=5.0, monotonic=lambda: clock[0])
    first = await service.stored_figures()
    assert first["outreach"]["lines"] == 1 and "campaigns" in first and "operators" in first
    clock[0] += 4.9
    assert (await service.stored_figures())["outreach"]["lines"] == 1  # the same read, 4.9 s later
    clock[0] += 0.1
    assert (await service.stored_figures())["outreach"]["lines"] == 2
    without = DashboardService(database, timezone="Asia/Kolkata", target_minutes=60)
    assert "outreach" not in await without.stored_figures()  # no outreach in this service: no section


async def test_no_lines_no_eta(outreach: OutreachService, database: Database, tmp_path: Path) -> None:
    await _campaign(outreach, tmp_path, 3)
    [c] = (await database.run(board, NOON_IST, outreach.config.rules, 0))["campaigns"]
    assert c["finishes_at"] is None and c["remaining"] == 3 and c["calls"] == 0 and c["in_flight"] == 0
