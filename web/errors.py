"""Errors as HTTP answers, mapped once: a service's typed error (:mod:`core.errors`) becomes
``{"detail": <its message>}`` with the status of its kind, and a request FastAPI cannot validate a 422 that
is safe to render whatever was sent."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from core.errors import ServiceError


def ascii_json(content: Any) -> bytes:
    """JSON that any input can be echoed in: lone surrogates escaped, NaN and infinities as text."""
    return json.dumps(_finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


class AsciiJSONResponse(JSONResponse):
    """A response in :func:`ascii_json`."""

    def render(self, content: Any) -> bytes:
        return ascii_json(content)


class TextJSONResponse(JSONResponse):
    """JSON as FastAPI writes it (UTF-8, other scripts as they are), and escaped as :class:`AsciiJSONResponse`
    when the text holds what UTF-8 cannot carry (a lone surrogate echoed from the request)."""

    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        except (UnicodeEncodeError, ValueError):
            return ascii_json(content)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def service_error(_request: Request, exc: Exception) -> Response:
    """A service refused: its message, with the HTTP status of the kind of refusal (404, 409, 422...)."""
    assert isinstance(exc, ServiceError)
    return TextJSONResponse({"detail": exc.message}, status_code=exc.http_status)


async def invalid_request(_request: Request, exc: Exception) -> Response:
    """422 saying what is wrong, as FastAPI does, but safe to render whatever was sent: FastAPI's own answer
    echoes the input, and fails (a server error) when a JSON body holds an escaped lone surrogate
    (``"\\ud800"``) or ``NaN``, which Python's JSON reader accepts."""
    assert isinstance(exc, RequestValidationError)
    return AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer service errors and invalid requests as above, for every route of ``app``."""
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
