"""A token bucket per CRM connection, kept in PostgreSQL so that every worker of every
replica draws from the same budget (HubSpot counts calls per app and account, not per
process)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import psycopg

# Run a little under the CRM's limit: its window and our clock never line up exactly, and a
# 429 costs more (a pause for every worker) than the few calls we leave unused.
HEADROOM = 0.97


class PostgresRateLimiter:
    """``acquire`` blocks until the connection may make one more call."""

    def __init__(
        self,
        conninfo: str,
        connection_id: uuid.UUID,
        *,
        calls_per_10s: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conninfo = conninfo
        self.connection_id = connection_id
        self.rate = calls_per_10s * HEADROOM / 10.0
        # A small burst only: a full one would let a fresh bucket overshoot a rolling window.
        self.capacity = max(1.0, calls_per_10s * (1 - HEADROOM))
        self.sleep = sleep
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    def _execute(self, query: str, parameters: tuple[object, ...]) -> tuple[object, ...]:
        with self._lock:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self.conninfo, autocommit=True)
            row = self._connection.execute(query, parameters).fetchone()
        assert row is not None
        return row

    def acquire(self) -> None:
        """Take a token (going into debt if need be) and sleep off any debt or pause."""
        if self.rate <= 0:
            return
        tokens, paused_for = self._execute(
            """
            INSERT INTO connection_rate_limits (connection_id, tokens, refilled_at)
            VALUES (%s, %s - 1, now())
            ON CONFLICT (connection_id) DO UPDATE SET
                tokens = LEAST(%s, connection_rate_limits.tokens
                    + extract(epoch FROM now() - connection_rate_limits.refilled_at) * %s) - 1,
                refilled_at = now()
            RETURNING tokens,
                      greatest(0, extract(epoch FROM paused_until - now()))::float8
            """,
            (self.connection_id, self.capacity, self.capacity, self.rate),
        )
        wait = max(-float(tokens) / self.rate, float(paused_for or 0.0))  # type: ignore[arg-type]
        if wait > 0:
            self.sleep(wait)

    def penalise(self, seconds: float) -> None:
        """Pause every worker of this connection for ``seconds`` (the CRM said 429)."""
        self._execute(
            """
            INSERT INTO connection_rate_limits (connection_id, tokens, paused_until)
            VALUES (%s, 0, now() + make_interval(secs => %s))
            ON CONFLICT (connection_id) DO UPDATE SET
                paused_until = greatest(coalesce(connection_rate_limits.paused_until, now()),
                                        now() + make_interval(secs => %s)),
                tokens = least(connection_rate_limits.tokens, 0)
            RETURNING 1
            """,
            (self.connection_id, seconds, seconds),
        )

    def close(self) -> None:
        """Release the database connection."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
