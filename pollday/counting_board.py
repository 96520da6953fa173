"""The counting board, read from the database: an AC's round-wise result sheet (rows = rounds, columns =
the parties in the sheet's order, the round's total, running totals, the leader and the margin), the tables
not yet reported for each round, each round's tables for the drill-down (their figures, where from, their
checks), and the open alerts. Also the sheet as a report (CSV / XLSX)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.pollday import CountAlert, CountRound
from pollday.counting import booth_of, result_sheet
from pollday.counting_store import plan_for_ac, plan_of, returns
from reports.model import Report


def sheet(session: Session, ac_id: int, now: datetime) -> dict[str, Any]:
    """Everything the counting board shows for one AC at ``now``."""
    row = plan_for_ac(session, ac_id)
    plan = plan_of(row)
    keys = [p.key for p in plan.parties]
    rounds = plan.rounds()
    current = max((r.number for r in rounds if r.at <= now), default=0)
    started = {r.number: r.state for r in session.scalars(select(CountRound).where(CountRound.plan_id == row.id))}
    got, seen = returns(session, row.id)
    result = result_sheet(keys, plan.tables, plan.round_count, got)
    alerts: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    open_alerts = []
    for a in session.scalars(select(CountAlert).where(CountAlert.plan_id == row.id, CountAlert.state == "open")
                             .order_by(CountAlert.id)):
        item = {"id": a.id, "round": a.round, "table": a.table_no, "kind": a.kind, "message": a.message}
        alerts[(a.round, a.table_no)].append(item)
        open_alerts.append(item)
    by_table = {(g.round, g.table): g for g in got}
    out_rows = []
    for line, rnd in zip(result.rows, rounds, strict=True):
        tables = []
        for t in range(1, plan.tables + 1):
            ret = by_table.get((rnd.number, t))
            figures = dict(ret.votes) if ret else {}
            tables.append({"table": t, "booth": booth_of(rnd.number, t, plan.tables),
                           "votes": [figures.get(k) for k in keys], "total": sum(figures.values()) if ret else None,
                           "complete": t in line.reported, "source": seen.get((rnd.number, t), {}).get("source"),
                           "at": _iso(seen.get((rnd.number, t), {}).get("at")),
                           "alerts": alerts.get((rnd.number, t), [])})
        out_rows.append({"round": rnd.number, "label": rnd.label, "at": rnd.at.isoformat(),
                         "state": started.get(rnd.number) or ("due" if rnd.at <= now else "planned"),
                         "due": rnd.at <= now, "votes": list(line.votes), "total": line.total,
                         "cumulative": list(line.cumulative), "cumulative_total": line.cumulative_total,
                         "leader": line.leader, "margin": line.margin, "round_leader": line.round_leader,
                         "round_margin": line.round_margin, "reported": list(line.reported),
                         "partial": list(line.partial), "missing": list(line.missing), "tables": tables})
    return {"ac_id": ac_id, "counting_date": row.counting_date.isoformat(), "now": now.isoformat(),
            "round": current, "rounds": plan.round_count, "tables": plan.tables,
            "parties": [{"key": p.key, "name": p.name} for p in plan.parties], "rows": out_rows,
            "totals": list(result.totals), "total": result.total, "leader": result.leader, "margin": result.margin,
            "open_alerts": len(open_alerts), "alerts": open_alerts}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def sheet_report(data: dict[str, Any]) -> Report:
    """The result sheet as a report: a row per round (this round's votes per party, its total, the running
    totals, the leader and margin, the tables reported and missing), then the totals."""
    keys = [p["key"] for p in data["parties"]]
    columns = ["round", "time", *keys, "round_total", *[f"{k} (cumulative)" for k in keys], "cumulative_total",
               "leader", "margin", "tables_reported", "tables_missing", "tables_partial"]
    rows: list[list[Any]] = []
    for r in data["rows"]:
        rows.append([r["round"], r["label"], *r["votes"], r["total"], *r["cumulative"], r["cumulative_total"],
                     r["leader"] or ("tied" if r["cumulative_total"] else ""), r["margin"], len(r["reported"]),
                     " ".join(map(str, r["missing"])), " ".join(map(str, r["partial"]))])
    rows.append(["total", "", *data["totals"], data["total"], *data["totals"], data["total"],
                 data["leader"] or ("tied" if data["total"] else ""), data["margin"], "", "", ""])
    return Report(f"Counting AC {data['ac_id']} result sheet", columns, rows,
                  {"ac_id": data["ac_id"], "counting_date": data["counting_date"]})
