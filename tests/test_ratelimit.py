"""The shared rate limiter: one budget per connection, whichever worker draws from it."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from app.core.db import libpq_conninfo
from app.core.ratelimit import PostgresRateLimiter


@pytest.fixture
def connection_id(database_url) -> uuid.UUID:
    connection_id = uuid.uuid4()
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO connections (id, kind, name) VALUES (%s, 'hubspot', %s)",
            (connection_id, f"limits {connection_id}"),
        )
    return connection_id


def _limiter(database_url, connection_id, waits: list[float]) -> PostgresRateLimiter:
    return PostgresRateLimiter(
        libpq_conninfo(database_url), connection_id, calls_per_10s=100, sleep=waits.append
    )


def test_two_workers_share_one_budget(database_url, connection_id):
    """100 calls per 10 s is 9.7 per second after headroom: two limiters on the same connection
    together get the small burst, then every further call is told to wait its share."""
    waits: list[float] = []
    first, second = (_limiter(database_url, connection_id, waits) for _ in range(2))
    try:
        for _ in range(10):
            first.acquire()
            second.acquire()
    finally:
        first.close()
        second.close()
    # 20 calls at once: 3 free (the burst), 17 in debt; the last must wait up to 17 / 9.7 s
    # (less by whatever time the 20 calls themselves took on a busy machine).
    assert len(waits) >= 16
    assert 1.0 < max(waits) <= 17 / 9.7 + 0.05


def test_a_429_pauses_every_worker_of_the_connection(database_url, connection_id):
    waits: list[float] = []
    first, second = (_limiter(database_url, connection_id, waits) for _ in range(2))
    try:
        first.penalise(5.0)
        second.acquire()
    finally:
        first.close()
        second.close()
    assert waits
    assert waits[-1] == pytest.approx(5.0, abs=0.5)


def test_other_connections_are_not_slowed(database_url, connection_id):
    other = uuid.uuid4()
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO connections (id, kind, name) VALUES (%s, 'hubspot', 'other')", (other,)
        )
    waits: list[float] = []
    busy = _limiter(database_url, connection_id, waits)
    quiet_waits: list[float] = []
    quiet = _limiter(database_url, other, quiet_waits)
    try:
        busy.penalise(30)
        quiet.acquire()
    finally:
        busy.close()
        quiet.close()
    assert quiet_waits == []
