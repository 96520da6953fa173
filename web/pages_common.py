"""What the supervisors' and admins' pages share: rendering a page in the user's language with the
navigation, who is acting (for the audit log), and a service's refusal shown next to the field it is
about. The pages work without JavaScript; ``/static/pages.js`` only makes them quicker (live counts,
progress, previews)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from accounts.service import Principal
from audit.log import Actor
from core.errors import ServiceError
from db.users import Role
from web.auth import Auth
from web.i18n_pages import page_texts
from web.rendering import templates

FORM = "form"  # the error key of a refusal that is about no one field


def language(request: Request, who: Principal) -> str:
    return request.cookies.get("warroom_lang") or who.language or "en"


def render(request: Request, who: Principal, template: str, status: int = 200, **context: Any) -> Response:
    """A page of ``web/templates/pages/`` for ``who``, in their language."""
    lang = language(request, who)
    return templates.TemplateResponse(request, f"pages/{template}", {
        "who": who, "t": page_texts(lang), "lang": lang, "admin": who.role is Role.admin, "errors": {},
        "path": request.url.path, **context}, status_code=status)


def acting(request: Request, who: Principal) -> Actor:
    """The signed-in user as the audit log records them (name, id, address)."""
    return Auth.actor(request, who)


def refusal(exc: ServiceError, default: str = FORM) -> dict[str, str]:
    """A service's refusal as ``{field: message}`` (its own field, else ``default``)."""
    return {exc.field or default: exc.message}


def fragment(request: Request, who: Principal, template: str, **context: Any) -> HTMLResponse:
    """A part of a page (what the page's script swaps in without a reload)."""
    response = render(request, who, template, **context)
    assert isinstance(response, HTMLResponse)
    return response
