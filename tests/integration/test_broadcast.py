"""Broadcast calls through the real Asterisk: an outreach campaign dials its list on the SIPp phone farm; each
answered call plays the person's own message (their name spliced before the leader's recording); key 2 leaves
a voice message for the leader, kept with the person's AC and booth; key 3 reaches an operator (a SIPp
softphone registered with its generated password); key 9 opts the number out, and no campaign calls it again."""

from __future__ import annotations

import asyncio
import csv
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.service import add_user
from audit.log import Actor
from db.operators import OperatorState
from db.outreach import OutreachAttempt, OutreachCampaign, OutreachReply
from events.types import OperatorCall
from operators.softphones import FILENAME
from operators.states import change
from outreach.importer import ListImportOptions
from outreach.recordings import length
from sandbox.asterisk import Sandbox
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.softphone import register
from tests.conftest import FarmFactory
from tests.integration.dialer_harness import Harness, start_harness, stop_harness
from tests.waiting import until
from warroom.compose_outreach import build_messages
from warroom.settings import Settings

pytestmark = pytest.mark.integration
REPLIER, LEAVER, ASKER = "+919100000021", "+919100000022", "+919100000023"


def outcomes(h: Harness, campaign: str) -> dict[str, str | None]:
    with h.sessions() as s:
        return {a.phone: a.outcome for a in s.scalars(
            select(OutreachAttempt).join(OutreachCampaign, OutreachCampaign.id == OutreachAttempt.campaign_id)
            .where(OutreachCampaign.name == campaign))}


def write_list(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["mobile", "name", "language", "AC", "booth"],
                                  [REPLIER, "Ramesh", "en", "1", "12 Primary School"],
                                  [LEAVER, "Sita", "en", "1", "13 Panchayat Bhawan"],
                                  [ASKER, "Mohan", "en", "1", "14 Community Hall"]])
    return path


async def operator(h: Harness, settings: Settings, tmp_path: Path) -> tuple[int, PhoneFarm]:
    """A ready operator whose softphone (SIPp) answers and hangs up after 3 s."""
    assert h.softphones is not None
    with h.sessions.begin() as s:
        user = add_user(s, f"bc{uuid.uuid4().hex[:5]}", "operator", "Operator-pass-1")
        user_id, endpoint, secret = user.id, user.sip_username, user.sip_secret
    assert await h.softphones.sync()
    port = settings.asterisk.farm_port + 11
    assert await asyncio.to_thread(register, endpoint, secret, sip_port=settings.asterisk.sip_port,
                                   workdir=tmp_path / "reg-op", local_port=port) == "registered"
    farm = PhoneFarm({endpoint: Behaviour("answer", hold_ms=3000)}, port=port, media_port=16300,
                     workdir=tmp_path / "softphone-op")
    farm.start()
    with h.sessions.begin() as s:
        change(s, user_id, OperatorState.ready)
    return user_id, farm


async def test_broadcast_plays_the_named_message_takes_a_reply_an_operator_call_and_an_opt_out(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    h = await start_harness(settings, tmp_path, {}, ivr=True, operators=True)
    operator_calls: list[OperatorCall] = []
    h.bus.subscribe(OperatorCall, operator_calls.append)
    softphone: PhoneFarm | None = None
    try:
        operator_id, softphone = await operator(h, settings, tmp_path)
        outreach = h.service.outreach
        assert outreach is not None
        voters, leader = write_list(tmp_path / "voters.csv"), tmp_path / "leader.wav"
        await outreach.import_list(voters, ListImportOptions("voters", default_consent="form"))
        await asyncio.to_thread(subprocess.run, ["sox", "-n", "-r", "8000", "-c", "1", str(leader), "synth", "2",
                                                 "sine", "440"], check=True)
        await build_messages(h.service.settings).add_recording(leader, "leader")

        farm = phone_farm({REPLIER: Behaviour("answer", digits="2", delay_ms=2500, hold_ms=16_000, voice_ms=3000),
                           LEAVER: Behaviour("answer", digits="9", delay_ms=2500, hold_ms=10_000),
                           ASKER: Behaviour("answer", digits="3", delay_ms=2500, hold_ms=12_000)})
        await outreach.create_campaign("first", "voters", mcmc_ref="MCMC/BPL/1", caller_id="+917552550000",
                                       trunk_category="transactional")
        await outreach.set_recording("first", "leader")
        await outreach.start_campaign("first")
        await until(lambda: outcomes(h, "first") == {REPLIER: "replied", LEAVER: "opted_out", ASKER: "operator"},
                    30, "a voice message from one, an opt-out from another, an operator for the third")
        assert [e.what for e in operator_calls if e.user_id == operator_id].count("connected") == 1, \
            "key 3 reached the operator's softphone"
        assert len(softphone.calls()) == 1

        rendered = h.service.settings.state_dir / "outreach" / "rendered"
        with h.sessions() as s:
            attempts = list(s.scalars(select(OutreachAttempt)))
            assert {(a.caller_id, a.trunk, a.trunk_category) for a in attempts} == {
                ("+917552550000", "lines", "transactional")}
            for a in attempts:  # the person's name spliced before the 2 s recording
                assert await length(rendered / f"{a.id}.wav") > 2.2
            for a in attempts:  # how each call ended, in Asterisk's own record (what a restart reconciles from)
                ending = await h.service.dialer.records.ending(f"wrbc-{a.id}")
                assert ending is not None and ending[0] is not None, a.phone
            [reply] = s.scalars(select(OutreachReply))
            assert (reply.ac_no, reply.booth) == (1, "12 Primary School")
        assert [r["booth"] for r in await outreach.replies()] == ["12 Primary School"]
        voice = await outreach.reply_to_play(reply.id, Actor.system())  # Asterisk's file, as the page plays it
        assert voice.stat().st_size > 8000
        [counted] = [c["counts"] for c in (await outreach.overview())["campaigns"]]
        assert (counted["replies"], counted["opt_outs"], counted["operator"]) == (1, 1, 1)

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
        if softphone is not None:
            softphone.stop()
        await stop_harness(h)
        (sandbox.host_path(sandbox.dirs().etc) / FILENAME).unlink(missing_ok=True)
