"""An IVR campaign's call is dialed once its prompts are made (the member's name in them), so the member
hears the first words as they answer; the details read for that serve the call too."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any, cast

from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.prepare import prepare_call, prepared_info
from db.engine import Database
from ivr_scripts.actions import Prompt
from ivr_scripts.library import ScriptLibrary
from tests.unit.test_dialer_unit import _world
from tests.waiting import until


class Prompts:
    """Makes prompts once ``go`` is set; remembers what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[Prompt] = []
        self.go = asyncio.Event()

    async def made(self, prompt: Prompt) -> tuple[str, Path]:
        self.asked.append(prompt)
        await self.go.wait()
        return "sound:x", Path("x.wav")


async def test_the_call_is_dialed_once_its_prompts_are_made(database: Database) -> None:
    prompts, nothing = Prompts(), cast(Any, None)
    deps = IvrDeps(ari=nothing, db=database, library=ScriptLibrary(), prompts=cast(Any, prompts), queue=nothing,
                   tickets=nothing)
    async with _world(database, ["+919826011111"], lines=2, prepare=functools.partial(prepare_call, deps)) as w:
        w.campaign()
        await until(lambda: len(prompts.asked) > 0, 5, "the call's prompts being made")
        await asyncio.sleep(0.2)
        assert w.ami.originated == [], "not dialed while its prompts are being made"
        assert any("p0" in p.text for p in prompts.asked), "the member's name is in the greeting"
        prompts.go.set()
        await until(lambda: len(w.ami.originated) == 1, 5, "dialed once the prompts are made")
        [attempt] = w.attempts()
        info = prepared_info(deps, attempt.id)
        assert info is not None and info.attempt_id == attempt.id and info.context["member"]["name"] == "p0"
        assert prepared_info(deps, attempt.id) is None, "taken by the call"


async def test_a_call_whose_preparation_fails_is_dialed_all_the_same(database: Database) -> None:
    async def broken(_attempt_id: int) -> None:
        raise RuntimeError("the synthesiser is missing")

    async with _world(database, ["+919826011112"], lines=2, prepare=broken) as w:
        w.campaign()
        await until(lambda: len(w.ami.originated) == 1, 5, "dialed")
