#!/usr/bin/env python3
"""Benchmark predictive dialing through the sandbox Asterisk: 8 SIPp softphone operators, a phone farm.

The operators' softphones (:class:`sandbox.softphone.Softphone`) answer after 1-2 s and hang up after 20-40 s;
the people called answer 40% of the time (and stay until the operator hangs up), the rest ring out. An
operator campaign paced ``predictive`` (or ``progressive`` for the baseline) runs for ``--minutes``; then the
script prints the operators' occupancy (talk + wrap-up share of the time signed in, from their recorded
states), the abandon rate (from the attempts) and, from Asterisk's CDR, the answered campaign calls and the
operators' talk share.

    PYTHONPATH=. .venv/bin/python scripts/bench_predictive.py                 # 15 minutes, predictive, 3% cap
    PYTHONPATH=. .venv/bin/python scripts/bench_predictive.py --minutes 2 --pacing progressive

Needs root (the sandbox runs Asterisk in a chroot) and SIPp; uses its own node and ports (36xxx).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from accounts.service import add_user
from db import migrate
from db.campaigns import Attempt, Campaign, CampaignPacing
from db.models import Committee, Membership, Person, Unit, UnitKind
from db.operators import OperatorState
from dialer.campaigns import Selection, change_state, create_campaign, parse_retry
from operators.occupancy import occupancy
from operators.states import change
from sandbox.cdr import read_cdr
from sandbox.phonefarm import Behaviour, PhoneFarm
from sandbox.softphone import Softphone
from sandbox.traffic import per_channel
from warroom.compose import build_sandbox, build_service
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets

PORTS = {"ami_port": 36038, "http_port": 36088, "sip_port": 36060, "rtp_start": 16000, "rtp_end": 17999,
         "farm_port": 36070, "agi_port": 36573}


def people(n: int, answer_rate: float, seed: int) -> dict[str, Behaviour]:
    rnd = random.Random(seed)
    return {f"+9197{i:08d}": Behaviour("answer", hold_ms=600_000) if rnd.random() < answer_rate
            else Behaviour("noanswer") for i in range(n)}


async def run(args: argparse.Namespace, settings: Settings, work: Path, log_dir: Path) -> dict[str, float]:
    settings = settings.model_copy(update={
        "dialer": settings.dialer.model_copy(update={"min_gap_minutes": 0, "ring_timeout": args.ring,
                                                     "poll_interval": 0.5, "predictive_min_operators": 2}),
        "http": settings.http.model_copy(update={"wrap_up_seconds": args.wrap})})
    base = datetime.now(ZoneInfo("Asia/Kolkata")).replace(hour=10, minute=0)
    start = time.monotonic()

    def clock() -> datetime:
        return (base + timedelta(seconds=time.monotonic() - start)).astimezone(UTC)

    numbers = people(args.targets, args.answer_rate, args.seed)
    farm = PhoneFarm(numbers, port=PORTS["farm_port"], media_port=36200, workdir=work / "farm",
                     max_calls=args.lines * 4)
    farm.start()
    service = build_service(settings, clock=clock)
    sessions = service.db.sessions
    migrate.upgrade(service.db.engine)
    phones: list[Softphone] = []
    try:
        with sessions.begin() as s:
            ac = Unit(key="ac:1", kind=UnitKind.ac, name="Bench AC", number=1)
            s.add(ac)
            s.flush()
            committee = Committee(unit_id=ac.id)
            s.add(committee)
            s.flush()
            for number in numbers:
                p = Person(name=number, phone=number)
                s.add(p)
                s.flush()
                s.add(Membership(person_id=p.id, committee_id=committee.id, post="member"))
            users = [add_user(s, f"bench{i}", "operator", "Operator-pass-1") for i in range(args.operators)]
            accounts = [(u.id, u.sip_username, u.sip_secret) for u in users]
        await service.start()
        assert await service.ami.wait_up(10) and await service.ari.wait_up(10), "Asterisk links did not come up"
        assert await service.softphones.sync()
        rnd = random.Random(args.seed)
        for i, (_uid, endpoint, secret) in enumerate(accounts):
            phone = Softphone(endpoint, secret or "", sip_port=PORTS["sip_port"], workdir=work / f"op{i}",
                              port=36100 + i, media_port=36400 + 10 * i, ring_ms=rnd.randint(1000, 2000),
                              hold_ms=rnd.randint(20_000, 40_000), every=60)
            state = phone.start()
            if state != "registered":
                raise SystemExit(f"operator {endpoint}: {state}")
            phones.append(phone)
        with sessions.begin() as s:
            for uid, _e, _s in accounts:
                change(s, uid, OperatorState.ready)
            c = create_campaign(s, name="bench", mode="operator", selection=Selection(),
                                retry=parse_retry(["no_answer=1/0", "busy=1/0", "congestion=1/0", "failed=1/0"]),
                                use_alternate=False)
            c.pacing = CampaignPacing(args.pacing)
            c.abandon_cap = args.cap
            s.flush()
            cid = c.id
            change_state(s, "bench", "start")
        began = clock()
        service.dialer.wake()
        deadline = time.monotonic() + args.minutes * 60
        predicting: datetime | None = None   # when predictive pacing first took over (thin data before)
        while time.monotonic() < deadline:
            await asyncio.sleep(5)
            last = service.dialer.pacing().get(cid, {})
            if predicting is None and last.get("running") == "predictive":
                predicting = clock()
            print(f"\r  {int(deadline - time.monotonic()):>5} s left: {last.get('running', '?')}, level "
                  f"{last.get('level', '-')}, abandon today {last.get('abandon_day', 0):.1%}   ", end="",
                  file=sys.stderr, flush=True)
        ended = clock()
        print(file=sys.stderr)
        with sessions.begin() as s:
            change_state(s, "bench", "stop")
        await asyncio.sleep(2)
        with sessions() as s:
            occ = occupancy(s, began, ended)
            occ_predicting = occupancy(s, predicting, ended) if predicting else {}
            answered = s.scalar(select(func.count()).where(Attempt.campaign_id == cid,
                                                           Attempt.answered_at.is_not(None))) or 0
            abandoned = s.scalar(select(func.count()).where(Attempt.campaign_id == cid,
                                                            Attempt.result == "abandoned")) or 0
            dialed = s.scalar(select(func.count()).where(Attempt.campaign_id == cid)) or 0
            channel_ids = set(s.scalars(select(Attempt.channel_id).where(Attempt.campaign_id == cid)))
            assert s.get(Campaign, cid) is not None
        records = read_cdr(log_dir)
        campaign_cdr = per_channel([r for r in records if r.uniqueid in channel_ids])
        answered_talk = sum(r.billsec for r in records if r.uniqueid in channel_ids)
        span = (ended - began).total_seconds()
        return {"dialed": dialed, "answered": answered, "abandoned": abandoned,
                "occupancy": occ["occupancy"] or 0.0, "wait": occ["wait_between_calls"] or 0.0,
                "predicting_after": (predicting - began).total_seconds() if predicting else -1.0,
                "occupancy_predicting": occ_predicting.get("occupancy") or 0.0,
                "wait_predicting": occ_predicting.get("wait_between_calls") or 0.0,
                "cdr_answered": sum(1 for _s, _e, a in campaign_cdr.values() if a),
                "cdr_talk_share": answered_talk / (span * args.operators) if span else 0.0, "span": span}
    finally:
        for phone in phones:
            phone.stop()
        farm.stop()
        await service.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15.0, help="how long the campaign runs")
    ap.add_argument("--pacing", choices=("predictive", "progressive"), default="predictive")
    ap.add_argument("--cap", type=float, default=0.03, help="abandon cap (0.03 is 3%%)")
    ap.add_argument("--operators", type=int, default=8)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--answer-rate", type=float, default=0.4)
    ap.add_argument("--ring", type=float, default=30.0, help="no answer after this many seconds")
    ap.add_argument("--wrap", type=float, default=10.0, help="operators' wrap-up seconds")
    ap.add_argument("--targets", type=int, default=None, help="people to call (default: enough for the run)")
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    args.targets = args.targets or max(200, int(60 * args.minutes * args.operators / 4))
    work = Path(tempfile.mkdtemp(prefix="bench-predictive-"))
    ast = AsteriskSettings(node="benchpred", trunks=[TrunkSettings(name="lines", lines=args.lines,
                                                                   port=PORTS["farm_port"])], **PORTS)
    settings = with_secrets(Settings(state_dir=work / "state", asterisk=ast,
                                     database_url=f"sqlite:///{work / 'bench.db'}"))
    box = build_sandbox(ast)
    box.down()
    box.up(timeout=90)
    log_dir = box.log_dir()
    for f in (log_dir / "cdr-custom").glob("*.csv"):
        f.unlink()
    try:
        r = asyncio.run(run(args, settings, work, log_dir))
    finally:
        box.down()
        shutil.rmtree(work, ignore_errors=True)
    rate = r["abandoned"] / r["answered"] if r["answered"] else 0.0
    print(f"{args.pacing} (cap {args.cap:.1%}), {args.operators} operators, {args.minutes:g} min, "
          f"{args.answer_rate:.0%} answer")
    print(f"occupancy {r['occupancy']:.3f} (talk + wrap-up of signed-in time), wait between calls {r['wait']:.1f} s")
    if r["predicting_after"] >= 0:
        print(f"predictive from {r['predicting_after']:.0f} s (progressive before: too few answers today): "
              f"occupancy since {r['occupancy_predicting']:.3f}, wait between calls {r['wait_predicting']:.1f} s")
    print(f"abandon rate {rate:.2%} ({r['abandoned']} of {r['answered']} answered, {r['dialed']} dialed)")
    print(f"Asterisk CDR: {r['cdr_answered']} campaign calls answered (calls still up at the end are not in it "
          f"yet); their answered time over the operators' time {r['cdr_talk_share']:.3f} of {r['span']:.0f} s")


if __name__ == "__main__":
    main()
