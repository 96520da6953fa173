"""A campaign's targets as a table to download (its page's filters applied): who, where, how far the
campaign got with them, and the answers they gave."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.campaigns import Attempt
from dialer.campaigns import get_campaign
from dialer.targets import TargetFilter, ac_names, answers_by_attempt, target_query, target_row
from reports.model import Cell, Report

TARGET_COLUMNS = ("target", "person", "name", "name_alt", "phone", "committee", "level", "booth", "booth_status",
                  "ac", "state", "tries", "last_outcome", "held_back", "answers")
BATCH = 2000


def targets_report(session: Session, campaign_ref: str, flt: TargetFilter | None = None) -> Report:
    """Every target the filter keeps, in id order, with the answers of all their calls (``question: value``)."""
    campaign = get_campaign(session, campaign_ref)
    flt = flt or TargetFilter()
    rows: list[list[Cell]] = []
    found = session.execute(target_query(campaign.id, flt)).all()
    for start in range(0, len(found), BATCH):
        batch = found[start:start + BATCH]
        names = ac_names(session, {r.ac_id for r in batch if r.ac_id})
        attempts = session.execute(select(Attempt.id, Attempt.target_id).where(
            Attempt.target_id.in_([r[0].id for r in batch]))).all()
        answers = answers_by_attempt(session, [a for a, _t in attempts])
        by_target: dict[int | None, list[str]] = {}
        for attempt_id, target_id in attempts:
            for a in answers.get(attempt_id, []):
                by_target.setdefault(target_id, []).append(f"{a['question']}: {a['value'] or a['key']}")
        for target, person, committee, booth, ac in batch:
            r = target_row(target, person, committee, booth, names.get(ac))
            rows.append([r["id"], r["person_id"], r["name"], r["name_alt"], r["phone"], r["committee"], r["level"],
                         r["booth"], r["booth_status"], r["ac"], r["state"], r["tries"], r["disposition"],
                         r["held_back"], "; ".join(by_target.get(target.id, []))])
    return Report(f"Targets of {campaign.name}", list(TARGET_COLUMNS), rows,
                  {"campaign": campaign.name, **flt.as_query()})
