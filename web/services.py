"""Everything the web routes call, in one place: the feature services and the live parts (figures from
memory, the pages' feeds, listening in). The composition builds it with :func:`web_services` and hands it to
:func:`web.app.create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from accounts.service import UserService
from ari_handlers.ivr_store import inbound_info
from audit.log import Actor
from audit.service import AuditService
from dashboard.feed import DashboardFeed
from dashboard.service import DashboardService
from db.engine import Database
from db.models import utcnow
from dialer.rules import CallingRules
from dialer.service import CampaignService, ScriptCheck, no_script_problems
from directory.service import DirectoryService
from directory.status import StatusRules
from events.bus import EventBus
from hotline.service import InstructionService, PinService
from ivr_scripts.library import ScriptLibrary
from ivr_scripts.service import MakePrompt, ScriptService
from operators.callback_service import CallbackService
from operators.listen import AuditedListen, Listen, SpyMode
from operators.pacing_service import PacingService
from operators.recordings import RecordingService
from operators.service import OperatorService, Registered, never_registered
from outreach.service import OutreachService
from pollday.service import PollDayService
from privacy.service import PrivacyService
from reports.service import ReportService
from reports.shifts import Shift
from tickets.service import TicketService
from web.console_feed import ConsoleFeed

ListenAs = Callable[[int, int, SpyMode, Actor], Awaitable[str]]
Transfer = Callable[[int, int], Awaitable[str]]
LiveFigures = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class PhoneServer:
    """Where browser phones connect: Asterisk's secure WebSocket (``url``, or ``wss://<the page's host>:
    <port>/ws``). ``enabled`` False: the pages offer no phone."""

    port: int = 8089
    url: str | None = None
    enabled: bool = True

    def ws_url(self, host: str) -> str:
        host = f"[{host}]" if ":" in host else host
        return self.url or f"wss://{host}:{self.port}/ws"

    def origin(self, host: str) -> str:
        """The WebSocket's origin, for a Content-Security-Policy's ``connect-src`` (the page's host given)."""
        scheme, rest = self.ws_url(host).split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"


@dataclass
class WebServices:
    """The services and live parts of the HTTP side.

    ``live_figures`` gives the figures kept in memory (lines, calls, queue); ``sip_server`` is where
    operators' softphones register (shown on the console); ``listen`` starts a supervisor's listen-in, in
    the audit log (None: not available in this service)."""

    campaigns: CampaignService
    tickets: TicketService
    operators: OperatorService
    dashboard: DashboardService
    reports: ReportService
    dashboard_feed: DashboardFeed
    console_feed: ConsoleFeed
    live_figures: LiveFigures
    sip_server: tuple[str, int]
    users: UserService
    audit: AuditService
    privacy: PrivacyService
    directory: DirectoryService
    instructions: InstructionService
    scripts: ScriptService
    pins: PinService
    recordings: RecordingService
    callbacks: CallbackService  # call-back tasks abandoned calls leave for operators
    listen: ListenAs | None = None
    phone_server: PhoneServer = PhoneServer(enabled=False)
    transfer: Transfer | None = None  # an operator hands their caller to a supervisor
    outreach: OutreachService | None = None  # voter outreach (None: not in this service)
    pacing: PacingService | None = None  # campaigns' pacing and the pacing board
    pollday: PollDayService | None = None  # poll day's board (None: not in this process)

    def start(self) -> None:
        """The pages' feeds start hearing the bus."""
        self.dashboard_feed.start()
        self.console_feed.start()

    def close(self) -> None:
        """The pages' feeds stop hearing the bus; no new directory import starts."""
        self.dashboard_feed.close()
        self.console_feed.close()
        self.directory.close()


@dataclass(frozen=True)
class PagesConfig:
    """What the supervisors' and admins' pages need beyond the database: the booths' status rules,
    ``verify_days`` of coverage, ``work_dir`` for directory imports' files, the script ``library`` (the one
    the IVR plays) and ``make_prompt`` (its prompts' sound files), the ``party``, the ``hotline`` script's
    name, and the ``clock`` the dialer keeps."""

    status_rules: StatusRules = StatusRules("PARTY")
    verify_days: int = 30
    work_dir: Path | None = None
    library: ScriptLibrary | None = None
    make_prompt: MakePrompt | None = None
    party: str = "PARTY"
    hotline: str = "hotline"
    clock: Callable[[], datetime] = utcnow


def web_services(db: Database, bus: EventBus, *, live_figures: LiveFigures, timezone: str, target_minutes: int,
                 shifts: tuple[Shift, ...], defaults: CallingRules | None = None,
                 check_scripts: ScriptCheck = no_script_problems, wake: Callable[[], None] = lambda: None,
                 registered: Registered = never_registered, sip_server: tuple[str, int] = ("127.0.0.1", 5060),
                 listen: Listen | None = None, transfer: Transfer | None = None, recordings_dir: Path | None = None,
                 feed_every: float = 1.0, node_lease: float = 30.0, users: UserService | None = None,
                 privacy: PrivacyService | None = None, pages: PagesConfig | None = None,
                 phone_server: PhoneServer | None = None,
                 phones_changed: Callable[[], None] = lambda: None,
                 pacing: PacingService | None = None, pollday: PollDayService | None = None,
                 outreach: OutreachService | None = None) -> WebServices:
    """Build the web side's services over ``db``, publishing on ``bus``: ``timezone`` is the war room's day,
    ``target_minutes`` a ticket's time before it is overdue, ``shifts`` the operators' shifts, ``defaults``
    the calling rules, ``check_scripts`` the IVR scripts' check, ``wake`` the dialer's wake-up,
    ``registered`` the softphones' check, ``users`` the sign-in's user service, ``privacy`` erasure and
    retention (default: over ``db`` and ``recordings_dir`` only), ``pages`` the rest of what the pages
    need, ``phone_server`` where browser phones connect (None: no browser phone), ``phones_changed`` the
    softphone keeper's wake-up, ``outreach`` voter outreach (its page, and its part of the dashboard). Call
    :meth:`WebServices.start` before serving."""
    pages = pages or PagesConfig()
    tickets = TicketService(db, bus.publish, recordings_dir=recordings_dir)
    dashboard = DashboardService(db, timezone=timezone, target_minutes=target_minutes, node_lease=node_lease,
                                 outreach=outreach.board if outreach is not None else None)
    feed = DashboardFeed(bus, live_figures, board=dashboard.stored_figures, tickets=dashboard.tickets_board,
                         ticket=dashboard.ticket_row, every=feed_every)
    library = pages.library or ScriptLibrary()
    return WebServices(
        campaigns=CampaignService(db, bus.publish, defaults=defaults, check_scripts=check_scripts, wake=wake,
                                  clock=pages.clock),
        tickets=tickets, operators=OperatorService(db, tickets, bus.publish, registered=registered,
                                                   phones_changed=phones_changed),
        dashboard=dashboard, reports=ReportService(db, timezone=timezone, shifts=shifts), dashboard_feed=feed,
        console_feed=ConsoleFeed(bus), live_figures=live_figures, sip_server=sip_server,
        users=users or UserService(db), audit=AuditService(db),
        privacy=privacy or PrivacyService(db, recordings_dir=recordings_dir),
        listen=AuditedListen(db, listen) if listen is not None else None, instructions=InstructionService(db),
        directory=DirectoryService(db, rules=pages.status_rules, verify_days=pages.verify_days,
                                   work_dir=pages.work_dir),
        scripts=ScriptService(db, library, inbound_info=inbound_info, party=pages.party,
                              make_prompt=pages.make_prompt, hotline=pages.hotline),
        pins=PinService(db, pages.clock), recordings=RecordingService(db, recordings_dir, pages.clock),
        callbacks=CallbackService(db, bus.publish),
        phone_server=phone_server or PhoneServer(enabled=False), transfer=transfer, pacing=pacing, pollday=pollday,
        outreach=outreach)
