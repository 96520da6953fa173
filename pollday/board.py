"""The poll-day board, read from the database: per booth of an AC the latest turnout against the same
booth's last election, our supporters' share, whether it reported this round (and since when it has not),
open urgent tickets and open alerts; booths grouped strong / weak / swing. Also the CSV export of a round."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import BoothResult, Election, Unit, UnitKind
from db.pollday import PollAlert, PollReport, PollRound
from db.tickets import URGENT_CATEGORIES, Ticket, TicketStatus
from directory.units import booth_status_expr
from pollday.checks import turnout
from pollday.store import plan_for_ac, plan_of
from reports.model import Report

GROUPS = ("weak", "swing", "strong", "unknown")
EXPORT_COLUMNS = ("booth_number", "booth_name", "status", "voters", "round", "votes", "turnout_pct",
                  "last_election_turnout_pct", "ours", "ours_share_pct", "problem", "flags", "source", "reported_at")


def _pct(part: int | None, whole: int | None) -> float | None:
    return round(100.0 * part / whole, 1) if part is not None and whole else None


def board(session: Session, ac_id: int, now: datetime) -> dict[str, Any]:
    """Everything the board shows for one AC at ``now``."""
    row = plan_for_ac(session, ac_id)
    plan = plan_of(row)
    rounds = plan.rounds()
    current = max((r.number for r in rounds if r.at <= now), default=0)
    started = {r.number: r for r in session.scalars(select(PollRound).where(PollRound.plan_id == row.id))}
    booths = session.execute(select(Unit.id, Unit.number, Unit.name, Unit.voter_count,
                                    booth_status_expr().label("status"))
                             .where(Unit.ac_id == ac_id, Unit.kind == UnitKind.booth).order_by(Unit.number)).all()
    reports: dict[int, list[Any]] = defaultdict(list)  # plain rows, not ORM objects: 30,000 of them at 5,000 booths
    for rep in session.execute(select(PollReport.booth_id, PollReport.round, PollReport.votes, PollReport.ours,
                                      PollReport.problem, PollReport.at)
                               .where(PollReport.plan_id == row.id).order_by(PollReport.round)):
        reports[rep.booth_id].append(rep)
    flags: dict[int, list[dict[str, Any]]] = dict(session.execute(select(PollReport.booth_id, PollReport.flags).where(
        PollReport.plan_id == row.id, PollReport.round == current)).all())
    last = _last_election(session, ac_id)
    tickets = dict(session.execute(select(Ticket.booth_id, func.count()).join(Unit, Unit.id == Ticket.booth_id)
                                   .where(Unit.ac_id == ac_id, Ticket.category.in_(URGENT_CATEGORIES),
                                          Ticket.status != TicketStatus.resolved).group_by(Ticket.booth_id)).all())
    alerts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for a in session.scalars(select(PollAlert).where(PollAlert.plan_id == row.id, PollAlert.state == "open")
                             .order_by(PollAlert.id)):
        alerts[a.booth_id].append({"id": a.id, "kind": a.kind, "round": a.round, "message": a.message})
    groups: dict[str, list[dict[str, Any]]] = {g: [] for g in GROUPS}
    reported_now = 0
    for booth_id, number, name, voters, status in booths:
        got = [r for r in reports.get(booth_id, []) if r.votes is not None]
        latest = got[-1] if got else None
        this_round = any(r.round == current for r in got)
        reported_now += this_round
        item = {"id": booth_id, "number": number, "name": name, "voters": voters,
                "round": latest.round if latest else None, "votes": latest.votes if latest else None,
                "turnout": turnout(latest.votes, voters) if latest and latest.votes is not None else None,
                "last_turnout": last.get(booth_id),
                "ours": latest.ours if latest else None,
                "ours_share": _pct(latest.ours, latest.votes) if latest else None,
                "reported_this_round": this_round,
                "silent_since": None if this_round else (latest.at.isoformat() if latest else "start"),
                "problem": next((r.problem for r in reversed(reports.get(booth_id, [])) if r.problem), None),
                "flags": (flags.get(booth_id) or []) if this_round else [],
                "urgent_tickets": int(tickets.get(booth_id, 0)), "alerts": alerts.get(booth_id, [])}
        groups[str(status) if str(status) in groups else "unknown"].append(item)
    return {"ac_id": ac_id, "poll_date": row.poll_date.isoformat(), "now": now.isoformat(),
            "round": current, "rounds": [{"number": r.number, "label": r.label, "at": r.at.isoformat(),
                                          "state": started[r.number].state if r.number in started else
                                          ("due" if r.at <= now else "planned")} for r in rounds],
            "booths": len(booths), "reported": reported_now, "not_reported": len(booths) - reported_now,
            "open_alerts": sum(len(v) for v in alerts.values()),
            "urgent_tickets": int(sum(tickets.values())), "groups": groups}


def _last_election(session: Session, ac_id: int) -> dict[int, float | None]:
    """booth -> its turnout (%) in its newest election with results."""
    out: dict[int, float | None] = {}
    rows = session.execute(select(BoothResult.booth_id, BoothResult.votes_polled, BoothResult.electors)
                           .join(Election, Election.id == BoothResult.election_id)
                           .join(Unit, Unit.id == BoothResult.booth_id).where(Unit.ac_id == ac_id)
                           .order_by(BoothResult.booth_id, Election.year.desc(), Election.id.desc()))
    for booth_id, polled, electors in rows:
        if booth_id not in out:
            out[booth_id] = _pct(polled, electors)
    return out


def export_round(session: Session, ac_id: int, rnd: int) -> list[dict[str, Any]]:
    """One row per booth of the AC for round ``rnd`` (empty figures where it did not report)."""
    row = plan_for_ac(session, ac_id)
    last = _last_election(session, ac_id)
    got = {r.booth_id: r for r in session.scalars(select(PollReport).where(PollReport.plan_id == row.id,
                                                                           PollReport.round == rnd))}
    out = []
    for booth_id, number, name, voters, status in session.execute(
            select(Unit.id, Unit.number, Unit.name, Unit.voter_count, booth_status_expr())
            .where(Unit.ac_id == ac_id, Unit.kind == UnitKind.booth).order_by(Unit.number)):
        r = got.get(booth_id)
        out.append({"booth_number": number, "booth_name": name, "status": str(status or "unknown"),
                    "voters": voters, "round": rnd, "votes": r.votes if r else None,
                    "turnout_pct": turnout(r.votes, voters) if r and r.votes is not None else None,
                    "last_election_turnout_pct": last.get(booth_id), "ours": r.ours if r else None,
                    "ours_share_pct": _pct(r.ours, r.votes) if r else None, "problem": r.problem if r else None,
                    "flags": "; ".join(f["message"] for f in r.flags) if r else "",
                    "source": r.source if r else None, "reported_at": r.at.isoformat() if r else None})
    return out


def round_report(rows: list[dict[str, Any]], ac_id: int, rnd: int) -> Report:
    """The export as a report (CSV and XLSX through :mod:`reports.export`: formula-safe cells)."""
    return Report(f"Poll day AC {ac_id} round {rnd}", list(EXPORT_COLUMNS),
                  [[r.get(c) for c in EXPORT_COLUMNS] for r in rows], {"ac_id": ac_id, "round": rnd})
