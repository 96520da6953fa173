"""The FastAPI application factory: the routes of every page and API over the services passed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from web import (
    admin,
    api_campaigns,
    api_pacing,
    console,
    dashboard,
    docs,
    metrics,
    pages,
    pages_campaigns,
    pages_directory,
    pages_hotline,
    pages_imports,
    pages_outreach,
    pages_scripts,
    pages_security,
    pages_users,
    phone,
    pollday,
    reports,
)
from web.auth import Auth
from web.errors import install as install_error_handlers
from web.fonts import router as fonts_router
from web.proxy import forwarded
from web.security import SecurityHeaders
from web.services import WebServices
from web.vendor import SIP_JS, sip_js_dir

ROUTERS = (pages.router, console.router, api_campaigns.router, dashboard.router, metrics.router, reports.router,
           admin.router, docs.router, pages_campaigns.router, pages_directory.router, pages_imports.router,
           pages_users.router, pages_hotline.router, pages_scripts.router, phone.router, pages_outreach.router,
           pages_security.router, api_pacing.router, pollday.router)
STATIC = Path(__file__).resolve().parent / "static"


class ComponentHealth(BaseModel):
    """A component's state as the service sees it; ``detail`` (an error's text) stays inside the service."""

    up: bool
    detail: str


class Health(BaseModel):
    """What ``/healthz`` tells anyone who asks: ok or degraded, overall and per part, and nothing more."""

    status: Literal["ok", "degraded"]
    components: dict[str, Literal["ok", "degraded"]]


HealthSource = Callable[[], Awaitable[dict[str, ComponentHealth]]]


def create_app(services: WebServices | None = None, *, health: HealthSource, auth: Auth | None = None,
               trusted_proxies: tuple[str, ...] = ()) -> FastAPI:
    """Build the app; ``health`` reports each component's real state when asked. With ``services`` it has
    every page and API route, which need ``auth``: then every path but ``/healthz`` and sign-in needs a
    session (deny by default), and each route names the roles it allows (:mod:`web.deps`)."""
    if services is not None and auth is None:
        raise ValueError("the routes need sign-in: pass auth")
    app = FastAPI(title="warroom", summary="Election war-room call center", docs_url=None, redoc_url=None,
                  openapi_url=None)  # the description and its page are for admins (web/docs.py)
    install_error_handlers(app)
    app.state.services, app.state.auth = services, auth
    if auth is not None:
        app.add_middleware(auth.middleware())
        app.include_router(auth.router())
    app.include_router(fonts_router)  # public: the sign-in page shows Hindi too
    if services is not None:
        for router in ROUTERS:
            app.include_router(router)
        # the browser phone's SIP library, installed from the npm registry (scripts/bootstrap.sh)
        app.mount(SIP_JS, StaticFiles(directory=sip_js_dir(), check_dir=False), name="sip.js")
        app.mount("/static", StaticFiles(directory=STATIC), name="static")  # the pages' CSS and script
    phone_server = services.phone_server if services is not None else None
    app.add_middleware(SecurityHeaders, phone=lambda host: phone_server.origin(host)
                       if phone_server is not None and phone_server.enabled else None)
    forwarded(app, trusted_proxies)  # added last: the outermost, so sign-in sees the real scheme and client

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    async def healthz() -> Any:
        """AMI, ARI and database state, checked now: ok or degraded each (no error text: anyone may ask).
        200 when all are up, 503 otherwise."""
        components = await health()
        ok = all(c.up for c in components.values())
        body = Health(status="ok" if ok else "degraded",
                      components={name: "ok" if c.up else "degraded" for name, c in components.items()})
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    return app
