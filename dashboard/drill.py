"""Drill-down: district -> AC -> mandal -> sector -> booth, each level with its coverage, calls, survey
answers and open tickets. Each unit's own figures come from :func:`directory.figures.unit_figures`; the
hierarchy is rolled up once in memory."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import NotFound
from directory.figures import UnitFigures, roll_up, unit_figures
from directory.units import UnitNode, UnitTree


class DrillError(NotFound):
    """No such unit."""


def _figures(f: UnitFigures) -> dict[str, Any]:
    """The figures the drill-down shows; a call counts as answered once picked up (even still on the line)."""
    return {"booths": f.booths, "committees": f.committees, "covered": f.covered,
            "coverage": round(f.covered / f.committees, 3) if f.committees else None,
            "attempts": f.attempts, "answered": f.picked_up,
            "answer_rate": round(f.picked_up / f.attempts, 3) if f.attempts else None,
            "answers": f.answers, "open_tickets": f.open_tickets}


def _describe(node: UnitNode) -> dict[str, Any]:
    return {"id": node.id, "kind": node.kind.value, "name": node.label}


def drill(session: Session, unit_id: int | None = None) -> dict[str, Any]:
    """The unit (None: the top of the hierarchy), its path from the top, its figures and survey answers,
    and each child's figures."""
    tree = UnitTree.load(session)
    if unit_id is not None and unit_id not in tree:
        raise DrillError(f"no unit {unit_id}")
    totals = roll_up(tree, unit_figures(session, tree, survey=True))
    here = totals.get(unit_id, UnitFigures())
    children = sorted(tree.children(unit_id), key=lambda n: (n.number if n.number is not None else 0, n.name))
    return {"unit": _describe(tree[unit_id]) if unit_id is not None else {"id": None, "kind": "all", "name": "All"},
            "path": [_describe(n) for n in reversed(tree.ancestors(unit_id))], "figures": _figures(here),
            "survey": [{"question": q, "answers": answers} for q, answers in sorted(here.survey.items())],
            "children": [{**_describe(c), **_figures(totals.get(c.id, UnitFigures()))} for c in children]}
