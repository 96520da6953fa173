"""Security headers on every answer (pages, API, errors, redirects):

- ``Content-Security-Policy``: scripts and styles only from this site or carrying the request's nonce
  (``{{ nonce }}`` in the templates), nothing framed, no plugins, forms only to this site;
- ``X-Frame-Options: DENY`` (for browsers without ``frame-ancestors``), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin``, ``Cross-Origin-Opener-Policy: same-origin``, no camera or location, and
  the microphone only for this site's own pages when they offer the browser phone (its secure WebSocket,
  on Asterisk's HTTPS port, is then the one other place the pages may connect to);
- ``Cache-Control: no-store`` unless the route chose its own (static files): a shared desk's browser keeps
  no page, figure or secret after its user has gone.

A plain ASGI middleware (not ``BaseHTTPMiddleware``): it leaves live streams alone."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NONCE = "csp_nonce"


def policy(nonce: str, connect: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy with ``nonce``; ``connect``: origins the pages may connect to beside
    their own (the browser phone's WebSocket)."""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self'",
        " ".join(("connect-src 'self'", *connect)),
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


FIXED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
NO_MICROPHONE = "camera=(), microphone=(), geolocation=()"
MICROPHONE = "camera=(), microphone=(self), geolocation=()"


class SecurityHeaders:
    """Adds the headers above; the nonce is ``request.state.csp_nonce`` for the templates. ``phone``, given
    the host name a page was asked for, says the browser phone's WebSocket origin (None: no browser phone:
    no microphone, no other connection)."""

    def __init__(self, app: ASGIApp, phone: Callable[[str], str | None] = lambda _host: None) -> None:
        self.app, self.phone = app, phone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})[NONCE] = nonce
        host = Headers(scope=scope).get("host", "").strip()
        host = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0] \
            if host.count(":") == 1 else host
        origin = self.phone(host) if host else None
        csp = policy(nonce, (origin,) if origin else ())
        permissions = MICROPHONE if origin else NO_MICROPHONE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-security-policy"] = csp
                headers["permissions-policy"] = permissions
                for name, value in FIXED.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
