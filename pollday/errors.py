"""What the poll-day feature raises."""

from __future__ import annotations

from core.errors import Invalid


class PlanInvalid(Invalid):
    """A poll-day plan setting is wrong; the message names the setting and the problem."""
