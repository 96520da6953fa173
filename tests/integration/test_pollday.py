"""Poll day through real Asterisk, in one round: the plan's round calls each booth's agent (SIPp phones)
inside the 48-hour silence; an agent types 4, hears it read back, re-enters 412 + # and confirms, and the
board shows it (an open poll-day page in Chromium, within a second of the report); another reports
violence with a voice note (an urgent ticket); an agent who reports on the hotline (after their PIN) is not
called; booths that said nothing for two rounds raise an alert. Then a counting round: the AC's counting
agent is called and types two parties' votes for their table, each read back and confirmed, and the result
sheet adds them up."""

from __future__ import annotations

import asyncio
import time as clock
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import add_user
from audit.log import Actor
from db.campaigns import Attempt, Target, TargetState
from db.ivr import IvrAnswer, IvrRecording
from db.models import Committee, Membership, Person, Unit
from db.pollday import CountReport, PollAlert, PollReport, PollRound
from db.tickets import Ticket
from events.types import PollDayChanged
from hotline.pins import set_pin
from pollday.counting import CountingPlan, Party
from pollday.plan import PollDayPlan
from pollday.service import PollDayService
from sandbox.asterisk import Sandbox
from sandbox.caller import call_in
from sandbox.phonefarm import Behaviour
from tests.conftest import FarmFactory
from tests.integration.dashboard_app import serve_dashboard
from tests.integration.dialer_harness import start_harness, stop_harness
from tests.integration.ivr_harness import MEMBERS, booth_directory, seconds_until
from tests.integration.test_console_browser import CHROMIUM, FLAGS, need_chromium
from tests.waiting import until
from warroom.settings import IvrSettings, Settings

pytestmark = pytest.mark.integration
IST = ZoneInfo("Asia/Kolkata")
HOTLINE = "07552551234"
TODAY = datetime.now(IST).date()  # the harness's clock runs from today's 12:00 IST
PASSWORD = "Supervisor-pass-1"
# when each booth's row first showed its votes, by the browser's clock (the host's)
WATCH = """() => {
  window.__shown = {};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('tr[data-booth]')) {
      const votes = row.children[3].textContent, booth = row.dataset.booth;
      if (votes && !(booth in window.__shown)) window.__shown[booth] = [Date.now() / 1000, votes];
    }
  }).observe(document.getElementById('pd-groups'), {childList: true, subtree: true});
}"""

ROUND = """\
name: roundq
languages: [en, hi]
steps:
  - id: votes
    number: {en: "Votes so far? Then hash.", hi: "कितने वोट? फिर हैश।"}
    max: 2000
    timeout: 3
    confirm: {en: "You entered {{ entered }}. 1 to confirm, 2 to re-enter.", hi: "{{ entered }}। 1 या 2।"}
    on_fail: problem
  - id: problem
    ask: {en: "Any problem? 0 for none, 3 for violence.", hi: "समस्या? 0 या 3।"}
    keys: {"0": thanks, "1": note, "2": note, "3": note, "4": note, "5": note}
    values: {"0": none, "1": evm_vvpat, "2": agent_not_allowed, "3": violence_capture, "4": slow_queue,
             "5": poll_other}
    timeout: 2
    retries: 0
    on_fail: thanks
  - id: note
    record: {en: "After the beep, say what happened.", hi: "बीप के बाद बताइए।"}
    max_seconds: 8
    silence_seconds: 2
  - id: report
    ticket: {category: problem, note: note}
  - id: reported
    end: {en: "Sent as urgent.", hi: "भेज दिया।"}
  - id: thanks
    end: {en: "Thanks.", hi: "धन्यवाद।"}
"""


COUNTQ = """\
name: countq
languages: [en, hi]
fields: [round, parties, party1, party2]
steps:
  - id: p1
    number: {en: "{{ campaign.party1 }}?", hi: "{{ campaign.party1 }}?"}
    max: 2000
    timeout: 3
    confirm: {en: "{{ entered }}. 1 or 2.", hi: "{{ entered }}। 1 या 2।"}
    on_fail: bye
  - id: p2
    number: {en: "{{ campaign.party2 }}?", hi: "{{ campaign.party2 }}?"}
    max: 2000
    timeout: 3
    confirm: {en: "{{ entered }}. 1 or 2.", hi: "{{ entered }}। 1 या 2।"}
    on_fail: bye
  - id: bye
    end: {en: "Thanks.", hi: "धन्यवाद।"}
"""
PIN = "4719"
COUNTING_AGENT = "+919100000007"


def phone(name: str) -> str:
    return MEMBERS[name][0]


