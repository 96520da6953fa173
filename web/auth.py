"""Sign-in for the consoles and the API: session cookies (HttpOnly, SameSite), a CSRF token on every
state-changing request, roles per route, and deny by default (a path that is not public needs a valid
session before any route sees it). Sign-in is rate limited per address and slowed per user name
(:class:`accounts.ratelimit.SignInLimiter`, used by the user service). A session left idle (no request of
the user's own: automatic refreshes and live streams do not count) ends after ``AuthConfig.idle``; live
streams check their session again on every keep-alive and end when it is gone."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from accounts.service import Principal, UserService
from audit.log import Actor
from db.users import Role
from web.i18n import texts
from web.inputs import Text
from web.rendering import templates as default_templates

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC = ("/healthz", "/signin", "/static/", "/favicon.ico")
SIGNIN_CSRF = "warroom_signin_csrf"
MACHINE_READABLE = ("/api/", "/metrics")  # without a session: 401, not the sign-in page
SIGNED_OUT = "event: signed_out\ndata: {}\n\n"  # a live stream's last message when its session is gone


@dataclass(frozen=True)
class AuthConfig:
    cookie: str = "warroom_session"
    ttl: timedelta = timedelta(hours=12)
    secure_cookie: bool = False  # set when served over HTTPS
    same_site: Literal["lax", "strict"] = "lax"
    # paths a machine may read with ``Authorization: Bearer <token>`` instead of a session (/metrics)
    machine_tokens: tuple[tuple[str, str], ...] = ()
    idle: timedelta | None = timedelta(minutes=30)  # a session unused this long ends (None: never)
    stream_check: float = 15.0  # seconds between a live stream's keep-alives, each checking its session


def background(request: Request) -> bool:
    """A request the page makes by itself (a live stream, a refresh of figures): not the user's activity."""
    path = request.url.path
    return path.endswith("/events") or path == "/metrics" or (
        request.method in SAFE_METHODS and path.startswith("/api/"))


