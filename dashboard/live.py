"""The live figures (from memory, not the database): what the dashboard's tiles, /api/live and /metrics show."""

from __future__ import annotations

from typing import Any

from ari_handlers.progressive import ProgressiveFigures


def live_figures(dialer: dict[str, Any], queue: dict[str, Any], ivr_calls: int, with_operators: int,
                 links: dict[str, bool], progressive: ProgressiveFigures | None) -> dict[str, Any]:
    """The dialer's snapshot (lines per trunk, calls dialing/ringing/answered, rates) with the callers
    waiting for operators, the calls in the IVR and with operators, the links and the progressive figures."""
    p = progressive or ProgressiveFigures()
    return {**dialer, "queue": queue, "ivr_calls": ivr_calls, "with_operators": with_operators, "links": links,
            "progressive": {"answered": p.answered, "connected": p.connected, "abandoned": p.abandoned,
                            "abandon_rate": round(p.abandon_rate, 3)}}
