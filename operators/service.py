"""The operators' console's use cases: an operator's state (ready only with a registered softphone or
browser phone), the outcome of each of their calls, tickets from their calls, the browser phone's
credentials for a signed-in page and the call quality it measures; each change is published on the bus."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Forbidden, NotFound
from db.campaigns import Attempt
from db.engine import Database
from db.ivr import IvrCall, QueueCall
from db.models import Person, utcnow
from db.nodes import Node
from db.operators import OperatorState
from db.users import Role, User
from events.types import OperatorStateChanged
from hotline.pins import generate_pin, set_pin
from operators import quality
from operators.dispositions import DispositionError, record_disposition
from operators.states import change, status_of
from operators.webphones import endpoints, issue
from tickets.service import TicketService, open_ticket

Registered = Callable[[str], Awaitable[bool]]


async def never_registered(_endpoint: str) -> bool:
    return False


def _no_one(_event: object) -> None:
    """Nobody hears the events."""


class OperatorService:
    """One operator's console: ``registered(endpoint)`` says whether a softphone is registered now;
    ``phones_changed`` tells the service's softphone keeper that a browser phone got a new secret."""

    def __init__(self, db: Database, tickets: TicketService, publish: Callable[[object], None] = _no_one, *,
                 registered: Registered = never_registered,
                 phones_changed: Callable[[], None] = lambda: None) -> None:
        self.db, self.tickets, self.publish, self.registered = db, tickets, publish, registered
        self.phones_changed = phones_changed

    async def phone_in_use(self, username: str) -> str | None:
        """Which of the user's phones is registered: ``browser``, ``softphone`` or None."""
        web, sip = endpoints(username)
        if await self.registered(web):
            return "browser"
        return "softphone" if await self.registered(sip) else None

    async def state(self, user_id: int) -> dict[str, Any]:
        """The operator's state now: state, reason, since, channel_id."""
        return await self.db.run(_state, user_id)

    async def console(self, user_id: int) -> dict[str, Any]:
        """What the console page shows: the state, the softphone's account and whether it is registered."""
        def work(session: Session) -> dict[str, Any]:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id}")
            home = session.get(Node, user.home_node) if user.home_node else None
            return {"state": _state(session, user_id), "sip_username": user.sip_username,
                    "sip_password": user.sip_secret, "home_node": user.home_node, "username": user.username,
                    "home_sip": (home.sip_host, home.sip_port) if home and home.sip_host and home.sip_port else None}

        out = await self.db.run(work)
        out["phone"] = await self.phone_in_use(out["username"])
        out["registered"] = out["phone"] is not None
        out["softphone_registered"] = out["phone"] == "softphone" or await self.registered(out["sip_username"])
        return out

    async def phone_credentials(self, user_id: int, session_id: str) -> dict[str, Any]:
        """The browser phone's endpoint and secret for this signed-in session (the page registers with them;
        the secret is made for this session and goes with it). A new secret is applied at once."""
        creds = await self.db.run(issue, user_id, session_id)
        if creds.fresh:
            self.phones_changed()
        return {"endpoint": creds.endpoint, "secret": creds.secret, "fresh": creds.fresh}

    async def supervisors(self) -> list[dict[str, Any]]:
        """Who an operator may hand a call to: enabled supervisors and admins, by name."""
        def work(session: Session) -> list[dict[str, Any]]:
            users = session.scalars(select(User).where(User.disabled.is_(False),
                                                       User.role.in_((Role.supervisor, Role.admin)))
                                    .order_by(User.display_name))
            return [{"id": u.id, "username": u.username, "name": u.display_name} for u in users]

        return await self.db.run(work)

    async def record_quality(self, user_id: int, channel_id: str, sample: quality.Sample,
                             ended: bool = False) -> dict[str, Any]:
        """Keep what the browser phone measured of this operator's call (during it and at its end)."""
        def work(session: Session) -> dict[str, Any]:
            return quality.as_row(quality.record(session, user_id, channel_id, sample, ended=ended))

        return await self.db.run(work)

    async def set_state(self, user_id: int, to: OperatorState, reason: str | None = None) -> dict[str, Any]:
        """Go ready, pause (saying why) or sign out of duty. Ready needs a registered softphone."""
        is_registered = True
        if to is OperatorState.ready:
            is_registered = await self.phone_in_use(await self.db.run(_username, user_id)) is not None

        def work(session: Session) -> dict[str, Any]:
            change(session, user_id, to, registered=is_registered, reason=reason)
            return _state(session, user_id)

        state = await self.db.run(work)
        self.publish(OperatorStateChanged(user_id, state["state"], state["reason"], state["channel_id"],
                                          at=datetime.fromisoformat(state["since"])))
        return state

    async def record_disposition(self, user_id: int, channel_id: str, disposition: str, notes: str | None = None,
                                 callback_at: datetime | None = None) -> dict[str, Any]:
        """Record what came of a call this operator had (on the call or in the wrap-up after it); the
        caller is found from our records of the call, never taken from the request."""
        def work(session: Session) -> dict[str, Any]:
            _own_call(session, user_id, channel_id, "that is not your call (a disposition is recorded on the "
                                                    "call or in the wrap-up after it)")
            person_id, phone, attempt_id = caller_of(session, channel_id)
            row = record_disposition(session, user_id=user_id, channel_id=channel_id, person_id=person_id,
                                     disposition=disposition, notes=notes, callback_at=callback_at, phone=phone,
                                     attempt_id=attempt_id)
            return {"id": row.id, "disposition": row.disposition.value}

        return await self.db.run(work)

    async def open_ticket(self, user_id: int, username: str, channel_id: str, category: str,
                          description: str) -> dict[str, Any]:
        """A ticket for the caller's booth from this operator's call (signed with the operator's name)."""
        def work(session: Session) -> int:
            _own_call(session, user_id, channel_id, "that is not your call")
            person_id, phone, _attempt = caller_of(session, channel_id)
            booth_id = session.scalar(select(QueueCall.booth_id).where(QueueCall.channel_id == channel_id))
            return open_ticket(session, category=category, source="operator", booth_id=booth_id,
                               reporter_id=person_id, reporter_phone=phone,
                               description=f"{description.strip()} (by {username})").id

        ticket_id = await self.tickets.open_with(work)
        return {"id": ticket_id, "status": "open"}


    async def give_pin(self, user_id: int, channel_id: str, actor: Actor) -> dict[str, Any]:
        """A new hotline PIN for the member on this operator's call, to read out to them: only on a call the war
        room made to the member's own number in the directory (a campaign's), never on an incoming call,
        whose caller ID may be spoofed. Audited (without the PIN)."""
        def work(session: Session) -> dict[str, Any]:
            _own_call(session, user_id, channel_id, "that is not your call")
            person_id, _phone, attempt_id = caller_of(session, channel_id)
            attempt = session.get(Attempt, attempt_id) if attempt_id else None
            person = session.get(Person, person_id) if person_id else None
            if attempt is None or person is None or attempt.phone not in (person.phone, person.alt_phone):
                raise Forbidden("a PIN is given only on a call the war room made to the member's own number")
            pin = generate_pin()
            set_pin(session, person.id, pin, by=actor.name, at=utcnow())
            record(session, actor, "person.pin_set", f"person:{person.id}",
                   detail={"generated": True, "on_call": True, "attempt_id": attempt.id})
            return {"person_id": person.id, "name": person.name, "pin": pin}

        return await self.db.run(work)


def _state(session: Session, user_id: int) -> dict[str, Any]:
    row = status_of(session, user_id)
    return {"state": row.state.value, "reason": row.reason, "since": row.since.isoformat(),
            "channel_id": row.channel_id}


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user.username


def _own_call(session: Session, user_id: int, channel_id: str, refusal: str) -> None:
    if status_of(session, user_id).channel_id != channel_id:
        raise Forbidden(refusal)


def caller_of(session: Session, channel_id: str) -> tuple[int | None, str | None, int | None]:
    """(person, phone, campaign attempt) of a call, from our own records of it."""
    queued = session.scalars(select(QueueCall).where(QueueCall.channel_id == channel_id)
                             .order_by(QueueCall.id.desc())).first()
    call = session.scalars(select(IvrCall).where(IvrCall.channel_id == channel_id)).first()
    if queued is None and call is None:
        raise DispositionError(f"no call {channel_id}")
    person = (queued.person_id if queued else None) or (call.person_id if call else None)
    phone = (queued.caller_phone if queued else None) or (call.caller_phone if call else None)
    attempt = (queued.attempt_id if queued else None) or (call.attempt_id if call else None)
    return person, phone, attempt
