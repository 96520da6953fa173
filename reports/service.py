"""Reports' one use case: build a report of a kind over a period, the same for ``warroom report`` and
``/api/reports``; exporting it (CSV, XLSX, a text table) is :mod:`reports.export`."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from sqlalchemy.orm import Session

from audit.log import Actor, record
from db.engine import Database
from dialer.campaigns import get_campaign
from dialer.targets import TargetFilter
from reports.areas import ac_report
from reports.calls import campaign_report, day_report
from reports.model import Period, Report, ReportError
from reports.operators import operator_report, shift_report
from reports.shifts import Shift
from reports.targets import targets_report

Kind = Literal["campaign", "day", "operator", "shift", "ac"]
KINDS: tuple[str, ...] = get_args(Kind)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
NOT_PER_CAMPAIGN = ("operator", "shift")


class ReportService:
    """Reports in ``timezone`` (local days and shifts) with the call center's ``shifts``, unless a request
    names others."""

    def __init__(self, db: Database, *, timezone: str, shifts: tuple[Shift, ...]) -> None:
        self.db, self.timezone, self.shifts = db, timezone, shifts

    async def build(self, kind: str, *, since: date | None = None, until: date | None = None,
                    campaign: str | None = None, timezone: str | None = None,
                    shifts: tuple[Shift, ...] | None = None, actor: Actor | None = None,
                    fmt: str = "json") -> Report:
        """The ``kind`` report (campaign, day, operator, shift or ac) for local days ``since`` .. ``until``
        (both included, either open), of one campaign (name or id) when given. With ``actor`` (a person
        takes the report away, as ``fmt``) the download is in the audit log."""
        if kind not in KINDS:
            raise ReportError(f"no report '{kind}': one of {', '.join(KINDS)}")
        for name, day in (("since", since), ("until", until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise ReportError(f"{name} ({day}) is outside {FIRST_DAY} .. {LAST_DAY}")
        if campaign and kind in NOT_PER_CAMPAIGN:
            raise ReportError(f"the {kind} report is not per campaign: leave out campaign")
        period = Period(since=since, until=until, timezone=timezone or self.timezone)
        chosen = self.shifts if shifts is None else shifts

        def work(session: Session) -> Report:
            report = _build(session, kind, period, campaign, chosen)
            if actor is not None:
                record(session, actor, "report.download", f"report:{kind}", detail={
                    "format": fmt, "since": str(since) if since else None, "until": str(until) if until else None,
                    "campaign": campaign, "rows": len(report.rows)})
            return report

        return await self.db.run(work)

    async def targets(self, campaign: str, flt: TargetFilter | None = None) -> Report:
        """A campaign's targets (its page's filters applied) with their progress and answers, to download."""
        return await self.db.run(targets_report, campaign, flt)


def _build(session: Session, kind: str, period: Period, campaign: str | None, shifts: tuple[Shift, ...]) -> Report:
    campaign_id = get_campaign(session, campaign.strip()).id if campaign else None
    if kind == "campaign":
        return campaign_report(session, period, campaign_id)
    if kind == "day":
        return day_report(session, period, campaign_id)
    if kind == "ac":
        return ac_report(session, period, campaign_id)
    if kind == "operator":
        return operator_report(session, period)
    return shift_report(session, shifts, period)