def directory(sessions: sessionmaker[Session]) -> dict[str, int]:
    """The IVR tests' booths (a president each) in AC 152, its poll closing at 18:00 today (so 12:00 is
    inside the silence period); Farhan is his booth's secretary, the plan's second post, with a hotline PIN;
    Gopal is the AC's counting agent at table 1."""
    ids = booth_directory(sessions)
    with sessions.begin() as s:
        s.execute(update(Unit).where(Unit.key == "ac:152").values(
            poll_end_at=datetime.combine(TODAY, time(18), tzinfo=IST).astimezone(UTC)))
        s.execute(update(Membership).where(Membership.person_id == ids["Farhan"]).values(post="secretary"))
        set_pin(s, ids["Farhan"], PIN, by="test", at=datetime.now(UTC))
        ids["ac"] = s.scalar(select(Unit.id).where(Unit.key == "ac:152")) or 0
        committee = Committee(unit_id=ids["ac"])
        gopal = Person(name="Gopal", phone=COUNTING_AGENT, language="en")
        s.add_all([committee, gopal])
        s.flush()
        s.add(Membership(person_id=gopal.id, committee_id=committee.id, post="Counting agent 1"))
        ids["Gopal"] = gopal.id
    return ids


async def test_a_round_reports_re_entry_problem_hotline_and_silent_booths(
        sandbox: Sandbox, settings: Settings, tmp_path: Path, phone_farm: FarmFactory) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "roundq.yaml").write_text(ROUND, encoding="utf-8")
    (folder / "countq.yaml").write_text(COUNTQ, encoding="utf-8")
    h = await start_harness(settings.model_copy(update={"ivr": IvrSettings(scripts_dir=folder)}), tmp_path, {},
                            ivr=True, directory=directory)
    base, stop = await serve_dashboard(h)
    from playwright.async_api import async_playwright, expect
    need_chromium()
    pw = await async_playwright().start()
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    try:
        assert h.ivr is not None and h.service.pollday is not None
        pollday: PollDayService = h.service.pollday
        ac = h.people["ac"]
        name = f"sup{uuid.uuid4().hex[:6]}"
        with h.sessions.begin() as s:
            add_user(s, name, "supervisor", PASSWORD, "Meera")
        reported: dict[int, float] = {}
        h.bus.subscribe(PollDayChanged, lambda e: reported.setdefault(e.booth_id, clock.time())
                        if e.what == "report" and e.booth_id else None)
        # the board is open (and live) before there is a plan: every report is seen arriving
        page = await browser.new_page()
        await page.goto(f"{base}/signin")
        await page.fill("#username", name)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_load_state()
        await page.goto(f"{base}/pollday/{ac}")
        await expect(page.locator("#pd-live")).to_have_text("live", timeout=10_000)
        await page.evaluate(WATCH)
        before_note = await seconds_until(h.ivr, h.sessions, h.people["Bina"], "roundq", "77#13")
        farm = phone_farm({
            # 4 is read back: 2 re-enters; 412 + # is read back: 1 confirms; then no problem (no key)
            phone("Asha"): Behaviour("answer", digits="4#2412#1", delay_ms=800, digit_gap_ms=300,
                                     hold_ms=25_000),
            # 77, confirmed; 3: violence or booth capture, then a voice note
            phone("Bina"): Behaviour("answer", digits="77#13", delay_ms=800, digit_gap_ms=300, hold_ms=30_000,
                                     voice_ms=int(before_note * 1000) + 1500),
            phone("Chetan"): Behaviour("busy"), phone("Deepak"): Behaviour("busy"), phone("Esha"): Behaviour("busy"),
            phone("Farhan"): Behaviour("answer", hold_ms=2000),
            # counting day: 30 # read back, 1; 40 # read back, 1 (the farm presses at most 8 keys a call)
            COUNTING_AGENT: Behaviour("answer", digits="30#140#1", delay_ms=800, digit_gap_ms=300, hold_ms=15_000),
        })
        await pollday.save_plan(PollDayPlan(ac_id=ac, poll_date=TODAY, report_times=(time(12), time(12, 30)),
                                            posts=("president", "secretary"), script="roundq",
                                            call_delay=timedelta(0)), Actor("test"))
        await until(lambda: _round(h.sessions) is not None, 10, "the round's campaign to start (ticker)")
        # Farhan (second post: called 15 minutes later) reports on the hotline meanwhile: 3, his PIN, the votes
        result = await asyncio.to_thread(call_in, "09826012345", service=HOTLINE,
                                         sip_port=settings.asterisk.sip_port, workdir=tmp_path / "caller",
                                         digits=f"3{PIN}#250#1", delay_ms=1000, gap_ms=700, hold_ms=15_000)
        assert result.exit_code == 0, result
        await until(lambda: _report(h.sessions, "Asha", h.people) is not None
                    and _report(h.sessions, "Bina", h.people) is not None, 40, "Asha's and Bina's reports")
        assert _report(h.sessions, "Asha", h.people) == (412, "call")
        assert _report(h.sessions, "Farhan", h.people) == (250, "hotline")
        board = await pollday.board(ac)
        strong = {b["id"]: b for b in board["groups"]["strong"]}
        asha = strong[h.people["booth:Asha"]]
        assert (asha["votes"], asha["turnout"], asha["reported_this_round"]) == (412, 45.7, True)
        booth = h.people["booth:Asha"]
        await until(lambda: _shown(page, booth), 5, "Asha's votes on the open board")
        shown_at, votes = (await page.evaluate("window.__shown"))[str(booth)]
        assert votes == "412" and shown_at - reported[booth] < 1.0, (shown_at, reported[booth])
        assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1  # pushed, no reload
        with h.sessions() as s:  # the wrong 4 was never stored; 412 is an integer answer
            assert [a.number for a in s.scalars(select(IvrAnswer).where(IvrAnswer.step == "votes",
                                                                         IvrAnswer.valid))].count(412) == 1
            farhan = s.scalar(select(Target).where(Target.person_id == h.people["Farhan"]))
            assert farhan is not None and farhan.state is TargetState.done
            assert s.scalars(select(Attempt).where(Attempt.person_id == h.people["Farhan"])).all() == []
        await until(lambda: _ticket(h.sessions) is not None, 40, "the urgent ticket with its voice note")
        ticket, note = _ticket(h.sessions) or (None, None)
        assert ticket is not None and ticket.category == "violence_capture"
        assert ticket.booth_id == h.people["booth:Bina"]
        assert note is not None and note.duration is not None and note.duration >= 2
        assert _report(h.sessions, "Bina", h.people) == (77, "call")
        assert phone("Farhan") not in {c.number for c in farm.calls()}, "Farhan reported: not called"
        # Deepak's phone was busy in round 1 and there was no round-2 report: after round 2 it is silent
        await until(lambda: any(c.number == phone("Deepak") for c in farm.calls()), 20, "Deepak's busy phone")
        await pollday.tick(datetime.combine(TODAY, time(18, 5), tzinfo=IST))
        with h.sessions() as s:
            silent = {a.booth_id for a in s.scalars(select(PollAlert).where(PollAlert.kind == "silent"))}
        assert h.people["booth:Deepak"] in silent
        assert not silent & {h.people[f"booth:{n}"] for n in ("Asha", "Bina", "Farhan")}
        # counting day, one round now: Gopal (table 1) types BJP's 30 and INC's 40, each confirmed
        began = clock.monotonic()
        now = pollday.clock().astimezone(IST)
        await pollday.save_counting_plan(CountingPlan(
            ac_id=ac, counting_date=TODAY, round_count=1, tables=1, parties=(Party("BJP"), Party("INC")),
            starts=(now - timedelta(minutes=5)).time().replace(second=0, microsecond=0), round_minutes=5,
            script="countq", call_delay=timedelta(0)), Actor("test"))
        await until(lambda: _counted(h.sessions) == {"BJP": 30, "INC": 40}, 30, "Gopal's table on the sheet")
        sheet = await pollday.counting_sheet(ac)
        assert sheet["rows"][0]["votes"] == [30, 40] and sheet["leader"] == "INC" and sheet["margin"] == 10
        assert sheet["rows"][0]["missing"] == [] and sheet["rows"][0]["tables"][0]["source"] == "call"
        print(f"counting round: {clock.monotonic() - began:.1f} s from the plan to the sheet")
    finally:
        await browser.close()  # its live stream ends with it, so the web server can stop
        await pw.stop()
        await stop()
        await stop_harness(h)


async def _shown(page: object, booth: int) -> bool:
    return str(booth) in await page.evaluate("window.__shown")  # type: ignore[attr-defined]


def _round(sessions: sessionmaker[Session]) -> int | None:
    with sessions() as s:
        return s.scalar(select(PollRound.campaign_id).where(PollRound.number == 1))


def _report(sessions: sessionmaker[Session], name: str, people: dict[str, int]) -> tuple[int, str] | None:
    with sessions() as s:
        r = s.scalar(select(PollReport).where(PollReport.booth_id == people[f"booth:{name}"],
                                              PollReport.votes.is_not(None)))
        return (r.votes, r.source) if r is not None and r.votes is not None else None


def _counted(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {r.party: r.votes for r in s.scalars(select(CountReport))}


def _ticket(sessions: sessionmaker[Session]) -> tuple[Ticket, IvrRecording | None] | None:
    with sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.recording_id.is_not(None)))
        return (t, s.get(IvrRecording, t.recording_id)) if t is not None else None



