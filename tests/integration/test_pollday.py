"""Poll day through real Asterisk: booth agents (SIPp phones) type numbers on the keypad, ended by #,
hear them read back and confirm (or re-enter); the numbers are stored as integers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db.ivr import IvrAnswer
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import FAST_RETRY, start_harness, stop_harness
from tests.integration.ivr_harness import MEMBERS, booth_directory, booths, calls
from tests.waiting import until
from warroom.settings import IvrSettings, Settings

pytestmark = pytest.mark.integration
GAP = 300

COUNT = """\
name: count
languages: [en, hi]
steps:
  - id: votes
    number: {en: "Votes so far? Then hash.", hi: "कितने वोट? फिर हैश।"}
    min: 0
    max: 2000
    timeout: 3
    confirm: {en: "You entered {{ entered }}. 1 to confirm, 2 to re-enter.", hi: "{{ entered }}। 1 या 2।"}
    on_fail: bye
  - id: bye
    end: {en: "Thanks.", hi: "धन्यवाद।"}
"""


def phone(name: str) -> str:
    return MEMBERS[name][0]


def numbers(h: object, call_id: int) -> list[tuple[str, int | None, bool]]:
    with h.sessions() as s:  # type: ignore[attr-defined]
        return [(a.step, a.number, a.valid) for a in
                s.scalars(select(IvrAnswer).where(IvrAnswer.call_id == call_id).order_by(IvrAnswer.id))]


async def test_a_number_typed_with_hash_is_read_back_confirmed_or_re_entered(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "count.yaml").write_text(COUNT, encoding="utf-8")
    settings = settings.model_copy(update={"ivr": IvrSettings(scripts_dir=folder)})
    h = await start_harness(settings, tmp_path, {}, ivr=True, directory=booth_directory)
    try:
        phone_farm({
            phone("Asha"): Behaviour("answer", digits="412#1", delay_ms=800, digit_gap_ms=GAP, hold_ms=20_000),
            # 41, read back: 2 re-enters; 7, read back: 1 confirms
            phone("Deepak"): Behaviour("answer", digits="41#27#1", delay_ms=800, digit_gap_ms=GAP,
                                       hold_ms=20_000),
        })
        cid = h.campaign("count", selection=booths(h, "Asha", "Deepak"), scripts={"strong": "count"},
                         retry=FAST_RETRY, use_alternate=False)
        await until(lambda: h.campaign_state(cid) == "completed", 60, "the campaign to complete")
        by_person = {c.person_id: c for c in calls(h)}
        asha, deepak = by_person[h.people["Asha"]], by_person[h.people["Deepak"]]
        assert numbers(h, asha.id) == [("votes", 412, True)]
        assert numbers(h, deepak.id) == [("votes", 7, True)]  # the wrong 41 was never stored
        assert asha.result is not None and asha.result.value == "completed"
        assert deepak.result is not None and deepak.result.value == "completed"
    finally:
        await stop_harness(h)
