"""The pages every signed-in user has: the start page (the consoles hang off it) and the language switch.

No ``from __future__ import annotations`` here: FastAPI must see the ``Annotated`` role guard, which is
built inside the router function, as a real object."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from accounts.service import Principal
from db.users import Role
from web.auth import Auth
from web.i18n import texts


def pages_router(auth: Auth, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(tags=["pages"])
    Anyone = Annotated[Principal, Depends(auth.require(*Role))]

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, who: Anyone) -> Response:
        """Who is signed in, and where to go from here (operators go straight to their console)."""
        if who.role is Role.operator:
            return RedirectResponse("/console", status_code=303)
        if who.role is Role.supervisor:
            return RedirectResponse("/dashboard", status_code=303)
        lang = request.cookies.get("warroom_lang") or who.language
        return templates.TemplateResponse(request, "home.html", {"who": who, "t": texts(lang), "lang": lang})

    @router.post("/language")
    def language(request: Request, _who: Anyone, lang: str = "en") -> Response:
        """Switch the interface between English and Hindi (a cookie; needs the CSRF token)."""
        resp = RedirectResponse(request.headers.get("referer") or "/", status_code=303)
        resp.set_cookie("warroom_lang", "hi" if lang == "hi" else "en", httponly=True, samesite="lax")
        return resp

    return router
