"""``/metrics`` for Prometheus: a bearer token (``WARROOM_HTTP__METRICS_TOKEN``) or a supervisor's session."""

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from dashboard.prometheus import exposition
from web.deps import Services, StaffOrMachine

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
async def metrics(_who: StaffOrMachine, svc: Services) -> Response:
    """The live figures in Prometheus' text format."""
    body = exposition(svc.live_figures(), await svc.dashboard.stored_figures())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
