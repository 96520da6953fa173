"""A key pressed during a prompt: the prompt is stopped and the answer stored, the answer not waiting for
Asterisk's reply to the stop (under a burst of keys that reply takes ~100 ms)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, cast

from ari_handlers import ivr_store as store
from ari_handlers.ivr_call import IvrCall
from ari_handlers.ivr_deps import IvrDeps
from events.types import IvrAnswered
from ivr_scripts.actions import SaveAnswer, StartRecording, StopPlay


class SlowAri:
    """Answers every request once ``reply`` is set."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.reply = asyncio.Event()

    async def request(self, method: str, path: str, **params: Any) -> None:
        self.requests.append((method, path))
        await self.reply.wait()


class Db:
    def __init__(self) -> None:
        self.stored: list[tuple[Any, dict[str, Any]]] = []

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.stored.append((fn, kwargs))

    run_for_caller = run


NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # the service's clock, not the host's
PUBLISHED: list[object] = []


class Engine:
    state = "question@q1"


def a_call(db: Db | None = None) -> tuple[IvrCall, SlowAri, Db]:
    ari, db = SlowAri(), db or Db()
    nothing = cast(Any, None)
    deps = IvrDeps(ari=cast(Any, ari), db=cast(Any, db), library=nothing, prompts=nothing, queue=nothing,
                   tickets=nothing, clock=lambda: NOW, publish=PUBLISHED.append)
    call = IvrCall(cast(Any, ari), "ch-1", ["dialer", "3", "9"], deps, "outbound")
    call.engine, call.call_id, call.playback_id = cast(Any, Engine()), 41, "ch-1-p2"
    return call, ari, db


async def test_the_answer_is_stored_while_asterisk_stops_the_prompt() -> None:
    call, ari, db = a_call()
    pressed = time.monotonic()
    answer = SaveAnswer("q1", "Will you vote?", "1", "yes", True)
    await asyncio.wait_for(call._run([StopPlay(), answer], "key 1", received=pressed), 2)
    assert ari.requests == [("DELETE", "/playbacks/ch-1-p2")]
    assert [fn for fn, _kw in db.stored] == [store.save_answer]
    assert db.stored[0][1]["value"] == "yes" and db.stored[0][1]["at"] == NOW
    assert PUBLISHED[-1] == IvrAnswered(41, "q1", "yes", None, True, NOW)  # poll day files reports by this time
    assert len(call.deps.stats.answer_latency) == 1
    assert call.playback_id is None
    assert len(call.deps.stats.stop_latency) == 0  # Asterisk has not replied yet
    ari.reply.set()
    await call._tasks.drain()
    assert len(call.deps.stats.stop_latency) == 1


async def test_no_prompt_playing_nothing_to_stop() -> None:
    call, ari, db = a_call()
    call.playback_id = None
    await call._run([StopPlay()], "key 1")
    await call._tasks.drain()
    assert ari.requests == [] and db.stored == []


async def test_the_recording_starts_while_its_row_is_written_and_closes_after_it() -> None:
    """A busy database must not cost the member's first words: Asterisk is asked to record at once; the
    recording's row is in before it is closed."""
    row = asyncio.Event()
    written: list[str] = []

    class RowDb(Db):
        async def run_for_caller(self, fn: Any, *args: Any, **kwargs: Any) -> int:
            await row.wait()
            written.append(fn.__name__)
            return 7

        async def run(self, fn: Any, *args: Any, **kwargs: Any) -> None:
            written.append(fn.__name__)

    call, ari, _db = a_call(RowDb())
    ari.reply.set()
    call.engine = cast(Any, type("Recording", (), {"state": "recording@msg", "recorded": lambda self: []})())
    await asyncio.wait_for(call._record(StartRecording("msg", 30, 3, True)), 2)
    assert ari.requests and ari.requests[0][0] == "POST" and ari.requests[0][1] == "/channels/ch-1/record"
    assert written == [], "the row is still being written"
    name = call.recording
    assert name is not None
    over = asyncio.create_task(call._recording_over(name, "done", 5, 4))
    await asyncio.sleep(0.05)
    assert written == [] and not over.done(), "the recording is not closed before its row is in"
    row.set()
    await asyncio.wait_for(over, 2)
    assert written == ["recording_started", "recording_ended"]
    call._cancel_timer()
