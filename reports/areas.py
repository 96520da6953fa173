"""Figures per assembly constituency (AC): the directory's reach (booths, committees, committees with at
least two reachable contacts) and, in the period, calls, IVR answers and tickets from its booths.

Each unit's own figures come from :func:`directory.figures.unit_figures` and are added up per AC (a unit's
AC as :meth:`directory.units.UnitTree.ac_of` finds it), so committees of mandals and sectors count too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import UnitKind
from directory.figures import UnitFigures, unit_figures
from directory.units import UnitNode, UnitTree
from reports.model import Cell, Period, Report, rate

COLUMNS = ["ac", "name", "district", "booths", "committees", "covered", "coverage", "attempts", "answered",
           "answer_rate", "ivr_answers", "open_tickets", "resolved_tickets"]


def _row(tree: UnitTree, ac: UnitNode, f: UnitFigures) -> list[Cell]:
    district = tree.district_of(ac.id)
    return [ac.number, ac.name, district.name if district else "", f.booths, f.committees, f.covered,
            rate(f.covered, f.committees), f.attempts, f.answered, rate(f.answered, f.ended), f.answers,
            f.open_tickets, f.resolved_tickets]


def ac_report(session: Session, period: Period | None = None, campaign_id: int | None = None) -> Report:
    """One row per AC, by number. Calls, answers and tickets in the period (and of one campaign when
    given: tickets then count only when they came from one of its calls); the directory as it is now."""
    period = period or Period()
    tree = UnitTree.load(session)
    acs = {ac.id: UnitFigures() for ac in tree.of_kind(UnitKind.ac)}
    own = unit_figures(session, tree, start=period.start, end=period.end, campaign_id=campaign_id)
    for unit_id, figures in own.items():
        ac = tree.ac_of(unit_id)
        if ac is not None and ac.id in acs:
            acs[ac.id].add(figures)
    ordered = sorted(tree.of_kind(UnitKind.ac), key=lambda a: (a.number is None, a.number or 0, a.name))
    meta = period.as_meta() | {"campaign_id": campaign_id}
    return Report("Assembly constituencies", list(COLUMNS), [_row(tree, a, acs[a.id]) for a in ordered], meta)
