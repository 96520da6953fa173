"""Typed errors raised by the feature services.

A service says *what kind* of failure happened; the web layer maps the kind to an HTTP status once
(``web/errors.py``) and the command line prints it once (``warroom/cli_errors.py``: ``error: <message>``,
exit code 1), so a route and a command can never disagree. The message names the problem and where it
is, in words a user can act on.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service raises on purpose. ``str(error)`` is the message for the user;
    ``field``, when given, names the input it is about (a page shows the message next to that field)."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


class Invalid(ServiceError, ValueError):
    """The request itself is wrong (a bad value, a missing field): fix the input and try again."""

    http_status = 422


class NotFound(ServiceError, LookupError):
    """What the request names does not exist (no such campaign, ticket, user, unit...)."""

    http_status = 404


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (already resolved, already running...)."""

    http_status = 409


class Forbidden(ServiceError):
    """The caller may not do this (role, ownership)."""

    http_status = 403


class Unavailable(ServiceError):
    """A part the request needs is down or not configured (Asterisk link, a softphone not registered)."""

    http_status = 503
