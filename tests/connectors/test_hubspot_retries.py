"""How the connector lives with an unreliable HubSpot: retries, backoff, rate limits, auth."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hubspot import HubSpot

from connectors.base import FatalError, RetriableError, WriteBack
from connectors.hubspot import HubSpotConnector
from connectors.hubspot.retry import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS
from connectors.sandbox.common.admin_client import SandboxAdmin

VERDICT = {"score": 70, "tier": "B", "is_mql": True, "is_sql": False}


class RecordingRateLimiter:
    """A RateLimiter that lets everything through and remembers what it was told."""

    def __init__(self) -> None:
        self.acquired = 0
        self.penalties: list[float] = []

    def acquire(self) -> None:
        self.acquired += 1

    def penalise(self, seconds: float) -> None:
        self.penalties.append(seconds)


def _backoffs(sleeps: list[float]) -> list[float]:
    # 429 waits are HubSpot's 10-second window; everything shorter is jittered backoff.
    return [s for s in sleeps if s < 10.0]


def test_reads_and_writes_succeed_through_frequent_429s_and_5xx_and_every_attempt_is_observed(
    hubspot_admin: SandboxAdmin,
    hubspot: HubSpot,
    make_connector: Callable[..., HubSpotConnector],
    sleeps: list[float],
) -> None:
    hubspot_admin.reset(seed=4, companies=300, deals_per_company=0)
    ids = [r.id for r in hubspot.crm.companies.basic_api.get_page(limit=100).results]
    healthy = make_connector()
    healthy.ensure_schema()
    expected = {
        r.external_id: r.fields
        for p in healthy.read_pages(cursor=None, full=True)
        for r in p.records
    }
    since = {"modified_since": datetime.now(UTC).isoformat()}
    hubspot_admin.faults(error_rate=0.3, status_codes=[429, 500, 503], seed=8)
    calls_before = hubspot_admin.stats()["total"]
    answered: list[str] = []
    connector = make_connector(observe_call=answered.append)

    records = [r for p in connector.read_pages(cursor=None, full=True) for r in p.records]
    results = connector.write_batch([WriteBack(i, VERDICT) for i in ids])  # POST
    changed = [r for p in connector.read_pages(cursor=since, full=False) for r in p.records]  # POST

    assert {r.external_id: r.fields for r in records} == expected
    assert all(r.ok for r in results)
    assert {r.external_id for r in changed} == set(ids)
    # properties, 3 live pages, 1 archived, 1 batch update, 1 search: 7 calls without faults
    assert connector.api_calls == hubspot_admin.stats()["total"] - calls_before
    assert connector.api_calls > 7
    assert len(answered) == connector.api_calls
    assert set(answered) <= {"200", "429", "500", "503"}
    assert answered.count("429") == hubspot_admin.stats()["rate_limited"] >= 1
    assert answered.count("200") == 7
    assert hubspot_admin.stats()["rate_limited"] >= 1
    assert 10.0 in sleeps  # a 429 waits out HubSpot's rolling window
    backoffs = _backoffs(sleeps)
    assert len(backoffs) >= 2
    assert len(set(backoffs)) == len(backoffs)  # jittered, not fixed
    assert all(0 <= s <= BACKOFF_CAP_SECONDS for s in backoffs)


def test_posts_are_retried_too_batch_updates_and_searches(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, connector: HubSpotConnector, sleeps: list[float]
) -> None:
    ids = [r.id for r in hubspot.crm.companies.basic_api.get_page(limit=5).results]
    connector.ensure_schema()
    connector.read_by_ids(ids[:1])  # property definitions now cached: the next calls are POSTs
    since = {"modified_since": datetime.now(UTC).isoformat()}

    hubspot_admin.faults(
        error_rate=0.5, status_codes=[503], seed=1
    )  # the first call fails, not the next
    results = connector.write_batch([WriteBack(i, VERDICT) for i in ids])
    hubspot_admin.faults(error_rate=0.5, status_codes=[503], seed=1)
    changed = [r for p in connector.read_pages(cursor=since, full=False) for r in p.records]

    assert all(r.ok for r in results)
    assert {r.external_id for r in changed} == set(ids)
    calls = hubspot_admin.stats()["calls"]
    assert calls["POST /crm/v3/objects/companies/batch/update"] == 2
    assert calls["POST /crm/v3/objects/companies/search"] == 2
    assert len(sleeps) == 2


def test_backoff_is_full_jitter_under_an_exponential_ceiling(
    hubspot_admin: SandboxAdmin,
    make_connector: Callable[..., HubSpotConnector],
    sleeps: list[float],
) -> None:
    hubspot_admin.faults(error_rate=1.0, status_codes=[503])
    connector = make_connector(max_attempts=6)

    with pytest.raises(RetriableError, match="after 6 attempts") as failed:
        connector.read_by_ids(["1"])

    assert connector.api_calls == 6
    assert len(sleeps) == 5  # between attempts, not after the last
    for attempt, slept in enumerate(sleeps):
        assert 0 <= slept <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    assert failed.value.retry_after is not None


def test_a_429_pauses_every_worker_through_the_rate_limiter(
    hubspot_admin: SandboxAdmin,
    make_connector: Callable[..., HubSpotConnector],
    sleeps: list[float],
) -> None:
    limiter = RecordingRateLimiter()
    connector = make_connector(rate_limiter=limiter)
    hubspot_admin.faults(error_rate=1.0, status_codes=[429])

    with pytest.raises(RetriableError) as limited:
        connector.read_by_ids(["1"])

    assert limiter.acquired == connector.api_calls == 6
    assert limiter.penalties == [10.0] * 5
    assert sleeps == []  # the limiter does the waiting
    assert limited.value.retry_after == 10.0


def test_the_search_limit_of_a_second_is_waited_out_and_retried(
    hubspot_admin: SandboxAdmin, make_connector: Callable[..., HubSpotConnector]
) -> None:
    hubspot_admin.rate_limit(190, search_per_second=1)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        time.sleep(seconds)

    connector = make_connector(sleep=sleep)
    since = {"modified_since": datetime.now(UTC).isoformat()}

    list(connector.read_pages(cursor=since, full=False))
    list(connector.read_pages(cursor=since, full=False))

    assert waited == [1.0]
    assert hubspot_admin.stats()["rate_limited"] == 1


def test_every_call_goes_through_the_rate_limiter(
    make_connector: Callable[..., HubSpotConnector],
) -> None:
    limiter = RecordingRateLimiter()
    connector = make_connector(rate_limiter=limiter)

    list(connector.read_pages(cursor=None, full=True))
    connector.ensure_schema()

    assert limiter.acquired == connector.api_calls > 3


@pytest.mark.parametrize(
    "operation",
    [
        lambda c: list(c.read_pages(cursor=None, full=True)),
        lambda c: c.read_by_ids(["1"]),
        lambda c: c.write_batch([WriteBack("1", VERDICT)]),
        lambda c: c.ensure_schema(),
    ],
    ids=["read_pages", "read_by_ids", "write_batch", "ensure_schema"],
)
def test_an_invalid_token_is_fatal_at_once_with_a_clear_message(
    make_connector: Callable[..., HubSpotConnector],
    sleeps: list[float],
    operation: Callable[[HubSpotConnector], object],
) -> None:
    connector = make_connector(access_token="revoked-token")

    with pytest.raises(FatalError, match=r"HubSpot refused the access token \(401\)"):
        operation(connector)

    assert connector.api_calls == 1
    assert sleeps == []


def test_a_timed_out_call_is_retried(
    hubspot_admin: SandboxAdmin,
    make_connector: Callable[..., HubSpotConnector],
    sleeps: list[float],
) -> None:
    expected = [r for p in make_connector().read_pages(cursor=None, full=True) for r in p.records]
    # Half the calls hang for a second; the client gives up after 0.2 s.
    hubspot_admin.faults(timeout_rate=0.5, timeout_seconds=1.0, seed=1)
    connector = make_connector(timeout=0.2)
    calls_before = hubspot_admin.stats()["total"]

    records = connector.read_by_ids([r.external_id for r in expected])

    assert [r.fields for r in records] == [r.fields for r in expected]
    assert (
        connector.api_calls == hubspot_admin.stats()["total"] - calls_before
    )  # none retried unseen
    assert connector.api_calls > 2  # the property definitions and one batch read, plus retries
    assert len(sleeps) == connector.api_calls - 2


def test_a_gateway_timeout_answer_is_retried_like_a_5xx(
    hubspot_admin: SandboxAdmin,
    make_connector: Callable[..., HubSpotConnector],
    sleeps: list[float],
) -> None:
    # The sandbox answers 504 once its hang ends before the client's patience does.
    hubspot_admin.faults(timeout_rate=0.5, timeout_seconds=0.05, seed=1)
    connector = make_connector(timeout=5.0)

    records = [r for p in connector.read_pages(cursor=None, full=True) for r in p.records]

    assert len(records) == 50
    assert len(sleeps) == connector.api_calls - 3 > 0


def test_an_unreachable_hubspot_is_retried_then_reported_retriable(sleeps: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connector = HubSpotConnector(
        access_token="t", base_url=f"http://127.0.0.1:{port}", sleep=sleeps.append, max_attempts=3
    )

    with pytest.raises(RetriableError, match=r"after 3 attempts.*NewConnectionError"):
        connector.read_by_ids(["1"])

    assert connector.api_calls == 3
    assert len(sleeps) == 2
