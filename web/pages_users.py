"""The users page (admins only): add a user with a role, disable and enable them, reset a password (shown
once), end their sessions. The same use cases as ``warroom users``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.service import new_password
from core.errors import ServiceError
from web.deps import Admin, Services
from web.inputs import Text
from web.pages_common import acting, refusal, render
from web.services import WebServices

router = APIRouter(tags=["users page"])
Username = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_.-]{1,31}$")]
NO_STORE = {"Cache-Control": "no-store"}


async def _page(request: Request, who: Any, svc: WebServices, status: int = 200, **context: Any) -> Response:
    response = render(request, who, "users.html", status, users=await svc.users.list(), **context)
    response.headers.update(NO_STORE)  # a password shown once is never kept by the browser
    return response


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, who: Admin, svc: Services) -> Response:
    """Every user with role and state, and the form to add one."""
    return await _page(request, who, svc)


@router.post("/users", response_class=HTMLResponse)
async def add_user(request: Request, who: Admin, svc: Services,
                   username: Annotated[Text, Form(max_length=100)], role: Annotated[Text, Form(max_length=20)],
                   name: Annotated[Text, Form(max_length=100)] = "",
                   language: Annotated[Text, Form(max_length=5)] = "en",
                   password: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Add a user; without a password one is made and shown once."""
    chosen = password or new_password()
    form = {"username": username, "role": role, "name": name, "language": language}
    try:
        await svc.users.add(username.strip().lower(), role, chosen, name.strip() or None, language or "en",
                            acting(request, who))
    except ServiceError as exc:
        return await _page(request, who, svc, 422, form=form, errors=refusal(exc, "username"))
    return await _page(request, who, svc, shown={"username": username.strip().lower(),
                                                 "password": None if password else chosen})


@router.post("/users/{username}/{action}", response_class=HTMLResponse)
async def user_action(request: Request, who: Admin, svc: Services, username: Username,
                      action: Literal["disable", "enable", "reset-password", "end-sessions"]) -> Response:
    """Disable (their sessions end at once), enable, reset the password (a new one, shown once) or end every
    session of a user."""
    if action == "reset-password":
        password = await svc.users.reset_password(username, acting(request, who))
        return await _page(request, who, svc, shown={"username": username, "password": password})
    if action == "disable":
        await svc.users.disable(username, acting(request, who))
    elif action == "enable":
        await svc.users.enable(username, acting(request, who))
    else:
        await svc.users.end_sessions(username, acting(request, who))
    return RedirectResponse("/users", status_code=303)
