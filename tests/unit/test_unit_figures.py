"""The figures per unit shared by the drill-down and the AC report, and their roll-up (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from dashboard.drill import drill
from db.campaigns import Attempt, AttemptState, Campaign, CampaignMode, Disposition, Target
from db.ivr import IvrAnswer, IvrCall
from db.models import Unit, UnitKind
from db.tickets import Ticket, TicketStatus
from directory.figures import UnitFigures, roll_up, unit_figures
from directory.units import UnitTree
from reports.areas import COLUMNS, ac_report
from reports.model import Period
from tests.directory_builder import build

DAY1, DAY2 = datetime(2024, 5, 10, 6, tzinfo=UTC), datetime(2024, 5, 11, 6, tzinfo=UTC)


def world(s: Session) -> dict[str, int]:
    """The builder's directory (booth 1 under-covered: its BLA is DND) and an empty AC 113. Campaign
    "ivr": booth 1 answered and busy on day 1; on day 2 booth 2's president on the line (answered, not
    ended) and the district president, whose target lost its committee but kept booth 2, answered.
    Campaign "ops": the mandal's president, no answer; the district president again, on no unit. Answers
    and tickets on both booths, and some on no booth."""
    d = build(s)
    d.units["ac:113"] = Unit(key="ac:113", kind=UnitKind.ac, name="Bhopal Dakshin", number=113,
                             parent_id=d.units["district:bhopal"].id)
    s.add(d.units["ac:113"])
    d.people["b1_bla"].dnd = True
    ivr, ops = Campaign(name="ivr", mode=CampaignMode.ivr), Campaign(name="ops", mode=CampaignMode.operator)
    s.add_all([ivr, ops])
    s.flush()
    n = 0

    def attempt(campaign: Campaign, who: str, committee: str | None, booth: str | None, at: datetime,
                disposition: Disposition | None, answered: bool) -> None:
        nonlocal n
        n += 1
        target = Target(campaign_id=campaign.id, person_id=d.people[who].id,
                        committee_id=d.committees[committee].id if committee else None,
                        booth_id=d.units[booth].id if booth else None)
        s.add(target)
        s.flush()
        s.add(Attempt(channel_id=f"ch{n}", action_id=f"a{n}", campaign_id=campaign.id, target_id=target.id,
                      person_id=target.person_id, phone=d.people[who].phone, trunk="lines",
                      state=AttemptState.ended if disposition else AttemptState.answered, disposition=disposition,
                      created_at=at, answered_at=at if answered else None))

    attempt(ivr, "b1_pres", "booth:112:1", "booth:112:1", DAY1, Disposition.answered, True)
    attempt(ivr, "b1_bla", "booth:112:1", "booth:112:1", DAY1, Disposition.busy, False)
    attempt(ivr, "b2_pres", "booth:112:2", "booth:112:2", DAY2, None, True)
    attempt(ivr, "dist_pres", None, "booth:112:2", DAY2, Disposition.answered, True)
    attempt(ops, "mandal_pres", "mandal:1", None, DAY2, Disposition.no_answer, False)
    attempt(ops, "dist_pres", None, None, DAY2, Disposition.answered, True)
    calls = []
    for i, booth in enumerate(("booth:112:1", None)):
        call = IvrCall(channel_id=f"ivr{i}", direction="outbound", campaign_id=ivr.id, script="strong",
                       language="hi", booth_id=d.units[booth].id if booth else None)
        s.add(call)
        s.flush()
        calls.append(call)
        for question, key, value, valid in (("Ready?", "1", "yes", True), ("Ready?", "9", None, False),
                                            ("Agents?", "2", None, True)):
            s.add(IvrAnswer(call_id=call.id, step="q", question=question, key=key, value=value, valid=valid,
                            at=DAY1))
    s.add_all([Ticket(booth_id=d.units["booth:112:1"].id, category="other", source="hotline", call_id=calls[0].id,
                      created_at=DAY1),
               Ticket(booth_id=d.units["booth:112:2"].id, category="other", source="operator",
                      status=TicketStatus.resolved, created_at=DAY2),
               Ticket(booth_id=d.units["booth:112:2"].id, category="other", source="operator",
                      status=TicketStatus.assigned, created_at=DAY2),
               Ticket(category="other", source="operator", created_at=DAY2)])
    s.flush()
    return {key: u.id for key, u in d.units.items()} | {"ivr": ivr.id, "ops": ops.id}


def counts(f: UnitFigures | None) -> tuple[int, ...]:
    """booths, committees, covered, attempts, ended, answered, picked up, answers, open, resolved."""
    f = f or UnitFigures()
    return (f.booths, f.committees, f.covered, f.attempts, f.ended, f.answered, f.picked_up, f.answers,
            f.open_tickets, f.resolved_tickets)


def test_each_unit_has_its_own_figures(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        tree = UnitTree.load(s)
        own = unit_figures(s, tree, survey=True)
        plain = unit_figures(s, tree)
    assert counts(own[ids["booth:112:1"]]) == (1, 1, 0, 2, 2, 1, 1, 2, 1, 0)
    assert counts(own[ids["booth:112:2"]]) == (1, 1, 1, 2, 1, 1, 2, 0, 1, 1)
    assert counts(own[ids["mandal:1"]]) == (0, 1, 0, 1, 1, 0, 0, 0, 0, 0)
    assert [counts(own[ids[k]]) for k in ("state:mp", "district:bhopal", "ac:112", "sector:1")] == \
        [(0, 1, 0, 0, 0, 0, 0, 0, 0, 0)] * 4
    assert ids["ac:113"] not in own, "no committee, no calls: no figures"
    assert own[ids["booth:112:1"]].survey == {"Ready?": {"yes": 1}, "Agents?": {"2": 1}}
    assert {u: counts(f) for u, f in plain.items()} == {u: counts(f) for u, f in own.items()}
    assert all(f.survey == {} for f in plain.values()), "the breakdown only on request"


def test_periods_and_campaigns_limit_calls_answers_and_tickets(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        tree = UnitTree.load(s)
        day2 = unit_figures(s, tree, start=DAY2)
        day1 = unit_figures(s, tree, end=DAY2)
        ops = unit_figures(s, tree, campaign_id=ids["ops"])
        ivr = unit_figures(s, tree, campaign_id=ids["ivr"])
    b1, b2, mandal = ids["booth:112:1"], ids["booth:112:2"], ids["mandal:1"]
    assert [counts(day2[u])[3:] for u in (b1, b2, mandal)] == [(0,) * 7, (2, 1, 1, 2, 0, 1, 1), (1, 1, 0, 0, 0, 0, 0)]
    assert [counts(day1[u])[3:] for u in (b1, b2, mandal)] == [(2, 2, 1, 1, 2, 1, 0), (0,) * 7, (0,) * 7]
    assert counts(day1[b1])[:3] == counts(day2[b1])[:3] == (1, 1, 0), "the directory as it is now"
    assert [counts(ops[u])[3:] for u in (b1, b2, mandal)] == [(0,) * 7, (0,) * 7, (1, 1, 0, 0, 0, 0, 0)]
    assert [counts(ivr[u])[3:] for u in (b1, b2)] == [(2, 2, 1, 1, 2, 1, 0), (2, 1, 1, 2, 0, 0, 0)], \
        "tickets of a campaign: those from its calls"


def test_roll_up_adds_each_unit_to_every_unit_above_it(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        tree = UnitTree.load(s)
        totals = roll_up(tree, unit_figures(s, tree, survey=True))
    assert counts(totals[None]) == (2, 7, 1, 5, 4, 2, 3, 2, 2, 1)
    assert counts(totals[ids["state:mp"]]) == counts(totals[None])
    assert counts(totals[ids["ac:112"]]) == (2, 5, 1, 5, 4, 2, 3, 2, 2, 1)
    assert counts(totals[ids["sector:1"]]) == (2, 3, 1, 4, 3, 2, 3, 2, 2, 1)
    assert ids["ac:113"] not in totals
    assert totals[None].survey == totals[ids["booth:112:1"]].survey == {"Ready?": {"yes": 1}, "Agents?": {"2": 1}}


def test_drill_down_and_ac_report_agree(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = world(s)
    with session_factory() as s:
        ac = drill(s, ids["ac:112"])["figures"]
        report = ac_report(s, Period(timezone="UTC"))
        later = ac_report(s, Period(since=DAY2.date(), timezone="UTC"))
    row = dict(zip(COLUMNS, report.rows[0], strict=True))
    shared = ("booths", "committees", "covered", "coverage", "attempts", "open_tickets")
    assert {k: row[k] for k in shared} == {k: ac[k] for k in shared} == \
        {"booths": 2, "committees": 5, "covered": 1, "coverage": 0.2, "attempts": 5, "open_tickets": 2}
    assert (row["ivr_answers"], ac["answers"]) == (2, 2)
    assert (row["answered"], row["answer_rate"], ac["answered"], ac["answer_rate"]) == (2, 0.5, 3, 0.6), \
        "the report counts calls ended answered; the drill-down also those still on the line"
    assert report.rows[1] == [113, "Bhopal Dakshin", "Bhopal", 0, 0, 0, None, 0, 0, None, 0, 0, 0]
    assert later.rows[0][7:] == [3, 1, 0.5, 0, 1, 1]
