"""The daily ICP health check: each alert announced once when it first appears (again if it
clears and comes back), signed like every outgoing webhook, and its figures on /metrics."""

from __future__ import annotations

from typing import Any

import pytest
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.routing import Route

from app.subscriptions import delivery
from app.subscriptions.pipeline import deliver_due
from app.subscriptions.schemas import EndpointCreate
from app.subscriptions.service import create_endpoint
from connectors.sandbox.common.server import start_server
from tests.api.test_health import (
    activate_example,
    crm_connection,
    population,
    set_activated_days_ago,
    store,
)
from tests.test_webhook_delivery import Receiver


@pytest.fixture
def receiver():
    """A subscriber that records what it gets, and its URL."""
    state = Receiver()
    app = Starlette(routes=[Route("/hook", state.handle, methods=["POST"])])
    with start_server(app) as server:
        yield state, f"{server.url}/hook"


@pytest.fixture(autouse=True)
def _private_targets_allowed(monkeypatch):
    """The receiver listens on loopback."""
    monkeypatch.setattr(delivery, "private_targets_allowed", lambda: True)


async def _subscribe(database, url: str, events: list[str]) -> str:
    async with database.transaction() as session:
        created = await create_endpoint(
            session, body=EndpointCreate.model_validate({"url": url, "events": events})
        )
    return created.secret


async def _daily_check() -> dict[str, Any] | None:
    """The periodic job's body, as the worker runs it."""
    from app.health.tasks import check_icp_health_daily

    return await check_icp_health_daily(timestamp=0)


async def test_an_alert_is_announced_when_it_first_appears_and_not_while_it_persists(
    database,
    database_url,
    receiver,
    example_icp_yaml,
):
    state, url = receiver
    secret = await _subscribe(database, url, ["icp.health_alert"])
    await _subscribe(database, url + "?tiers", ["account.tier_changed"])  # hears nothing here
    await activate_example(database, example_icp_yaml)
    connection = await crm_connection(database)
    await store(database, connection.id, population(300, seed=1))

    quiet = await _daily_check()  # the baseline is taken; nothing to say at 0 days
    set_activated_days_ago(database_url, 100)
    first = await _daily_check()
    await deliver_due(database, allow_private=True)
    persisting = await _daily_check()
    await deliver_due(database, allow_private=True)

    assert quiet == {"icp_version": "US new media, post-Series A v1", "alerts": 0, "announced": 0}
    assert first is not None and (first["alerts"], first["announced"]) == (1, 1)
    assert persisting is not None and (persisting["alerts"], persisting["announced"]) == (1, 0)
    [(body, headers)] = state.requests
    message = Webhook(secret).verify(body, headers)
    assert message["type"] == "icp.health_alert"
    assert message["data"]["alert"]["kind"] == "age"
    assert message["data"]["status"] == "review_soon"
    assert message["data"]["age_days"] == 100
    assert message["data"]["icp_version"] == "US new media, post-Series A v1"


async def test_an_alert_that_clears_and_comes_back_is_announced_again(
    database,
    database_url,
    receiver,
    example_icp_yaml,
):
    state, url = receiver
    secret = await _subscribe(database, url, ["icp.health_alert"])
    await activate_example(database, example_icp_yaml)
    connection = await crm_connection(database)
    await store(database, connection.id, population(300, seed=1))

    announced = []
    for days in (100, 100, 10, 100, 200):  # appears, persists, clears, returns, escalates
        set_activated_days_ago(database_url, days)
        check = await _daily_check()
        assert check is not None
        announced.append(check["announced"])
    await deliver_due(database, allow_private=True)

    assert announced == [1, 0, 0, 1, 1]
    statuses = [Webhook(secret).verify(b, h)["data"]["status"] for b, h in state.requests]
    assert sorted(statuses) == ["review_soon", "review_soon", "stale"]


async def test_the_daily_check_does_nothing_without_an_active_icp(database):
    assert await _daily_check() is None


async def test_the_latest_check_is_exported_on_metrics(
    app_client, database, database_url, example_icp_yaml
):
    await activate_example(database, example_icp_yaml)
    connection = await crm_connection(database)
    await store(database, connection.id, population(300, seed=1))
    set_activated_days_ago(database_url, 200)
    await _daily_check()

    text = (await app_client.get("/metrics")).text

    lines = set(text.splitlines())
    assert "icp_sync_icp_age_days 200.0" in lines
    assert 'icp_sync_icp_health_status{status="stale"} 1.0' in lines
    assert 'icp_sync_icp_health_status{status="ok"} 0.0' in lines
    assert 'icp_sync_icp_health_alerts{kind="age"} 1.0' in lines
    assert 'icp_sync_icp_health_alerts{kind="field_drift"} 0.0' in lines
    assert "icp_sync_icp_tier_psi 0.0" in lines
    assert 'icp_sync_icp_psi{field="industry"} 0.0' in lines
    assert any(
        line.startswith("icp_sync_icp_health_checked_timestamp_seconds 1.") for line in lines
    )
