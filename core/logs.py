"""Logging set up once for the service: plain lines for a terminal, or one JSON object per line (for the
journal: ``journalctl -o cat -u warroom | jq``), with the exception's traceback in the object."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}`` (and ``exception``), one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


# libraries that log every request at INFO (httpx: each ARI HTTP request) or below
QUIET = ("httpx", "httpcore")


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Log to standard error at ``level``, as ``text`` or ``json``; the loggers of ``QUIET`` show only
    warnings and errors."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
