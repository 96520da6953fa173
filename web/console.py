"""The operator console: state buttons, the softphone's settings, the call on screen (pushed live), and the
disposition of each call. Keyboard: r ready, p pause, s sign out of duty, d disposition.

No ``from __future__ import annotations``: the role guard is built per app and used in ``Annotated``."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.service import Principal
from db.engine import in_thread
from db.ivr import IvrCall, QueueCall
from db.operators import OperatorState
from db.users import Role, User
from events.types import TicketChanged
from operators.dispositions import DispositionError, record_disposition
from operators.states import OperatorError, change, status_of
from tickets.service import TicketError, open_ticket
from web.auth import Auth
from web.console_feed import ConsoleFeed
from web.i18n import texts
from web.inputs import Moment, Text


class StateIn(BaseModel):
    to: OperatorState
    reason: Text | None = Field(None, max_length=100)


class DispositionIn(BaseModel):
    channel_id: Text = Field(min_length=1, max_length=64)
    disposition: Text
    notes: Text | None = Field(None, max_length=2000)
    callback_at: Moment | None = Field(None, description="when to call back (UTC if no zone)")


def console_router(auth: Auth, templates: Jinja2Templates, sessions: sessionmaker[Session], hub: ConsoleFeed,
                   registered: Callable[[str], Awaitable[bool]], sip_server: tuple[str, int],
                   wrap_seconds: float = 30.0, publish: Callable[[object], None] = lambda _e: None) -> APIRouter:
    router = APIRouter(prefix="/console", tags=["operator console"])
    Operator = Annotated[Principal, Depends(auth.require(Role.operator))]

    def snapshot(session: Session, user_id: int) -> dict[str, Any]:
        row = status_of(session, user_id)
        return {"state": row.state.value, "reason": row.reason, "since": row.since.isoformat(),
                "channel_id": row.channel_id}

    @router.get("", response_class=HTMLResponse)
    async def page(request: Request, who: Operator) -> Any:
        """The console page."""
        def load(session: Session) -> tuple[User, dict[str, Any]]:
            user = session.get(User, who.user_id)
            assert user is not None
            return user, snapshot(session, who.user_id)

        user, state = await in_thread(sessions, load)
        lang = request.cookies.get("warroom_lang") or who.language
        return templates.TemplateResponse(request, "console.html", {
            "who": who, "t": texts(lang), "lang": lang, "state": state,
            "sip": {"server": sip_server[0], "port": sip_server[1], "username": user.sip_username,
                    "password": user.sip_secret},
            "registered": await registered(user.sip_username)})

    @router.get("/state")
    async def get_state(who: Operator) -> dict[str, Any]:
        """This operator's state now."""
        return await in_thread(sessions, snapshot, who.user_id)

    @router.post("/state")
    async def set_state(body: StateIn, who: Operator) -> dict[str, Any]:
        """Go ready, pause (with a reason) or sign out of duty. Ready needs a registered softphone."""
        endpoint = f"op-{who.username}"
        is_registered = await registered(endpoint) if body.to is OperatorState.ready else True

        def apply(session: Session) -> dict[str, Any]:
            change(session, who.user_id, body.to, registered=is_registered, reason=body.reason)
            return snapshot(session, who.user_id)

        try:
            state = await in_thread(sessions, apply)
        except OperatorError as exc:
            raise HTTPException(409, str(exc)) from exc
        hub.send(who.user_id, "state", state)
        return state

    @router.get("/events")
    async def events(who: Operator) -> StreamingResponse:
        """Live updates (Server-Sent Events): a snapshot first, then screen pops, calls and states."""
        hello = await in_thread(sessions, snapshot, who.user_id)
        return StreamingResponse(hub.stream(who.user_id, hello), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @router.post("/disposition", status_code=201)
    async def disposition(body: DispositionIn, who: Operator) -> dict[str, Any]:
        """Record what came of a call this operator had (the caller is found from the call, not sent)."""
        def apply(session: Session) -> dict[str, Any]:
            if status_of(session, who.user_id).channel_id != body.channel_id:
                raise PermissionError("that is not your call (a disposition is recorded on the call or in "
                                      "the wrap-up after it)")
            person_id, phone, attempt_id = _caller(session, body.channel_id)
            row = record_disposition(session, user_id=who.user_id, channel_id=body.channel_id,
                                     person_id=person_id, disposition=body.disposition, notes=body.notes,
                                     callback_at=body.callback_at, phone=phone, attempt_id=attempt_id)
            return {"id": row.id, "disposition": row.disposition.value}

        try:
            return await in_thread(sessions, apply)
        except PermissionError as exc:
            raise HTTPException(403, str(exc)) from exc
        except DispositionError as exc:
            raise HTTPException(422, str(exc)) from exc

    @router.post("/ticket", status_code=201)
    async def ticket(body: TicketIn, who: Operator) -> dict[str, Any]:
        """Open a ticket for the caller's booth from this operator's call."""
        def apply(session: Session) -> dict[str, Any]:
            if status_of(session, who.user_id).channel_id != body.channel_id:
                raise PermissionError("that is not your call")
            person_id, phone, _attempt = _caller(session, body.channel_id)
            booth_id = session.scalar(select(QueueCall.booth_id).where(QueueCall.channel_id == body.channel_id))
            t = open_ticket(session, category=body.category, source="operator", booth_id=booth_id,
                            reporter_id=person_id, reporter_phone=phone,
                            description=f"{body.description.strip()} (by {who.username})")
            return {"id": t.id, "status": t.status.value}

        try:
            opened = await in_thread(sessions, apply)
        except PermissionError as exc:
            raise HTTPException(403, str(exc)) from exc
        except TicketError as exc:
            raise HTTPException(422, str(exc)) from exc
        publish(TicketChanged(opened["id"], "opened"))
        return opened

    return router


class TicketIn(BaseModel):
    channel_id: Text = Field(min_length=1, max_length=64)
    category: Text
    description: Text = Field(min_length=1, max_length=2000)


def _caller(session: Session, channel_id: str) -> tuple[int | None, str | None, int | None]:
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
