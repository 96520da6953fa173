"""The Devanagari web font, served by us from its installed Python package (nothing from the internet), so
Hindi is readable on a desk without Hindi fonts. Under ``/static/``: public, like the sign-in page that
shows Hindi too. ``base.html`` declares it with ``@font-face`` for the Devanagari characters only."""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

FAMILY = "Noto Sans Devanagari"
URL = "/static/fonts/noto-sans-devanagari.ttf"
PACKAGE = "fontpkg-noto-sans-devanagari"
log = logging.getLogger(__name__)


@cache
def devanagari_font() -> Path | None:
    """The font file (a variable TrueType font, weights 100-900) of the installed package; None without it."""
    try:
        import fontpkg

        return Path(fontpkg.path(FAMILY))
    except (ImportError, LookupError) as exc:
        log.warning("no Devanagari web font (%s): reinstall the package (pip install -e .) to get %s",
                    exc, PACKAGE)
        return None


router = APIRouter()


@router.get(URL, include_in_schema=False)
async def devanagari() -> Response:
    path = await asyncio.to_thread(devanagari_font)
    if path is None:
        raise HTTPException(404, f"the Devanagari font is not installed (Python package {PACKAGE})")
    return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})
