"""Webhooks out: events from verdict changes, signed delivery, retries on schedule,
endpoints disabled after days of failure, and the address guard at send time."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core.db import driver_connection
from app.jobs import defer_all
from app.models import (
    Account,
    AccountScore,
    Connection,
    IcpVersion,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from app.subscriptions import delivery
from app.subscriptions.delivery import RETRY_DELAYS
from app.subscriptions.pipeline import deliver_due
from app.subscriptions.repository import record_verdict_events
from app.subscriptions.schemas import EndpointCreate
from app.subscriptions.service import create_endpoint
from app.verdicts.repository import ScoreRow, stage_verdicts
from connectors.sandbox.common.server import start_server

ALL_EVENTS = ["account.tier_changed", "account.became_mql", "account.became_sql"]


@dataclass
class Receiver:
    """A subscriber that records what it gets and fails the first ``failures`` requests."""

    failures: int = 0
    requests: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.requests.append((body, dict(request.headers)))
            failing = len(self.requests) <= self.failures
        return Response("nope", status_code=503) if failing else Response(status_code=204)


@pytest.fixture
def receiver():
    """A running receiver and its URL."""
    state = Receiver()
    app = Starlette(routes=[Route("/hook", state.handle, methods=["POST"])])
    with start_server(app) as server:
        yield state, f"{server.url}/hook"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Verdict:
    score: int
    tier: str
    is_mql: bool = False
    is_sql: bool = False


async def _world(database, *, accounts: int) -> tuple[list[int], uuid.UUID]:
    """A CRM connection with ``accounts`` accounts and an ICP version."""
    async with database.transaction() as session:
        connection = Connection(id=uuid.uuid4(), kind="hubspot", name="HubSpot")
        version = IcpVersion(id=uuid.uuid4(), name="Core", version=3, definition={})
        session.add_all([connection, version])
        await session.flush()
        rows = [
            Account(connection_id=connection.id, external_id=f"crm-{i}", name=f"Co {i}", data={})
            for i in range(accounts)
        ]
        session.add_all(rows)
        await session.flush()
        return [a.id for a in rows], version.id


async def _set_current(database, version_id, verdicts: dict[int, Verdict]) -> None:
    async with database.transaction() as session:
        for account_id, v in verdicts.items():
            session.add(
                AccountScore(
                    account_id=account_id,
                    icp_version_id=version_id,
                    score=v.score,
                    tier=v.tier,
                    is_mql=v.is_mql,
                    is_sql=v.is_sql,
                    excluded=False,
                    coverage=1.0,
                    reasons="",
                    scored_at=datetime.now(UTC),
                )
            )


async def _stage(
    database, version_id, verdicts: dict[int, Verdict], *, scored_at: datetime | None = None
) -> None:
    """Stage new verdicts as the score write path does and run the event step on them."""
    rows = [
        ScoreRow(account_id, v.score, v.tier, v.is_mql, v.is_sql, False, 1.0, "")
        for account_id, v in verdicts.items()
    ]
    async with database.transaction() as session:
        connection = await driver_connection(session)
        async with connection.cursor() as cursor:
            staged = await stage_verdicts(
                cursor, rows, icp_version_id=version_id, scored_at=scored_at or datetime.now(UTC)
            )
            reaction = await record_verdict_events(staged)
        await defer_all(connection, reaction.jobs)


async def _endpoint(database, url: str, events: list[str] = ALL_EVENTS) -> tuple[uuid.UUID, str]:
    async with database.transaction() as session:
        created = await create_endpoint(
            session, body=EndpointCreate.model_validate({"url": url, "events": events})
        )
        return created.endpoint.id, created.secret


async def _events(database) -> list[tuple[str, int, dict[str, Any]]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WebhookEvent.event_type, WebhookEvent.account_id, WebhookEvent.payload).order_by(
                WebhookEvent.account_id, WebhookEvent.event_type
            )
        )
        return [(r[0], r[1], r[2]) for r in rows.all()]


async def _attempts(database, endpoint_id) -> list[WebhookDelivery]:
    async with database.transaction() as session:
        result = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.event_id, WebhookDelivery.attempt)
        )
        return list(result.all())


async def _queued_deliveries(database) -> int:
    async with database.transaction() as session:
        connection = await driver_connection(session)
        cursor = await connection.execute(
            "SELECT count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'subscriptions.deliver' AND status = 'todo'"
        )
        row = await cursor.fetchone()
        return int(row[0])  # type: ignore[index]


@pytest.fixture(autouse=True)
def _private_targets_allowed(monkeypatch):
    """The receiver listens on loopback."""
    monkeypatch.setattr(delivery, "private_targets_allowed", lambda: True)


async def test_verdict_changes_become_events_with_old_and_new(database, receiver):
    (a, b, c, d), version_id = await _world(database, accounts=4)
    await _endpoint(database, receiver[1])
    await _set_current(
        database,
        version_id,
        {a: Verdict(40, "C"), d: Verdict(70, "B", is_mql=True)},
    )
    scored_at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    await _stage(
        database,
        version_id,
        {
            a: Verdict(90, "A", is_mql=True, is_sql=True),  # tier, MQL and SQL all change
            b: Verdict(60, "B"),  # first verdict, not an MQL: nothing to announce
            c: Verdict(75, "B", is_mql=True),  # first verdict, an MQL
            d: Verdict(72, "B", is_mql=True),  # score moved, tier and flags did not
        },
        scored_at=scored_at,
    )

    events = await _events(database)
    assert [(t, account) for t, account, _ in events] == [
        ("account.became_mql", a),
        ("account.became_sql", a),
        ("account.tier_changed", a),
        ("account.became_mql", c),
    ]
    payload = events[2][2]
    assert uuid.UUID(payload.pop("connection_id"))
    assert datetime.fromisoformat(payload.pop("occurred_at")) == scored_at
    assert payload == {
        "account_id": a,
        "external_id": "crm-0",
        "name": "Co 0",
        "old": {"score": 40, "tier": "C", "is_mql": False, "is_sql": False},
        "new": {"score": 90, "tier": "A", "is_mql": True, "is_sql": True},
        "icp_version": "Core v3",
    }
    assert events[3][2]["old"] is None
    # One pending first attempt per event, and a delivery pass queued in the same transaction.
    async with database.transaction() as session:
        pending = (await session.scalars(select(WebhookDelivery.status))).all()
    assert pending == ["pending"] * 4
    assert await _queued_deliveries(database) == 1


async def test_unchanged_verdicts_cause_no_event(database, receiver):
    (a,), version_id = await _world(database, accounts=1)
    await _endpoint(database, receiver[1])
    await _set_current(database, version_id, {a: Verdict(80, "A", is_mql=True, is_sql=True)})
    await _stage(database, version_id, {a: Verdict(85, "A", is_mql=True, is_sql=True)})
    # Losing MQL status is not an event either.
    await _stage(database, version_id, {a: Verdict(85, "A")})
    assert await _events(database) == []
    assert await _queued_deliveries(database) == 0


async def test_no_events_are_recorded_without_an_enabled_endpoint(database, receiver):
    (a,), version_id = await _world(database, accounts=1)
    await _set_current(database, version_id, {a: Verdict(10, "D")})
    await _stage(database, version_id, {a: Verdict(95, "A", is_mql=True, is_sql=True)})
    assert await _events(database) == []
    assert await _queued_deliveries(database) == 0


async def test_only_subscribed_event_types_are_recorded(database, receiver):
    (a,), version_id = await _world(database, accounts=1)
    await _endpoint(database, receiver[1], events=["account.became_sql"])
    await _set_current(database, version_id, {a: Verdict(10, "D")})
    await _stage(database, version_id, {a: Verdict(95, "A", is_mql=True, is_sql=True)})
    assert [t for t, _, _ in await _events(database)] == ["account.became_sql"]


async def test_deliveries_are_signed_per_standard_webhooks(database, receiver):
    state, url = receiver
    (a,), version_id = await _world(database, accounts=1)
    endpoint_id, secret = await _endpoint(database, url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})

    counts = await deliver_due(database, allow_private=True)

    assert (counts.succeeded, counts.failed) == (1, 0)
    [(body, headers)] = state.requests
    message = Webhook(secret).verify(body, headers)
    assert message["type"] == "account.became_mql"
    assert message["data"]["account_id"] == a
    assert message["data"]["new"]["is_mql"] is True
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)
    [attempt] = await _attempts(database, endpoint_id)
    assert (attempt.attempt, attempt.status, attempt.response_status) == (1, "succeeded", 204)
    assert attempt.next_attempt_at is None


async def test_failed_deliveries_are_retried_on_schedule_until_they_succeed(database, receiver):
    state, url = receiver
    state.failures = 8
    clock = Clock()
    (a,), version_id = await _world(database, accounts=1)
    endpoint_id, _ = await _endpoint(database, url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})

    # Attempt 1 fails and attempt 2 is due at once, in the same pass.
    await deliver_due(database, allow_private=True, now=clock)
    assert len(state.requests) == 2
    for delay in RETRY_DELAYS[1:]:
        sent = len(state.requests)
        clock.now += delay - timedelta(seconds=1)
        await deliver_due(database, allow_private=True, now=clock)  # not due yet
        assert len(state.requests) == sent
        clock.now += timedelta(seconds=1)
        await deliver_due(database, allow_private=True, now=clock)
        assert len(state.requests) == sent + 1

    attempts = await _attempts(database, endpoint_id)
    assert [d.attempt for d in attempts] == list(range(1, 10))
    assert [d.status for d in attempts] == ["failed"] * 8 + ["succeeded"]
    assert [d.response_status for d in attempts] == [503] * 8 + [204]
    assert [d.next_attempt_at - d.attempted_at for d in attempts[:-1]] == [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert [d.attempted_at for d in attempts[1:]] == [d.next_attempt_at for d in attempts[:-1]]
    assert attempts[-1].next_attempt_at is None
    assert len(state.requests) == 9
    assert len({headers["webhook-id"] for _, headers in state.requests}) == 1
    async with database.transaction() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None
    assert endpoint.failing_since is None and endpoint.disabled_at is None


async def test_a_retry_due_within_the_minute_gets_a_pass_scheduled_for_it(database, receiver):
    """The 5-second retry must not wait for the minute's periodic pass; the 5-minute one
    may."""
    from app.subscriptions.tasks import schedule_retry_pass

    state, url = receiver
    state.failures = 3
    clock = Clock()
    (a,), version_id = await _world(database, accounts=1)
    await _endpoint(database, url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})

    await deliver_due(database, allow_private=True, now=clock)  # attempts 1 and 2 fail
    async with database.transaction() as session:
        assert await schedule_retry_pass(session, now=clock.now) is not None
    async with database.transaction() as session:
        connection = await driver_connection(session)
        cursor = await connection.execute(
            "SELECT queueing_lock, extract(epoch FROM scheduled_at - now()) FROM procrastinate_jobs "
            "WHERE task_name = 'subscriptions.deliver' AND scheduled_at IS NOT NULL"
        )
        ((queueing_lock, wait),) = await cursor.fetchall()
    assert queueing_lock == "deliver_webhooks_retry"
    assert 3 < wait <= 6  # due 5 s after the failed attempt
    # An immediate pass can still be queued beside the scheduled one.
    assert await _queued_deliveries(database) == 2

    clock.now += timedelta(seconds=5)
    await deliver_due(database, allow_private=True, now=clock)  # attempt 3 fails: next in 5 min
    async with database.transaction() as session:
        assert await schedule_retry_pass(session, now=clock.now) is None


async def test_a_message_is_given_up_after_nine_attempts(database, receiver):
    state, url = receiver
    state.failures = 1000
    clock = Clock()
    (a,), version_id = await _world(database, accounts=1)
    endpoint_id, _ = await _endpoint(database, url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})
    for delay in RETRY_DELAYS:
        await deliver_due(database, allow_private=True, now=clock)
        clock.now += delay
    clock.now += timedelta(days=1)
    await deliver_due(database, allow_private=True, now=clock)

    attempts = await _attempts(database, endpoint_id)
    assert [d.status for d in attempts] == ["failed"] * 9
    assert attempts[-1].next_attempt_at is None
    assert len(state.requests) == 9


async def test_an_endpoint_failing_for_five_days_is_disabled(database, receiver):
    state, url = receiver
    state.failures = 1000
    clock = Clock()
    (a, b), version_id = await _world(database, accounts=2)
    endpoint_id, _ = await _endpoint(database, url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})
    await deliver_due(database, allow_private=True, now=clock)  # attempts 1 and 2 fail
    first_failure = clock.now

    clock.now += timedelta(days=5) - timedelta(seconds=1)
    await deliver_due(database, allow_private=True, now=clock)  # attempt 3: still enabled
    async with database.transaction() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None
    assert endpoint.failing_since == first_failure and endpoint.disabled_at is None

    clock.now += timedelta(seconds=300)
    await deliver_due(database, allow_private=True, now=clock)  # attempt 4: five days on
    async with database.transaction() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None
    assert endpoint.disabled_at == clock.now
    sent = len(state.requests)
    assert sent == 4

    # Disabled: its pending attempt is cancelled, and new verdicts make no events for it.
    await _stage(database, version_id, {b: Verdict(75, "B", is_mql=True)})
    clock.now += timedelta(days=1)
    await deliver_due(database, allow_private=True, now=clock)
    assert len(state.requests) == sent
    attempts = await _attempts(database, endpoint_id)
    assert [d.status for d in attempts] == ["failed"] * 4 + ["cancelled"]
    assert [t for t, _, _ in await _events(database)] == ["account.became_mql"]


async def test_a_target_that_now_resolves_to_a_private_address_is_refused_at_send_time(
    database, receiver, monkeypatch
):
    state, url = receiver
    public_url = url.replace("127.0.0.1", "hooks.example.com")
    (a,), version_id = await _world(database, accounts=1)
    monkeypatch.setattr(delivery, "resolve_host", lambda host, port: ["93.184.215.14"])
    monkeypatch.setattr(delivery, "private_targets_allowed", lambda: False)
    endpoint_id, _ = await _endpoint(database, public_url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})

    # The name now points into our network (DNS rebinding).
    monkeypatch.setattr(delivery, "resolve_host", lambda host, port: ["10.1.2.3"])
    await deliver_due(database, allow_private=False, now=Clock())

    assert state.requests == []
    first, second, *_ = await _attempts(database, endpoint_id)
    assert first.status == "failed" and first.response_status is None
    assert first.error is not None and first.error.startswith("refused:")
    assert "10.1.2.3" in first.error
    assert second.status == "failed"  # the immediate retry is refused as well


async def test_deliveries_are_listed_newest_first(database, receiver, app_client, read_headers):
    state, url = receiver
    state.failures = 1
    (a,), version_id = await _world(database, accounts=1)
    endpoint_id, _ = await _endpoint(database, url, events=["account.became_mql"])
    await _stage(database, version_id, {a: Verdict(75, "B", is_mql=True)})
    await deliver_due(database, allow_private=True)

    response = await app_client.get(
        f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=read_headers
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["attempt"], i["status"], i["response_status"]) for i in items] == [
        (2, "succeeded", 204),
        (1, "failed", 503),
    ]
    assert items[0]["event_type"] == "account.became_mql"
    assert items[1]["error"] == "nope"
