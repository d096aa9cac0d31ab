"""The webhook inbox writer (group commit), and the inbox's periodic sweep and pruning."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, make_url, select, text, update

from app.core.db import Database, driver_connection, libpq_conninfo
from app.core.errors import BadRequest, NotFound, ServiceUnavailable
from app.inbox import tasks
from app.inbox import writer as inbox_module
from app.inbox.events import InboxEvent
from app.inbox.writer import InboxWriter, queue_inbox_processing
from app.models import Connection, WebhookInbox


def _event(key: str, object_id: str = "1") -> InboxEvent:
    return InboxEvent(key, "company.propertyChange", object_id, {"key": key})


async def _connections(database: Database, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    async with database.transaction() as session:
        session.add_all(Connection(id=i, kind="hubspot", name=f"crm {i}") for i in ids)
    return ids


async def _inbox_keys(database: Database) -> list[tuple[uuid.UUID, str]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WebhookInbox.connection_id, WebhookInbox.dedupe_key).order_by(WebhookInbox.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def _waiting_jobs(database: Database) -> list[str]:
    async with database.transaction() as session:
        connection = await driver_connection(session)
        cursor = await connection.execute(
            "SELECT args->>'connection_id' FROM procrastinate_jobs "
            "WHERE task_name = 'inbox.process' AND status = 'todo' "
            "ORDER BY 1"
        )
        return [row[0] for row in await cursor.fetchall()]  # type: ignore[index]


@pytest.fixture
def statements(monkeypatch) -> list[int]:
    """How many inbox statements the writer ran (a one-item list, counted up)."""
    count = [0]
    store_events = inbox_module.store_events

    async def counting(*args, **kwargs):
        count[0] += 1
        return await store_events(*args, **kwargs)

    monkeypatch.setattr(inbox_module, "store_events", counting)
    return count


async def test_concurrent_deliveries_are_committed_together_each_learning_its_count(
    database, statements
):
    first, second = await _connections(database, 2)
    deliveries = [(first, [_event(f"a{n}"), _event(f"b{n}")]) for n in range(10)]
    deliveries += [(second, [_event("a0")]), (first, [_event("a0")]), (second, [_event("a0")])]
    async with InboxWriter(database) as writer:
        counts = await asyncio.gather(*(writer.store(c, events) for c, events in deliveries))

    # The same event twice (in one batch or across batches) is new only once.
    assert counts == [2] * 10 + [1, 0, 0]
    assert statements[0] < len(deliveries)
    stored = await _inbox_keys(database)
    assert len(stored) == len(set(stored)) == 21
    # One waiting job per connection that got events, however many deliveries it had.
    assert await _waiting_jobs(database) == sorted([str(first), str(second)])


async def test_a_delivery_for_a_deleted_connection_fails_alone(database):
    kept, deleted = await _connections(database, 2)
    async with database.transaction() as session:
        await session.delete(await session.get(Connection, deleted))
    async with InboxWriter(database) as writer:
        results = await asyncio.gather(
            writer.store(kept, [_event("k1")]),
            writer.store(deleted, [_event("d1")]),
            writer.store(kept, [_event("k2")]),
            return_exceptions=True,
        )
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], NotFound)
    assert await _inbox_keys(database) == [(kept, "k1"), (kept, "k2")]


async def test_deliveries_the_database_cannot_store_fail_alone_and_never_take_neighbours_down(
    database,
):
    """A NUL that slipped past parsing (jsonb refuses it) and an id too long to index are
    refused with a 400 each; every other delivery of the same batch is stored."""
    (connection_id,) = await _connections(database, 1)
    too_long = secrets.token_hex(6400)  # 12,800 random characters: beyond a btree row
    poisoned = {
        5: [InboxEvent("nul", "company.propertyChange", "1", {"name": "a\x00b"})],
        9: [_event(too_long)],
    }
    deliveries = [poisoned.get(n, [_event(f"k{n}")]) for n in range(12)]
    async with InboxWriter(database) as writer:
        results = await asyncio.gather(
            *(writer.store(connection_id, events) for events in deliveries),
            return_exceptions=True,
        )

    for n, result in enumerate(results):
        if n in poisoned:
            assert isinstance(result, BadRequest), (n, result)
            assert "cannot be stored" in result.detail
        else:
            assert result == 1, (n, result)
    stored = {key for _, key in await _inbox_keys(database)}
    assert stored == {f"k{n}" for n in range(12) if n not in poisoned}


async def test_an_unreachable_database_is_service_unavailable(settings, monkeypatch):
    monkeypatch.setattr(inbox_module, "CONNECT_TIMEOUT_SECONDS", 0.5)
    nowhere = Database(make_url("postgresql+psycopg://postgres@127.0.0.1:9/nowhere"))
    async with InboxWriter(nowhere) as writer:
        with pytest.raises(ServiceUnavailable):
            await writer.store(uuid.uuid4(), [_event("lost")])
    await nowhere.dispose()


async def test_the_writer_finishes_accepted_work_before_it_stops(database):
    (connection_id,) = await _connections(database, 1)
    writer = InboxWriter(database)
    async with writer:
        pending = [
            asyncio.create_task(writer.store(connection_id, [_event(f"k{n}")])) for n in range(50)
        ]
        await asyncio.sleep(0)  # queued, not yet written
    assert [task.result() for task in pending] == [1] * 50
    assert len(await _inbox_keys(database)) == 50


async def test_the_sweep_queues_processing_for_events_left_waiting(database):
    stale, fresh, done = await _connections(database, 3)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with database.transaction() as session:
        session.add_all(
            [
                WebhookInbox(
                    connection_id=stale, dedupe_key="s", event_type="x", object_id="1", payload={}
                ),
                WebhookInbox(
                    connection_id=fresh, dedupe_key="f", event_type="x", object_id="1", payload={}
                ),
                WebhookInbox(
                    connection_id=done,
                    dedupe_key="d",
                    event_type="x",
                    object_id="1",
                    payload={},
                    processed_at=long_ago,
                ),
            ]
        )
        await session.flush()
        await session.execute(
            update(WebhookInbox)
            .where(WebhookInbox.dedupe_key.in_(["s", "d"]))
            .values(received_at=long_ago)
        )

    assert await tasks.sweep_webhook_inbox(0) == 1
    assert await _waiting_jobs(database) == [str(stale)]
    assert await tasks.sweep_webhook_inbox(0) == 0  # that job is still waiting


async def test_processed_events_are_pruned_after_a_week(database):
    (connection_id,) = await _connections(database, 1)
    now = datetime.now(UTC)
    async with database.transaction() as session:
        session.add_all(
            WebhookInbox(
                connection_id=connection_id,
                dedupe_key=key,
                event_type="x",
                object_id="1",
                payload={},
                processed_at=processed,
            )
            for key, processed in [
                ("old", now - timedelta(days=8)),
                ("recent", now - timedelta(days=6)),
                ("pending", None),
            ]
        )
    assert await tasks.prune_webhook_inbox(0) == 1
    async with database.transaction() as session:
        left = await session.scalars(select(WebhookInbox.dedupe_key).order_by(WebhookInbox.id))
        assert list(left.all()) == ["recent", "pending"]
        assert await session.scalar(select(func.count()).select_from(WebhookInbox)) == 2


_JOB_COLUMNS = "queue_name, task_name, priority, lock, queueing_lock, args, status, scheduled_at"


async def _job_rows(database: Database) -> list[tuple]:
    async with database.transaction() as session:
        connection = await driver_connection(session)
        cursor = await connection.execute(f"SELECT {_JOB_COLUMNS} FROM procrastinate_jobs")
        return list(await cursor.fetchall())


async def test_the_writer_queues_the_very_job_procrastinate_would(database):
    """The writer defers through procrastinate's SQL function itself (one statement); the row
    must equal what procrastinate's own defer makes, so a worker runs it the same way."""
    (connection_id,) = await _connections(database, 1)
    async with InboxWriter(database) as writer:
        await writer.store(connection_id, [_event("k1")])
    ours = await _job_rows(database)
    async with database.transaction() as session:
        await session.execute(text("DELETE FROM procrastinate_jobs"))
        await queue_inbox_processing(await driver_connection(session), connection_id)
    assert ours == await _job_rows(database)
    assert len(ours) == 1


async def test_a_job_queued_meanwhile_elsewhere_is_not_queued_twice(
    database, database_url, statements
):
    """Another replica queues the connection's job between this batch's check and its insert:
    the batch loses on the queueing lock, writes nothing, and is written again."""
    (connection_id,) = await _connections(database, 1)
    async with InboxWriter(database) as writer:
        other = await psycopg.AsyncConnection.connect(libpq_conninfo(database_url))
        async with other, other.transaction():
            await queue_inbox_processing(other, connection_id)
            stored = asyncio.create_task(writer.store(connection_id, [_event("k1")]))
            await asyncio.sleep(0.3)  # its insert now waits on our uncommitted job
            assert not stored.done()
        assert await stored == 1
    assert statements[0] == 2
    assert await _waiting_jobs(database) == [str(connection_id)]
    assert len(await _inbox_keys(database)) == 1
