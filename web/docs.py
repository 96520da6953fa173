"""The API's description for admins only: ``/openapi.json`` and ``/docs``, with Swagger UI served from this
site (its files come from the ``fastapi-offline`` package, the init script from ``web/static``): the page
loads no third-party script, and fits the pages' Content-Security-Policy."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from web.deps import Admin
from web.rendering import templates

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
ASSETS: dict[str, tuple[str, str]] = {  # name -> (where, media type)
    "swagger-ui-bundle.js": ("package", "text/javascript"),
    "swagger-ui.css": ("package", "text/css"),
    "init.js": ("docs-init.js", "text/javascript"),
}


def asset_path(name: str) -> str:
    where, _media = ASSETS[name]
    if where == "package":
        return str(files("fastapi_offline") / "static" / name)
    return str(STATIC / where)


@router.get("/openapi.json")
def openapi(request: Request, _who: Admin) -> Response:
    """The OpenAPI description (admins)."""
    spec: dict[str, Any] = request.app.openapi()
    return JSONResponse(spec)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request, who: Admin) -> Response:
    """Swagger UI over the description (admins)."""
    return templates.TemplateResponse(request, "docs.html", {"who": who})


@router.get("/static/docs/{name}")
def asset(name: str) -> Response:
    """Swagger UI's files (public, like the charting library: nothing in them is ours to hide)."""
    if name not in ASSETS:
        return Response(status_code=404)
    return FileResponse(asset_path(name), media_type=ASSETS[name][1], headers={"Cache-Control": "max-age=86400"})
