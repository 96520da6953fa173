"""The operator console: state buttons, the phone in the page (or a SIP softphone's settings), the call on
screen (pushed live), the disposition of each call, and the call-back tasks abandoned calls left (listed
live; an operator takes one, calls the person by hand and closes it with the outcome). Keyboard: r ready,
p pause, s sign out of duty, d disposition; on a call a answer, h hang up, m mute, o hold, digits DTMF
(``web/static/console.js``)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from core.errors import Unavailable
from db.operators import OperatorState
from web.deps import OPERATOR_ROLES, Acting, Operator, Services, SignIn
from web.i18n import texts
from web.inputs import Moment, Text
from web.rendering import templates

router = APIRouter(prefix="/console", tags=["operator console"])


class StateIn(BaseModel):
    to: OperatorState
    reason: Text | None = Field(None, max_length=100)


class DispositionIn(BaseModel):
    channel_id: Text = Field(min_length=1, max_length=64)
    disposition: Text
    notes: Text | None = Field(None, max_length=2000)
    callback_at: Moment | None = Field(None, description="when to call back (UTC if no zone)")


class TransferIn(BaseModel):
    to: int = Field(ge=1, le=2_147_483_647, description="the supervisor's user id (GET /console/supervisors)")


class CallIn(BaseModel):
    channel_id: Text = Field(min_length=1, max_length=64)


class CallbackCloseIn(BaseModel):
    outcome: Literal["reached", "no_answer", "not_available", "wrong_number", "call_back", "opted_out"]
    notes: Text | None = Field(None, max_length=2000)
    callback_at: Moment | None = Field(None, description="for call_back: when to call again (UTC if no zone)")


TaskId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class TicketIn(BaseModel):
    channel_id: Text = Field(min_length=1, max_length=64)
    category: Text
    description: Text = Field(min_length=1, max_length=2000)


@router.get("", response_class=HTMLResponse)
async def page(request: Request, who: Operator, svc: Services) -> Any:
    """The console page (it shows the softphone's secret: never kept by a browser or a proxy)."""
    console = await svc.operators.console(who.user_id)
    lang = request.cookies.get("warroom_lang") or who.language
    server, port = console["home_sip"] or svc.sip_server  # the operator's home node, when it has one
    context = {"who": who, "t": texts(lang), "lang": lang, "state": console["state"],
               "sip": {"server": server, "port": port, "username": console["sip_username"],
                       "password": console["sip_password"], "node": console["home_node"]},
               "registered": console["registered"], "softphone_registered": console["softphone_registered"],
               "phone": {"enabled": svc.phone_server.enabled, "kind": console["phone"]}}
    return templates.TemplateResponse(request, "console.html", context, headers={"Cache-Control": "no-store"})


@router.get("/state")
async def get_state(who: Operator, svc: Services) -> dict[str, Any]:
    """This operator's state now."""
    return await svc.operators.state(who.user_id)


@router.post("/state")
async def set_state(body: StateIn, who: Operator, svc: Services) -> dict[str, Any]:
    """Go ready, pause (with a reason) or sign out of duty. Ready needs a registered softphone."""
    return await svc.operators.set_state(who.user_id, body.to, body.reason)


@router.get("/events")
async def events(request: Request, who: Operator, svc: Services, auth: SignIn) -> StreamingResponse:
    """Live updates (Server-Sent Events): a snapshot first, then screen pops, calls and states; ends with
    ``signed_out`` once the session is gone (checked on every keep-alive)."""
    hello = await svc.operators.state(who.user_id)
    stream = auth.while_signed_in(request, OPERATOR_ROLES, svc.console_feed.stream(who.user_id, hello))
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/disposition", status_code=201)
async def disposition(body: DispositionIn, who: Operator, svc: Services) -> dict[str, Any]:
    """Record what came of a call this operator had (the caller is found from the call, not sent)."""
    return await svc.operators.record_disposition(who.user_id, body.channel_id, body.disposition, body.notes,
                                                  body.callback_at)


@router.post("/ticket", status_code=201)
async def ticket(body: TicketIn, who: Operator, svc: Services) -> dict[str, Any]:
    """Open a ticket for the caller's booth from this operator's call."""
    return await svc.operators.open_ticket(who.user_id, who.username, body.channel_id, body.category,
                                           body.description)


@router.post("/pin", status_code=201)
async def give_pin(body: CallIn, who: Operator, actor: Acting, svc: Services) -> dict[str, Any]:
    """A new hotline PIN for the member on this call, to read out to them (only on a call the war room made to
    their own number)."""
    return await svc.operators.give_pin(who.user_id, body.channel_id, actor)


@router.get("/supervisors")
async def supervisors(_who: Operator, svc: Services) -> list[dict[str, Any]]:
    """Who a call may be handed to."""
    return await svc.operators.supervisors()


@router.post("/transfer", status_code=201)
async def transfer(body: TransferIn, who: Operator, svc: Services) -> dict[str, Any]:
    """Hand this operator's caller to a supervisor: their phone rings; once they answer, the operator's leg
    ends (wrap-up) and the caller stays with the supervisor."""
    if svc.transfer is None:
        raise Unavailable("handing calls over is not available in this service")
    return {"leg": await svc.transfer(who.user_id, body.to)}


@router.get("/callbacks")
async def call_backs(who: Operator, svc: Services) -> list[dict[str, Any]]:
    """Call-back tasks for this operator: the ones they took (number shown), then the open ones (number
    masked), oldest first: person, campaign, when the call was abandoned and why."""
    return await svc.callbacks.for_operator(who.username)


@router.post("/callbacks/{task_id}/take")
async def take_call_back(task_id: TaskId, _who: Operator, actor: Acting, svc: Services) -> dict[str, Any]:
    """Take an open task: nobody else calls the person now (409 if someone took it first)."""
    return await svc.callbacks.take(task_id, actor)


@router.post("/callbacks/{task_id}/release")
async def release_call_back(task_id: TaskId, _who: Operator, actor: Acting, svc: Services) -> dict[str, Any]:
    """Give a task one took back to the others."""
    return await svc.callbacks.release(task_id, actor)


@router.post("/callbacks/{task_id}/close")
async def close_call_back(task_id: TaskId, body: CallbackCloseIn, _who: Operator, actor: Acting,
                          svc: Services) -> dict[str, Any]:
    """The person was called back: done (reached, wrong number, call back later, opted out) or failed (no
    answer, not available); the outcome is written back like a call's disposition."""
    return await svc.callbacks.close(task_id, actor, body.outcome, body.notes, body.callback_at)
