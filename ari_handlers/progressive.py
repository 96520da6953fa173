"""Progressive campaigns (the dialer's ``operator`` mode): an answered call goes straight to a ready
operator through the queue. If none takes it within ``abandon_seconds`` the person hears a short apology
and the call ends, counted as abandoned (the attempt's result says so; supervisors see the rate), and an
operator gets a task to call the person back (:mod:`operators.callbacks`). A predictive campaign's call
waits ``predictive_abandon_seconds`` (2 s) only: its callee was dialed ahead of a free operator.
:class:`Pacing` tells the dialer how many such calls it may have going: the ready operators times the
campaign ratio, less the answered calls already waiting for one."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from adapters.ari import AriClient, AriError
from ari_handlers import ivr_store as store
from ari_handlers.app import CallHandler
from ari_handlers.ivr_deps import IvrDeps
from ari_handlers.queue import OperatorQueue
from core.tasks import Tasks
from db.campaigns import Attempt, Campaign, CampaignPacing
from db.engine import Database
from db.operators import OperatorState, OperatorStatus
from db.users import User
from events.asterisk import StasisEnded, StasisStarted
from events.types import CallbackTaskChanged
from ivr_scripts.actions import Prompt
from operators import callbacks

log = logging.getLogger(__name__)
SORRY = {"hi": "क्षमा करें, अभी सभी साथी व्यस्त हैं। हम आपको जल्द फिर कॉल करेंगे। नमस्कार।",
         "en": "Sorry, everyone in the war room is busy just now. We will call you back soon. Goodbye."}
# naming the party and the number to call back on (predictive campaigns and any call-back number set)
SORRY_FROM = {"hi": "क्षमा करें, यह {party} वार रूम से कॉल है, अभी सभी साथी व्यस्त हैं। {back}हम आपको जल्द फिर कॉल करेंगे। "
                    "नमस्कार।",
              "en": "Sorry, this is the {party} war room calling, and everyone is busy just now. {back}We will call "
                    "you back soon. Goodbye."}
CALL_US = {"hi": "आप हमें {number} पर कॉल कर सकते हैं। ", "en": "You can call us on {number}. "}


def apology(language: str, party: str, number: str) -> str:
    """The apology an abandoned call hears: who called and, when set, the number to call back on (digit by
    digit, as speech reads it best)."""
    lang = language if language in SORRY_FROM else "en"
    digits = " ".join(ch for ch in number if ch.isdigit() or ch == "+")
    back = CALL_US[lang].format(number=digits) if digits else ""
    return SORRY_FROM[lang].format(party=party, back=back)


@dataclass
class ProgressiveFigures:
    answered: int = 0
    connected: int = 0
    abandoned: int = 0
    max_waiting: int = 0
    apologised: int = 0          # abandoned calls that heard the apology
    callback_tasks: int = 0      # call-back tasks opened for abandoned calls
    last_apology: str = ""       # the words of the last apology played

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


class Pacing:
    """How many more operator-mode calls the dialer may start now."""

    def __init__(self, db: Database, queue: OperatorQueue, ratio: float = 1.0, node: str | None = None) -> None:
        self.db, self.queue, self.ratio, self.node = db, queue, ratio, node

    async def room(self) -> int:
        ready = await self.db.run(_ready_operators, self.node)
        return max(0, math.floor(ready * self.ratio) - self.queue.waiting_progressive())


def _ready_operators(session: Session, node: str | None) -> int:
    """Ready operators whose softphone is registered to ``node`` (their progressive calls are dialed here)."""
    query = select(func.count()).select_from(OperatorStatus).where(OperatorStatus.state == OperatorState.ready)
    if node is not None:
        query = query.join(User, User.id == OperatorStatus.user_id).where(
            or_(User.home_node == node, User.home_node.is_(None)))
    return int(session.scalar(query) or 0)


def _is_predictive(session: Session, attempt_id: int) -> bool:
    pacing = session.scalar(select(Campaign.pacing).join(Attempt, Attempt.campaign_id == Campaign.id)
                            .where(Attempt.id == attempt_id))
    return pacing is CampaignPacing.predictive


class ProgressiveCall(CallHandler):
    """Stasis args ``operator,<campaign>,<attempt>``."""

    initial_state = "new"

    def __init__(self, ari: AriClient, channel_id: str, args: list[str], deps: IvrDeps,
                 figures: ProgressiveFigures, abandon_seconds: float = 5.0, predictive_abandon_seconds: float = 2.0,
                 callback_number: str = "") -> None:
        super().__init__(ari, channel_id, args)
        self.deps, self.figures, self.abandon_seconds = deps, figures, abandon_seconds
        self.predictive_abandon_seconds, self.callback_number = predictive_abandon_seconds, callback_number
        self.predictive = False
        self.attempt_id = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
        self._timer: asyncio.Task[None] | None = None
        self._tasks = Tasks(f"progressive call {channel_id}")
        self.language = deps.default_language
        self.done = False

    async def on_adopted(self, start: StasisStarted) -> None:
        """Answered while the ARI link was down: put the person through to an operator now."""
        await self.on_StasisStarted(start)

    async def on_StasisStarted(self, event: StasisStarted) -> None:
        queue = self.deps.queue
        info = None
        if self.attempt_id is not None:
            info = await self.deps.db.run(store.outbound_info, self.attempt_id, party=self.deps.party,
                                   default_language=self.deps.default_language)
            self.language = info.language
            self.predictive = await self.deps.db.run(_is_predictive, self.attempt_id)
            if self.predictive:
                self.abandon_seconds = self.predictive_abandon_seconds
        ctx = info.context if info else {}
        member, booth = ctx.get("member", {}), ctx.get("booth", {})
        note = f"Campaign call: {member.get('name') or 'unknown'}, {member.get('post') or ''}" + (
            f", booth {booth.get('number')} {booth.get('name')} ({booth.get('status')})" if booth.get("number") else "")
        self.figures.answered += 1
        await queue.enter(self.channel_id, note=note, language=self.language, call_id=None,
                          person_id=info.person_id if info else None, booth_id=info.booth_id if info else None,
                          phone=info.phone if info else None, attempt_id=self.attempt_id, hold_message=False)
        waiting = queue.waiting_progressive()
        self.figures.max_waiting = max(self.figures.max_waiting, waiting)
        self.transition("waiting", "answered: waiting for an operator")
        self._timer = self._tasks.spawn(self._abandon_later(), "abandon timer")

    async def _abandon_later(self) -> None:
        await asyncio.sleep(self.abandon_seconds)
        async with self.lock:
            if self.done or self.channel_id not in self.deps.queue.waiting:
                if not self.done:
                    self.figures.connected += 1
                    self.transition("connected", "an operator took the call")
                    await self._result("connected")
                return
            self.transition("abandoned", f"no operator within {self.abandon_seconds:g}s")
            self.figures.abandoned += 1
            await self.deps.queue.leave(self.channel_id, "abandoned")
            await self._result("abandoned")
            await self._call_back_task(f"no operator within {self.abandon_seconds:g} s")
            try:
                await self.ari.request("POST", f"/bridges/{self.deps.queue.bridge_id}/removeChannel",
                                       channel=self.channel_id)
                text = apology(self.language, self.deps.party, self.callback_number) \
                    if self.predictive or self.callback_number else SORRY.get(self.language, SORRY["en"])
                media = await self.deps.prompts.media(Prompt("progressive/sorry/text", text, self.language))
                await self.ari.request("POST", f"/channels/{self.channel_id}/play", media=media)
                self.figures.apologised += 1
                self.figures.last_apology = text
                self.transition("apology", "playing the apology")
                await asyncio.sleep(6 if not self.predictive else 9)
            except AriError as exc:
                log.info("progressive: apology to %s: %s", self.channel_id, exc)
            await self.hangup()

    async def _result(self, result: str) -> None:
        if self.attempt_id is None:
            return

        def write(session: Session) -> None:
            session.execute(update(Attempt).where(Attempt.id == self.attempt_id).values(result=result))

        await self.deps.db.run(write)

    async def _call_back_task(self, reason: str) -> None:
        if self.attempt_id is None:
            return
        try:
            task_id = await self.deps.db.run(callbacks.open_task, self.attempt_id, reason)
            if task_id is not None:
                self.figures.callback_tasks += 1
                self.deps.publish(CallbackTaskChanged(task_id, "open"))  # the consoles list it at once
        except Exception:  # the call goes on: the abandon is recorded on the attempt all the same
            log.exception("progressive: call-back task for attempt %s", self.attempt_id)

    async def on_StasisEnded(self, event: StasisEnded) -> None:
        if self.done:
            return
        self.done = True
        if self._timer is not None:
            self._timer.cancel()
        if self.channel_id in self.deps.queue.waiting:  # hung up before an operator came: abandoned too
            self.figures.abandoned += 1
            await self._result("abandoned")
            await self._call_back_task("hung up before an operator came")
        await self.deps.queue.gone(self.channel_id)
        self.transition("ended", "left the app")
