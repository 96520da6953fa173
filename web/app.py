"""The FastAPI application factory. Everything it shows comes from callables passed in."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from web.auth import Auth
from web.fonts import fonts_router


class ComponentHealth(BaseModel):
    up: bool
    detail: str


class Health(BaseModel):
    status: str  # "ok" when every component is up, else "degraded"
    components: dict[str, ComponentHealth]


TEMPLATES = Path(__file__).resolve().parent / "templates"
HealthSource = Callable[[], Awaitable[dict[str, ComponentHealth]]]


class AsciiJSONResponse(JSONResponse):
    """JSON that any input can be echoed in: lone surrogates escaped, NaN and infinities as text."""

    def render(self, content: Any) -> bytes:
        return json.dumps(_finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def invalid_request(_request: Request, exc: Exception) -> Response:
    """422 saying what is wrong, as FastAPI does, but safe to render whatever was sent: FastAPI's own answer
    echoes the input, and fails (a server error) when a JSON body holds an escaped lone surrogate
    (``"\\ud800"``) or ``NaN``, which Python's JSON reader accepts."""
    assert isinstance(exc, RequestValidationError)
    return AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def create_app(health: HealthSource, routers: Sequence[APIRouter] = (), auth: Auth | None = None) -> FastAPI:
    """Build the app; ``health`` reports each component's real state when asked. With ``auth`` every path
    but ``/healthz`` and sign-in needs a session (deny by default), and routes check roles."""
    app = FastAPI(title="warroom", summary="Election war-room call center")
    app.add_exception_handler(RequestValidationError, invalid_request)
    if auth is not None:
        app.add_middleware(auth.middleware())
        app.include_router(auth.router())
    app.include_router(fonts_router())
    for router in routers:
        app.include_router(router)

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
