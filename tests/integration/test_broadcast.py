"""Broadcast calls through the real Asterisk: an outreach campaign dials its list on the SIPp phone farm; each
answered call plays the person's own message (their name spliced before the leader's recording); key 2 leaves
a voice message for the leader, kept with the person's AC and booth; key 9 opts the number out, and no
campaign calls it again."""

from __future__ import annotations

import asyncio
import csv
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from audit.log import Actor
from db.outreach import OutreachAttempt, OutreachCampaign, OutreachReply
from outreach.importer import ListImportOptions
from outreach.recordings import length
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import Harness, start_harness, stop_harness
from tests.waiting import until
from warroom.compose_outreach import build_messages
from warroom.settings import Settings

pytestmark = pytest.mark.integration
REPLIER, LEAVER = "+919100000021", "+919100000022"


def outcomes(h: Harness, campaign: str) -> dict[str, str | None]:
    with h.sessions() as s:
        return {a.phone: a.outcome for a in s.scalars(
            select(OutreachAttempt).join(OutreachCampaign, OutreachCampaign.id == OutreachAttempt.campaign_id)
            .where(OutreachCampaign.name == campaign))}


def write_list(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["mobile", "name", "language", "AC", "booth"],
                                  [REPLIER, "Ramesh", "en", "1", "12 Primary School"],
                                  [LEAVER, "Sita", "en", "1", "13 Panchayat Bhawan"]])
    return path


async def test_broadcast_plays_the_named_message_takes_a_reply_and_an_opt_out(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True)
    try:
        outreach = h.service.outreach
        assert outreach is not None
        voters, leader = write_list(tmp_path / "voters.csv"), tmp_path / "leader.wav"
        await outreach.import_list(voters, ListImportOptions("voters", default_consent="form"))
        await asyncio.to_thread(subprocess.run, ["sox", "-n", "-r", "8000", "-c", "1", str(leader), "synth", "2",
                                                 "sine", "440"], check=True)
        await build_messages(h.service.settings).add_recording(leader, "leader")

        farm = phone_farm({REPLIER: Behaviour("answer", digits="2", delay_ms=2500, hold_ms=16_000, voice_ms=3000),
                           LEAVER: Behaviour("answer", digits="9", delay_ms=2500, hold_ms=10_000)})
        await outreach.create_campaign("first", "voters", mcmc_ref="MCMC/BPL/1", caller_id="+917552550000",
                                       trunk_category="transactional")
        await outreach.set_recording("first", "leader")
        await outreach.start_campaign("first")
        await until(lambda: outcomes(h, "first") == {REPLIER: "replied", LEAVER: "opted_out"}, 30,
                    "a voice message from one, an opt-out from the other")

        rendered = h.service.settings.state_dir / "outreach" / "rendered"
        with h.sessions() as s:
            attempts = list(s.scalars(select(OutreachAttempt)))
            assert {(a.caller_id, a.trunk, a.trunk_category) for a in attempts} == {
                ("+917552550000", "lines", "transactional")}
            for a in attempts:  # the person's name spliced before the 2 s recording
                assert await length(rendered / f"{a.id}.wav") > 2.2
            [reply] = s.scalars(select(OutreachReply))
            assert (reply.ac_no, reply.booth) == (1, "12 Primary School")
        assert [r["booth"] for r in await outreach.replies()] == ["12 Primary School"]
        voice = await outreach.reply_to_play(reply.id, Actor.system())  # Asterisk's file, as the page plays it
        assert voice.stat().st_size > 8000
        [counted] = [c["counts"] for c in (await outreach.overview())["campaigns"]]
        assert (counted["replies"], counted["opt_outs"]) == (1, 1)

        await outreach.create_campaign("second", "voters", mcmc_ref="MCMC/BPL/2", caller_id="+917552550000",
                                       trunk_category="transactional")
        await outreach.set_recording("second", "leader")
        await outreach.start_campaign("second")
        await until(lambda: REPLIER in outcomes(h, "second"), 15, "the second campaign calls the other number")
        await asyncio.sleep(1.5)  # proves a negative: the opted-out number is not dialled by the next passes
        assert LEAVER not in outcomes(h, "second")
        assert (await outreach.figures("second"))["scrubbed"] == {"opted_out": 1}
        assert sum(c.number.endswith(LEAVER[-10:]) for c in farm.calls()) == 1, "the opted-out phone rang once"
    finally:
        await stop_harness(h)
