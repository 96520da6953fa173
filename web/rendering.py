"""The pages' Jinja2 templates (``web/templates/``); each sees ``nonce``, the request's Content-Security-Policy
nonce for its ``<script>`` and ``<style>`` elements (:mod:`web.security`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from web.security import NONCE

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _nonce(request: Request) -> dict[str, Any]:
    return {"nonce": getattr(request.state, NONCE, "")}


templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_nonce])
