"""The pages every signed-in user has: the start page (the consoles hang off it) and the language switch."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from db.users import Role
from web.deps import Anyone
from web.i18n import texts
from web.rendering import templates

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Anyone) -> Response:
    """Who is signed in, and where to go from here (operators go straight to their console)."""
    if who.role is Role.operator:
        return RedirectResponse("/console", status_code=303)
    if who.role is Role.supervisor:
        return RedirectResponse("/dashboard", status_code=303)
    lang = request.cookies.get("warroom_lang") or who.language
    return templates.TemplateResponse(request, "home.html", {"who": who, "t": texts(lang), "lang": lang})


@router.post("/session/active", status_code=204)
def active(_who: Anyone) -> Response:
    """The user is at their desk (the pages send it on a key or a click, at most once a minute): their
    session's idle time starts again (the sign-in check has written it)."""
    return Response(status_code=204)


@router.post("/language")
def language(request: Request, _who: Anyone, lang: str = "en") -> Response:
    """Switch the interface between English and Hindi (a cookie; needs the CSRF token)."""
    resp = RedirectResponse(request.headers.get("referer") or "/", status_code=303)
    resp.set_cookie("warroom_lang", "hi" if lang == "hi" else "en", httponly=True, samesite="lax")
    return resp
