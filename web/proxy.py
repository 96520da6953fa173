"""Behind a reverse proxy (Caddy, nginx) that terminates HTTPS: the scheme and the client's address are taken
from ``X-Forwarded-Proto`` / ``X-Forwarded-For`` only when the request comes from a trusted proxy's address
(anyone else could send those headers). So cookies are marked Secure by themselves behind HTTPS, and the
sign-in rate limit and the audit log see the real client."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


class TrustedProxy:
    """ASGI middleware: believe the forwarding headers from ``trusted`` addresses or networks only."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def _trusted(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            if client and self._trusted(str(client[0])):
                scope = dict(scope)
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
                proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else ("wss" if proto == "https" else "ws")
                forwarded_for = _first_hop(headers.get("x-forwarded-for", ""))
                if forwarded_for:
                    scope["client"] = (forwarded_for, 0)
        await self.app(scope, receive, send)


def _first_hop(value: str) -> str | None:
    """The client's address as the nearest trusted proxy saw it (the last entry it appended)."""
    hops = [h.strip() for h in value.split(",") if h.strip()]
    if not hops:
        return None
    try:
        return str(ipaddress.ip_address(hops[-1]))
    except ValueError:
        return None


def forwarded(app: Any, trusted: Iterable[str]) -> None:
    """Install :class:`TrustedProxy` on a FastAPI app (outermost, before sign-in sees the request)."""
    trusted = list(trusted)
    if trusted:
        app.add_middleware(TrustedProxy, trusted=trusted)
