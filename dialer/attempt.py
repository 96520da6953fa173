"""One attempt's life as an explicit state machine, fed by Asterisk's events in any order.

dialing -> ringing -> answered -> ended, or dialing/ringing -> ended. The terminal disposition is decided
once, when both the Hangup (cause, Q.850) and the OriginateResponse (reason) are in — or when our settle
timer fires because one never comes — from everything seen, so the order they arrive in does not matter.
Our own decisions (cancel, lost after a restart) count too. Events after the end are ignored, so a late
or repeated event can never change the outcome or end an attempt twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from db.campaigns import AttemptState, Disposition

log = logging.getLogger(__name__)

# Q.850 causes as Asterisk's PJSIP channel reports them (SIP response -> cause)
BUSY_CAUSES = {17}                               # 486 Busy Here, 600 Busy Everywhere
INVALID_CAUSES = {1, 3, 22, 28}                  # 404/604 unallocated, no route, number changed, bad format
CONGESTION_CAUSES = {34, 38, 41, 42, 44, 47}     # 503 and other "network is busy / out of order"
NO_ANSWER_CAUSES = {18, 19, 20}                  # 408 no response, 480 no answer, subscriber absent
REJECTED_CAUSES = {21}                           # 403/603 declined

# OriginateResponse "Reason" (Asterisk control frame of the last state seen)
REASON_NO_ANSWER = 3      # rang until the Originate timeout
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8


def disposition_for(*, answered: bool, cause: int | None, reason: int | None,
                    cancelled: bool = False, lost: bool = False) -> Disposition:
    """The one disposition for what was seen (pure)."""
    if answered:
        return Disposition.answered
    if lost:
        return Disposition.failed  # we missed its end (Asterisk restarted): never counted as answered
    if cancelled:
        return Disposition.cancelled
    if cause in BUSY_CAUSES or reason == REASON_BUSY:
        return Disposition.busy
    if cause in INVALID_CAUSES:
        return Disposition.invalid_number
    if cause in CONGESTION_CAUSES or reason == REASON_CONGESTION:
        return Disposition.congestion
    if cause in NO_ANSWER_CAUSES or reason == REASON_NO_ANSWER:
        return Disposition.no_answer
    if cause == 16 and reason in (None, 1, REASON_NO_ANSWER):
        return Disposition.no_answer  # cleared normally before answer: our ring timeout
    return Disposition.failed


@dataclass
class AttemptTracker:
    """The live state of one attempt. Methods return True when they changed something."""

    channel_id: str
    started_at: datetime
    state: AttemptState = AttemptState.dialing
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: int | None = None
    sip_status: int | None = None
    reason: int | None = None
    hungup: bool = False
    originate_done: bool = False
    originate_ok: bool = False
    cancelled: bool = False
    lost: bool = False
    handled: bool = False  # the answered call reached its handler in our Stasis app
    disposition: Disposition | None = None
    transitions: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.state is AttemptState.ended

    def _move(self, new: AttemptState, why: str) -> None:
        log.debug("attempt %s: %s -> %s (%s)", self.channel_id, self.state, new, why)
        self.transitions.append((self.state.value, new.value, why))
        self.state = new

    def ringing(self, at: datetime) -> bool:
        if self.state is AttemptState.dialing:
            self._move(AttemptState.ringing, "ringing")
            return True
        return False

    def answered(self, at: datetime) -> bool:
        if self.state in (AttemptState.dialing, AttemptState.ringing) and not self.hungup:
            self.answered_at = at
            self._move(AttemptState.answered, "answered")
            return True
        return False

    def hangup(self, cause: int | None, at: datetime, sip_status: int | None = None) -> bool:
        """The channel is gone. Ends the attempt once the OriginateResponse is in too (see ``settle``)."""
        if self.ended or self.hungup:
            return False
        self.hungup, self.cause, self.ended_at, self.sip_status = True, cause, at, sip_status
        if self.originate_done:
            self._finish(at, f"hangup cause {cause}")
        return True

    def originate_response(self, success: bool, reason: int | None, at: datetime) -> bool:
        """Asterisk's verdict on the Originate; ends the attempt if the channel has already hung up."""
        if self.ended or self.originate_done:
            return False
        self.originate_done, self.originate_ok, self.reason = True, success, reason
        if reason == REASON_ANSWERED and success and self.answered_at is None:
            # Asterisk says it was answered, though we saw no Up event (missed, or not yet delivered)
            self.answered_at = min(at, self.ended_at) if self.ended_at else at
            if not self.hungup:
                self._move(AttemptState.answered, "answered (originate response)")
        if self.hungup:
            self._finish(self.ended_at or at, f"originate response reason {reason}")
        return True

    @property
    def waiting_to_settle(self) -> bool:
        """Half the ending is in: hung up without an OriginateResponse yet, or the Originate failed
        (a channel that never existed gets no Hangup). A live call after a successful Originate is not."""
        return not self.ended and (self.hungup or (self.originate_done and not self.originate_ok))

    def settle(self, at: datetime) -> bool:
        """Our timer, a moment after half the ending came in: decide with what we have."""
        if not self.waiting_to_settle:
            return False
        self._finish(self.ended_at or at, "settled without originate response")
        return True

    def cancel(self, at: datetime) -> None:
        """We are ending it (campaign stopped): counts as cancelled unless answered."""
        self.cancelled = True

    def withdraw(self, at: datetime) -> None:
        """Claimed but never dialed (the service began stopping meanwhile): ends cancelled, the target
        queued again without using up a try."""
        self.cancelled = True
        self._finish(at, "not dialed: the service is stopping")

    def mark_lost(self, at: datetime, why: str) -> bool:
        """Asterisk no longer has the channel and we missed its end (reconnect / restart)."""
        if self.ended:
            return False
        self.lost = True
        self.ended_at = self.ended_at or at
        self._finish(self.ended_at, why, answered_override=False)
        return True

    def _finish(self, at: datetime, why: str, answered_override: bool | None = None) -> None:
        answered = self.answered_at is not None if answered_override is None else answered_override
        self.disposition = disposition_for(answered=answered, cause=self.cause, reason=self.reason,
                                           cancelled=self.cancelled, lost=self.lost)
        self.ended_at = self.ended_at or at
        self._move(AttemptState.ended, f"{why} -> {self.disposition.value}")

    @property
    def talk_seconds(self) -> int | None:
        if self.answered_at is None or self.ended_at is None or self.disposition is not Disposition.answered:
            return None
        return max(0, round((self.ended_at - self.answered_at).total_seconds()))