class Auth:
    """Sign-in over ``users``; routes check roles with the guards of :mod:`web.deps`, which call :meth:`check`."""

    def __init__(self, users: UserService, config: AuthConfig | None = None,
                 templates: Jinja2Templates | None = None) -> None:
        self.users, self.templates = users, templates or default_templates
        self.config = config or AuthConfig()

    async def principal(self, request: Request) -> Principal | None:
        token = request.cookies.get(self.config.cookie)
        if not token:
            return None
        cached = request.scope.get("warroom.principal")
        if isinstance(cached, Principal):
            return cached
        who = await self.users.principal(token, idle=self.config.idle, touch=not background(request))
        request.scope["warroom.principal"] = who
        return who

    async def still_valid(self, request: Request, roles: tuple[Role, ...]) -> bool:
        """Whether the request's session is still signed in (not signed out, expired, idle or disabled) with
        one of ``roles``; asked again each time, never from the request's cache."""
        who = await self.users.principal(request.cookies.get(self.config.cookie), idle=self.config.idle)
        return who is not None and who.role in roles

    async def while_signed_in(self, request: Request, roles: tuple[Role, ...],
                              messages: AsyncIterator[str]) -> AsyncIterator[str]:
        """A live stream's ``messages`` for as long as its session lasts: every ``stream_check`` seconds
        (with a keep-alive when nothing else was sent) and on each keep-alive of the stream itself the
        session is checked again; once it is gone the stream says ``signed_out`` and ends."""
        every = self.config.stream_check
        checked = time.monotonic()
        pending: asyncio.Future[str] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(messages))
                done, _ = await asyncio.wait({pending}, timeout=max(0.0, checked + every - time.monotonic()))
                message = None
                if done:
                    try:
                        message = pending.result()
                    except StopAsyncIteration:
                        return
                    finally:
                        pending = None
                if message is None or message.startswith(":") or time.monotonic() - checked >= every:
                    if not await self.still_valid(request, roles):
                        yield SIGNED_OUT
                        return
                    checked = time.monotonic()
                yield ": keep-alive\n\n" if message is None else message
        finally:
            if pending is not None:
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
            aclose = getattr(messages, "aclose", None)
            if aclose is not None:
                await aclose()

    @staticmethod
    def actor(request: Request, who: Principal) -> Actor:
        """Who acts, for the audit log: the signed-in user, from the request's address."""
        return Actor(who.username, who.user_id, request.client.host if request.client else None)

    async def check(self, request: Request, roles: tuple[Role, ...]) -> Principal:
        """The signed-in user if their role is one of ``roles``; unsafe methods also need the session's CSRF
        token (header ``X-CSRF-Token`` or form field ``csrf_token``). 401 or 403 otherwise."""
        who = await self.principal(request)
        if who is None:
            raise HTTPException(401, "sign in first")
        if who.role not in roles:
            raise HTTPException(403, f"not allowed for the {who.role.value} role")
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token")
            if sent is None and "form" in request.headers.get("content-type", ""):
                sent = str((await request.form()).get("csrf_token") or "")
            if not sent or not same_token(sent, who.csrf):
                raise HTTPException(403, "the CSRF token is missing or wrong: reload the page")
        return who

    def machine(self, request: Request) -> bool:
        """A safe request to a machine path carrying that path's bearer token (marked on the request)."""
        if request.method not in SAFE_METHODS:
            return False
        header = request.headers.get("authorization", "")
        for path, token in self.config.machine_tokens:
            if request.url.path == path and header.startswith("Bearer ") and \
                    secrets.compare_digest(header[7:].strip().encode(), token.encode()):
                request.scope["warroom.machine"] = True
                return True
        return False

    def secure(self, request: Request) -> bool:
        """Cookies are Secure when configured so, or by themselves when the request came over HTTPS (behind
        a trusted proxy: :mod:`web.proxy`)."""
        return self.config.secure_cookie or request.url.scheme == "https"

    # -- deny by default --------------------------------------------------------------------------
    def middleware(self) -> type[BaseHTTPMiddleware]:
        auth = self

        class DenyByDefault(BaseHTTPMiddleware):
            async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
                path = request.url.path
                if auth.machine(request):
                    return await call_next(request)
                if path.startswith(PUBLIC) or await auth.principal(request) is not None:
                    return await call_next(request)
                if path.startswith(MACHINE_READABLE) or request.method not in SAFE_METHODS:
                    return JSONResponse({"detail": "sign in first"}, status_code=401)
                return RedirectResponse(f"/signin?next={quote(path)}", status_code=303)

        return DenyByDefault

    # -- sign in and out --------------------------------------------------------------------------
    def router(self) -> APIRouter:
        router = APIRouter(tags=["sign-in"])
        cfg = self.config

        def page(request: Request, error: str | None = None, status: int = 200, next_: str = "/") -> Response:
            # one sign-in token per browser: a second page load (another tab, a prefetch) must not void
            # the form already on screen
            token = request.cookies.get(SIGNIN_CSRF) or secrets.token_urlsafe(24)
            lang = request.query_params.get("lang") or request.cookies.get("warroom_lang") or "en"
            resp = self.templates.TemplateResponse(request, "signin.html", {
                "csrf": token, "error": error, "next": next_, "t": texts(lang), "lang": lang}, status_code=status)
            resp.set_cookie(SIGNIN_CSRF, token, httponly=True, samesite="strict", secure=self.secure(request))
            return resp

        @router.get("/signin", response_class=HTMLResponse)
        def signin_page(request: Request, next: str = "/") -> Response:
            """The sign-in form."""
            return page(request, next_=_local(next))

        @router.post("/signin")
        async def signin(request: Request, username: Annotated[Text, Form()], password: str = Form(...),
                         csrf_token: str = Form(...), next: str = Form("/")) -> Response:
            """Check the password (rate limited), open a session, go on to ``next``."""
            expected = request.cookies.get(SIGNIN_CSRF) or ""
            if not expected or not same_token(expected, csrf_token):
                return page(request, "The form expired: please try again.", 403, _local(next))
            ip = request.client.host if request.client else None
            result = await self.users.sign_in(username, password, ip, cfg.ttl)
            if result.retry_after > 0:
                wait = int(result.retry_after) + 1
                resp = page(request, f"Too many sign-in attempts: try again in {wait} seconds.", 429, _local(next))
                resp.headers["Retry-After"] = str(wait)
                return resp
            if result.token is None:
                return page(request, "Wrong user name or password.", 401, _local(next))
            resp = RedirectResponse(_local(next), status_code=303)
            resp.set_cookie(cfg.cookie, result.token, httponly=True, samesite=cfg.same_site,
                            secure=self.secure(request), max_age=int(cfg.ttl.total_seconds()))
            resp.delete_cookie(SIGNIN_CSRF)
            return resp

        @router.post("/signout")
        async def signout(request: Request) -> Response:
            """End this session (needs its CSRF token like every change)."""
            who = await self.check(request, tuple(Role))
            await self.users.sign_out(request.cookies.get(cfg.cookie) or "", self.actor(request, who))
            resp = RedirectResponse("/signin", status_code=303)
            resp.delete_cookie(cfg.cookie)
            return resp

        return router


def same_token(sent: str, expected: str) -> bool:
    """Compare tokens in constant time, as bytes: ``compare_digest`` raises TypeError on non-ASCII text, and a
    forged token may hold any character (it is then simply wrong)."""
    return secrets.compare_digest(sent.encode(), expected.encode())


def _local(target: str) -> str:
    """Only redirect within this site (``next=//evil.example`` goes home instead)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
