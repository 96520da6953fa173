"""What routes depend on, in one style: who may call them (``who: Staff``) and the services they use
(``svc: Services``), both found on ``request.app.state`` (:func:`web.app.create_app` puts them there).

The aliases are module-level objects, so route modules may use them in annotations as they like."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from accounts.service import Principal
from accounts.service import session_id as stored_session_id
from audit.log import Actor
from db.users import Role
from web.auth import Auth
from web.services import WebServices


def _auth(request: Request) -> Auth:
    auth = getattr(request.app.state, "auth", None)
    if not isinstance(auth, Auth):
        raise HTTPException(401, "sign-in is not set up in this app")
    return auth


def auth(request: Request) -> Auth:
    """The app's sign-in (live streams ask it whether their session still holds)."""
    return _auth(request)


async def acting(request: Request) -> Actor:
    """Who acts, for the audit log: the signed-in user (the guard has checked them) from their address."""
    found = _auth(request)
    who = await found.principal(request)
    if who is None:
        raise HTTPException(401, "sign in first")
    return found.actor(request, who)


def require(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: a signed-in user with one of ``roles`` (and, on unsafe methods, the CSRF token)."""
    async def guard(request: Request) -> Principal:
        return await _auth(request).check(request, roles)

    return guard


async def staff_or_machine(request: Request) -> Principal | None:
    """A supervisor's or admin's session, or the path's bearer token (checked, and marked on the request,
    by the deny-by-default middleware): None for a machine."""
    if request.scope.get("warroom.machine"):
        return None
    return await _auth(request).check(request, (Role.supervisor, Role.admin))


def session_id(request: Request) -> str:
    """The id of the request's signed-in session (call after a guard: the session is valid)."""
    token = request.cookies.get(_auth(request).config.cookie)
    if not token:
        raise HTTPException(401, "sign in first")
    return stored_session_id(token)


def services(request: Request) -> WebServices:
    """The services the routes call."""
    found = getattr(request.app.state, "services", None)
    assert isinstance(found, WebServices), "create_app(services, ...) stores them"
    return found


ALL_ROLES: tuple[Role, ...] = tuple(Role)
OPERATOR_ROLES = (Role.operator,)
STAFF_ROLES = (Role.supervisor, Role.admin)
Anyone = Annotated[Principal, Depends(require(*Role))]
Operator = Annotated[Principal, Depends(require(Role.operator))]
Staff = Annotated[Principal, Depends(require(Role.supervisor, Role.admin))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
StaffOrMachine = Annotated[Principal | None, Depends(staff_or_machine)]
Services = Annotated[WebServices, Depends(services)]
Acting = Annotated[Actor, Depends(acting)]
SignIn = Annotated[Auth, Depends(auth)]
SessionId = Annotated[str, Depends(session_id)]
