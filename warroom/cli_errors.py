"""Errors on the command line, printed one way: ``error: <message>`` in red on standard error, exit code 1
(a service's typed error, whatever its kind, or a command's own refusal)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer

from core.errors import ServiceError

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` and end the command with ``code``."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def reported() -> Iterator[None]:
    """A service's error raised inside ends the command as :func:`fail` does."""
    try:
        yield
    except ServiceError as exc:
        fail(exc.message)


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a service's use case to its end; its error ends the command as :func:`fail` does."""
    with reported():
        return asyncio.run(work)
