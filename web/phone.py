"""The phone in the browser (issue 19): a signed-in page gets its browser phone's credentials (made for
this session, never shown: the page's script registers with them) and posts the call quality it measures.
The page's side is ``web/static/phone.js``."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from core.errors import Unavailable
from operators.quality import Sample
from web.deps import Anyone, Operator, Services, SessionId
from web.inputs import Text

router = APIRouter(prefix="/phone", tags=["browser phone"])
COUNT = 2_000_000_000  # RTP counters in one call stay far below this


class Credentials(BaseModel):
    endpoint: str = Field(description="the SIP user (and endpoint) to register as")
    secret: str = Field(description="its secret, for this signed-in session only")
    ws_url: str = Field(description="Asterisk's secure WebSocket")
    fresh: bool = Field(description="made now: Asterisk may need a moment to learn it")


class QualityIn(BaseModel):
    channel_id: Text = Field(min_length=1, max_length=64, description="the call (the caller's channel)")
    packets_received: int = Field(ge=0, le=COUNT)
    packets_lost: int = Field(ge=-COUNT, le=COUNT, description="may be negative (duplicates)")
    packets_sent: int = Field(0, ge=0, le=COUNT)
    jitter_ms: float | None = Field(None, ge=0, le=100_000)
    rtt_ms: float | None = Field(None, ge=0, le=100_000)
    codec: str | None = Field(None, pattern=r"^[A-Za-z0-9/._-]{1,40}$")
    ended: bool = Field(False, description="the call's last sample")


@router.post("/credentials", response_model=Credentials)
async def credentials(request: Request, who: Anyone, svc: Services, session: SessionId) -> Any:
    """The browser phone's credentials for this session (not kept by the browser or a proxy)."""
    if not svc.phone_server.enabled:
        raise Unavailable("the phone in the browser is not enabled in this war room")
    creds = await svc.operators.phone_credentials(who.user_id, session)
    body = {**creds, "ws_url": svc.phone_server.ws_url(request.url.hostname or "127.0.0.1")}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/quality", status_code=201)
async def quality(body: QualityIn, who: Operator, svc: Services) -> dict[str, Any]:
    """A sample of this operator's call quality (from the browser's WebRTC statistics)."""
    sample = Sample(body.packets_received, body.packets_lost, body.packets_sent, body.jitter_ms, body.rtt_ms,
                    body.codec)
    return await svc.operators.record_quality(who.user_id, body.channel_id, sample, ended=body.ended)
