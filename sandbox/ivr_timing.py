"""How long a call's prompts play before a point in its script, for simulated phones that must act at the
right moment (speak once the recording has begun, hang up mid-question). Timed from the very files the
call will play, for a phone that presses its keys as early as it can (each question cut short by its key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ari_handlers.ivr_store import wav_seconds
from ivr_scripts.actions import Action, CheckPin, OpenTicket, Play, StartRecording, WaitForKey
from ivr_scripts.engine import Engine
from ivr_scripts.model import Script
from speech.prompts import PromptStore

Until = Callable[[Action, Engine], bool]


def recording_starts(action: Action, _engine: Engine) -> bool:
    return isinstance(action, StartRecording)


def waiting_on(step: str) -> Until:
    """Stop when the call starts waiting for a key on ``step``."""
    return lambda action, engine: (isinstance(action, WaitForKey) and engine.step is not None
                                   and engine.step.id == step)


async def seconds_until(prompts: PromptStore, script: Script, language: str, context: dict[str, Any], keys: str,
                        until: Until = recording_starts) -> float:
    """Seconds of prompts before ``until`` holds when the phone presses ``keys``."""
    engine = Engine(script, language, context)
    pending = list(engine.start())
    todo = list(keys)
    total = 0.0
    while pending:
        action = pending.pop(0)
        if until(action, engine):
            return total
        if isinstance(action, Play) and action.barge_in and todo:
            pending = engine.digit(todo.pop(0))
        elif isinstance(action, Play):
            _uri, path = await prompts.made(action.prompt)
            total += float(wav_seconds(path) or 0)
            pending += engine.played()
        elif isinstance(action, WaitForKey):
            pending += engine.digit(todo.pop(0)) if todo else engine.timeout()
        elif isinstance(action, StartRecording):
            pending += engine.recorded()
        elif isinstance(action, OpenTicket):
            pending += engine.ticket_opened(1, action.category)
        elif isinstance(action, CheckPin):  # timed as a right PIN
            pending += engine.pin_checked(True)
    raise ValueError(f"script {script.name} with keys {keys!r} never gets there")
