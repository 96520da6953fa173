"""HTTP API: campaigns (the same operations as ``warroom campaign``) and the live figures."""

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dialer.service import CampaignSpec
from web.deps import Acting, Services, Staff
from web.inputs import Moment, Text

router = APIRouter(prefix="/api", tags=["campaigns"])


TRUNKS = r"^[A-Za-z][A-Za-z0-9_-]{0,39}(,[A-Za-z][A-Za-z0-9_-]{0,39})*$"


class CampaignIn(BaseModel):
    name: Text = Field(min_length=1, max_length=120)
    mode: Literal["ivr", "operator"] = "ivr"
    units: list[Text] = Field(default_factory=list, description="unit keys (ac:112, booth:112:45) or ids")
    levels: list[Literal["district", "ac", "mandal", "sector", "booth"]] = Field(default_factory=list)
    posts: list[Text] = Field(default_factory=list)
    statuses: list[Literal["strong", "weak", "swing", "unknown"]] = Field(default_factory=list)
    window_start: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    window_end: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    timezone: Text | None = None
    starts_at: Moment | None = Field(None, description="do not call before (UTC if no zone)")
    ends_at: Moment | None = Field(None, description="do not call after (UTC if no zone)")
    priority: int = Field(5, ge=0, le=100)
    retry: list[Text] = Field(default_factory=list, description="OUTCOME=TRIES/AFTER, e.g. no_answer=3/30m")
    use_alternate: bool = True
    record_calls: bool = Field(False, description="record operators' calls (the callers hear a notice first)")
    trunk: Text = Field("lines", min_length=1, max_length=200, pattern=TRUNKS,
                        description="a trunk, or several in order of preference (lines,gsm)")
    scripts: dict[Text, Text] = Field(default_factory=dict)
    fields: dict[Text, Text] = Field(default_factory=dict)


@router.get("/campaigns")
async def list_campaigns(_who: Staff, svc: Services) -> list[dict[str, Any]]:
    """Every campaign with its progress."""
    return await svc.campaigns.list()


@router.post("/campaigns", status_code=201)
async def create(body: CampaignIn, _who: Staff, actor: Acting, svc: Services) -> dict[str, Any]:
    """A draft campaign with its targets chosen from the directory (``/api/campaigns/{id}/start`` sets it going)."""
    return await svc.campaigns.create(CampaignSpec(**body.model_dump()), actor)


@router.get("/campaigns/{ref}")
async def show(ref: Text, _who: Staff, svc: Services) -> dict[str, Any]:
    """One campaign (name or id) with its progress."""
    return await svc.campaigns.show(ref)


@router.post("/campaigns/{ref}/{action}")
async def act(ref: Text, action: Literal["start", "pause", "resume", "stop"], _who: Staff, actor: Acting,
              svc: Services) -> dict[str, Any]:
    """Start, pause, resume or stop a campaign (the dialer follows at once)."""
    return await svc.campaigns.change(ref, action, actor)


@router.get("/live")
async def live_figures(_who: Staff, svc: Services) -> dict[str, Any]:
    """Lines in use per trunk, calls dialing/ringing/answered now, attempts per minute, answer rate."""
    return svc.live_figures()
