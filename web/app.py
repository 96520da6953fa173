"""The FastAPI application factory: the routes of every page and API over the services passed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from web import api_campaigns, console, dashboard, metrics, pages, reports
from web.auth import Auth
from web.errors import install as install_error_handlers
from web.proxy import forwarded
from web.services import WebServices

ROUTERS = (pages.router, console.router, api_campaigns.router, dashboard.router, metrics.router, reports.router)


class ComponentHealth(BaseModel):
    up: bool
    detail: str


class Health(BaseModel):
    status: str  # "ok" when every component is up, else "degraded"
    components: dict[str, ComponentHealth]


HealthSource = Callable[[], Awaitable[dict[str, ComponentHealth]]]


def create_app(services: WebServices | None = None, *, health: HealthSource, auth: Auth | None = None,
               trusted_proxies: tuple[str, ...] = ()) -> FastAPI:
    """Build the app; ``health`` reports each component's real state when asked. With ``services`` it has
    every page and API route, which need ``auth``: then every path but ``/healthz`` and sign-in needs a
    session (deny by default), and each route names the roles it allows (:mod:`web.deps`)."""
    if services is not None and auth is None:
        raise ValueError("the routes need sign-in: pass auth")
    app = FastAPI(title="warroom", summary="Election war-room call center")
    install_error_handlers(app)
    app.state.services, app.state.auth = services, auth
    if auth is not None:
        app.add_middleware(auth.middleware())
        app.include_router(auth.router())
    if services is not None:
        for router in ROUTERS:
            app.include_router(router)
    forwarded(app, trusted_proxies)  # added last: the outermost, so sign-in sees the real scheme and client

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    async def healthz() -> Any:
        """AMI, ARI and database state, checked now. 200 when all are up, 503 otherwise."""
        components = await health()
        ok = all(c.up for c in components.values())
        body = Health(status="ok" if ok else "degraded", components=components)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    return app
