"""How the service logs: our own lines at the configured level, chatty libraries only from WARNING."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# libraries that log every request at INFO (httpx: each ARI HTTP request) or below
QUIET = ("httpx", "httpcore")


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; the loggers of ``QUIET`` show only warnings and errors."""
    logging.basicConfig(level=level.upper(), format=FORMAT)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
