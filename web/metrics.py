"""``/metrics`` for Prometheus: a bearer token (``WARROOM_HTTP__METRICS_TOKEN``) or a supervisor's session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from dashboard.prometheus import exposition
from db.users import Role
from web.auth import Auth


def metrics_router(auth: Auth, live: Callable[[], dict[str, Any]],
                   stored: Callable[[], Awaitable[dict[str, Any]]]) -> APIRouter:
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        """The live figures in Prometheus' text format."""
        if not request.scope.get("warroom.machine"):
            who = await auth.principal(request)
            if who is None:
                raise HTTPException(401, "sign in first, or send the metrics bearer token")
            if who.role not in (Role.supervisor, Role.admin):
                raise HTTPException(403, f"not allowed for the {who.role.value} role")
        body = exposition(live(), await stored())
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
