"""How the Salesforce connector lives with an unreliable org: retries, backoff, API allocation,
sign-in and expired sessions, refused credentials."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from simple_salesforce import Salesforce

from connectors.base import FatalError, RetriableError, WriteBack
from connectors.salesforce import SalesforceConnector
from connectors.salesforce.retry import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS
from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import SandboxServer
from tests.connectors.salesforce_fixtures import SF_LOGIN, SF_OAUTH_CLIENT, SF_REFRESH_TOKEN

VERDICT = {"score": 70, "tier": "B", "is_mql": True, "is_sql": False}
SOAP_LOGIN = "POST /services/Soap/u/{version}"
TOKEN = "POST /services/oauth2/token"


class RecordingRateLimiter:
    """A RateLimiter that lets everything through and remembers what it was told."""

    def __init__(self) -> None:
        self.acquired = 0
        self.penalties: list[float] = []

    def acquire(self) -> None:
        self.acquired += 1

    def penalise(self, seconds: float) -> None:
        self.penalties.append(seconds)


def _everything(connector: SalesforceConnector) -> dict[str, dict[str, Any]]:
    return {
        r.external_id: r.fields
        for page in connector.read_pages(cursor=None, full=True)
        for r in page.records
    }


def test_reads_and_writes_succeed_through_30_percent_5xx_and_timeouts_and_every_attempt_is_observed(
    sf_admin: SandboxAdmin,
    sf: Salesforce,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="connectors.salesforce.retry")
    sf_admin.reset(seed=4, companies=2500, deals_per_company=0)
    expected = _everything(make_sf_connector())
    ids = sorted(expected)[:1000]
    since = {"modified_since": datetime.now(UTC).isoformat()}
    # About 30% of calls fail: one in ten hangs past the client's patience, a quarter of the
    # rest answer a 5xx.
    sf_admin.faults(
        error_rate=0.25, status_codes=[500, 502, 503], timeout_rate=0.1, timeout_seconds=1.0, seed=3
    )
    calls_before = sf_admin.stats()["total"]
    answered: list[str] = []
    connector = make_sf_connector(timeout=0.3, observe_call=answered.append)

    read = _everything(connector)  # describe, query, one more page: 3 calls
    results = [  # 5 PATCHes
        result
        for start in range(0, 1000, 200)
        for result in connector.write_batch(
            [WriteBack(i, VERDICT) for i in ids[start : start + 200]]
        )
    ]
    changed = [r for p in connector.read_pages(cursor=since, full=False) for r in p.records]  # 1
    by_id = connector.read_by_ids(ids)  # 5 queries
    report = connector.ensure_schema()  # 1 describe

    assert read == expected
    assert all(r.ok for r in results)
    assert {r.external_id for r in changed} == set(ids)
    assert [r.external_id for r in by_id] == ids
    assert report.ok
    assert connector.api_calls == sf_admin.stats()["total"] - calls_before  # every attempt counted
    assert connector.api_calls > 15  # 15 calls without faults
    assert len(sleeps) == connector.api_calls - 15
    assert len(answered) == connector.api_calls
    assert {"200", "no_answer"} <= set(answered) <= {"200", "201", "500", "502", "503", "no_answer"}
    assert len(set(sleeps)) == len(sleeps)  # jittered, not fixed
    assert all(0 <= s <= BACKOFF_CAP_SECONDS for s in sleeps)
    retried = " ".join(caplog.messages)
    assert "ReadTimeout" in retried
    assert "SERVER_UNAVAILABLE" in retried


def test_backoff_is_full_jitter_under_an_exponential_ceiling_then_gives_up_retriable(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
) -> None:
    sf_admin.faults(error_rate=1.0, status_codes=[503])
    connector = make_sf_connector(max_attempts=6)

    with pytest.raises(RetriableError, match=r"after 6 attempts.*503") as failed:
        list(connector.read_pages(cursor=None, full=True))

    assert connector.api_calls == 6 == sf_admin.stats()["total"]
    assert len(sleeps) == 5  # between attempts, not after the last
    for attempt, slept in enumerate(sleeps):
        assert 0 <= slept <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    assert failed.value.retry_after is not None


def test_request_limit_exceeded_stops_at_once_and_pauses_every_worker(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
) -> None:
    sf_admin.post("limits", {"used": 15000, "max": 15000})
    limiter = RecordingRateLimiter()
    connector = make_sf_connector(rate_limiter=limiter)

    with pytest.raises(RetriableError, match="REQUEST_LIMIT_EXCEEDED") as limited:
        list(connector.read_pages(cursor=None, full=True))
    with pytest.raises(RetriableError):
        connector.write_batch([WriteBack("0015g0000M70001AQA", VERDICT)])

    assert limited.value.retry_after == 3600
    assert limiter.penalties == [3600]
    assert sleeps == []
    assert connector.api_calls == 1  # the second operation did not even try
    assert sf_admin.stats()["rate_limited"] == 1


def test_the_sync_stops_cleanly_at_the_daily_share_and_resumes_from_its_cursor(
    sf_admin: SandboxAdmin, make_sf_connector: Callable[..., SalesforceConnector]
) -> None:
    sf_admin.reset(seed=3, companies=4500, deals_per_company=0)
    everything = sorted(_everything(make_sf_connector()))
    sf_admin.post("limits", {"used": 77, "max": 100})
    connector = make_sf_connector(settings={"daily_limit_share": 0.8})
    pages = []

    with pytest.raises(RetriableError, match="daily API allocation at 80%") as stopped:
        for page in connector.read_pages(cursor=None, full=True):
            pages.append(page)

    # describe (78/100), the query (79/100), the second page (80/100): then no more calls.
    assert [len(p.records) for p in pages] == [2000, 2000]
    assert connector.api_calls == 3
    assert sf_admin.post("limits", {})["used"] == 80
    assert stopped.value.retry_after == 3600
    sf_admin.post("limits", {"max": 15000})
    rest = list(make_sf_connector().read_pages(cursor=pages[-1].cursor, full=False))
    seen = [r.external_id for p in pages + rest for r in p.records]
    assert seen == everything


def test_a_429_waits_through_the_rate_limiter_and_is_retried(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
) -> None:
    limiter = RecordingRateLimiter()
    connector = make_sf_connector(rate_limiter=limiter, max_attempts=3)
    sf_admin.faults(error_rate=1.0, status_codes=[429])

    with pytest.raises(RetriableError, match=r"after 3 attempts.*429"):
        connector.ensure_schema()

    assert limiter.acquired == connector.api_calls == 3
    assert limiter.penalties == [10.0, 10.0]
    assert sleeps == []


def test_every_http_attempt_goes_through_the_rate_limiter_logins_included(
    salesforce_server: SandboxServer,
    make_sf_connector: Callable[..., SalesforceConnector],
    sf_admin: SandboxAdmin,
) -> None:
    limiter = RecordingRateLimiter()
    connector = make_sf_connector(
        rate_limiter=limiter,
        credentials={
            "instance_url": salesforce_server.url,
            **SF_OAUTH_CLIENT,
            "refresh_token": SF_REFRESH_TOKEN,
        },
    )

    _everything(connector)
    connector.ensure_schema()

    assert limiter.acquired == connector.api_calls == sf_admin.stats()["total"] == 4


@pytest.mark.parametrize("domain", ["url", "login host"])
def test_a_password_login_signs_in_and_signs_in_again_when_the_session_expires(
    salesforce_server: SandboxServer,
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    domain: str,
) -> None:
    host = salesforce_server.url.removeprefix("https://")
    # A login server's URL, or simple-salesforce's own https://<domain>.salesforce.com form.
    login = salesforce_server.url if domain == "url" else f"{host}/login"
    connector = make_sf_connector(credentials={**SF_LOGIN, "domain": login})

    first = _everything(connector)
    sf_admin.post("expire-tokens", {})
    second = _everything(connector)

    assert first == second and len(first) == 50
    calls = sf_admin.stats()["calls"]
    assert calls[SOAP_LOGIN] == 2
    assert connector.api_calls == sf_admin.stats()["total"]


def test_a_refresh_token_gets_an_access_token_and_a_new_one_when_it_expires(
    salesforce_server: SandboxServer,
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
) -> None:
    connector = make_sf_connector(
        credentials={
            "instance_url": salesforce_server.url,
            **SF_OAUTH_CLIENT,
            "refresh_token": SF_REFRESH_TOKEN,
        }
    )

    connector.ensure_schema()
    sf_admin.post("expire-tokens", {})
    results = connector.write_batch(
        [WriteBack(r, VERDICT) for r in sorted(_everything(connector))[:3]]
    )

    assert all(r.ok for r in results)
    assert sf_admin.stats()["calls"][TOKEN] == 2
    # token, describe; then the query's 401, token, the query again; the PATCH
    assert connector.api_calls == sf_admin.stats()["total"] == 6
    assert sleeps == []


def test_an_access_token_that_comes_with_a_refresh_token_is_used_until_it_expires(
    salesforce_server: SandboxServer,
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
) -> None:
    connector = make_sf_connector(
        credentials={
            "instance_url": salesforce_server.url,
            "access_token": "sandbox-token",
            **SF_OAUTH_CLIENT,
            "refresh_token": SF_REFRESH_TOKEN,
        }
    )

    connector.ensure_schema()
    sf_admin.post("expire-tokens", {"configured": True})
    connector.ensure_schema()

    assert sf_admin.stats()["calls"][TOKEN] == 1


@pytest.mark.parametrize("how", ["wrong token", "expired token"])
@pytest.mark.parametrize(
    "operation",
    [
        lambda c: list(c.read_pages(cursor=None, full=True)),
        lambda c: c.read_by_ids(["0015g0000M70001AQA"]),
        lambda c: c.write_batch([WriteBack("0015g0000M70001AQA", VERDICT)]),
        lambda c: c.ensure_schema(),
    ],
    ids=["read_pages", "read_by_ids", "write_batch", "ensure_schema"],
)
def test_an_access_token_salesforce_refuses_is_fatal_at_once(
    salesforce_server: SandboxServer,
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
    operation: Callable[[SalesforceConnector], object],
    how: str,
) -> None:
    token = "00D5g000004Sbad!revoked"
    if how == "expired token":
        token = "sandbox-token"
        sf_admin.post("expire-tokens", {"configured": True})
    connector = make_sf_connector(
        credentials={"instance_url": salesforce_server.url, "access_token": token}
    )

    with pytest.raises(
        FatalError, match="Salesforce refused the session: Session expired or invalid"
    ):
        operation(connector)

    assert connector.api_calls == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({**SF_LOGIN, "password": "guess"}, "INVALID_LOGIN"),
        ({**SF_OAUTH_CLIENT, "refresh_token": "stolen"}, "expired access/refresh token"),
        (
            {**SF_OAUTH_CLIENT, "client_secret": "nope", "refresh_token": SF_REFRESH_TOKEN},
            "invalid client",
        ),
    ],
    ids=["password", "refresh token", "client secret"],
)
def test_credentials_salesforce_refuses_are_fatal_at_once(
    salesforce_server: SandboxServer,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
    credentials: dict[str, str],
    message: str,
) -> None:
    connector = make_sf_connector(
        credentials={"instance_url": salesforce_server.url, **credentials}
    )

    with pytest.raises(FatalError, match=f"Salesforce refused the login.*{message}"):
        connector.ensure_schema()

    assert connector.api_calls == 1
    assert sleeps == []


def test_credentials_of_no_known_shape_are_refused_without_a_call() -> None:
    with pytest.raises(FatalError, match="credentials need"):
        SalesforceConnector(credentials={"access_token": "t"})


def test_a_certificate_from_an_untrusted_ca_is_fatal_not_retried(
    make_sf_connector: Callable[..., SalesforceConnector], sleeps: list[float]
) -> None:
    connector = make_sf_connector(settings={"ca_bundle": None})

    with pytest.raises(FatalError, match=r"TLS certificate was not trusted.*ca_bundle"):
        connector.ensure_schema()

    assert connector.api_calls == 1
    assert sleeps == []


def test_an_unreachable_org_is_retried_then_reported_retriable(sleeps: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connector = SalesforceConnector(
        credentials={"instance_url": f"https://127.0.0.1:{port}", "access_token": "t"},
        sleep=sleeps.append,
        max_attempts=3,
    )

    with pytest.raises(RetriableError, match=r"after 3 attempts.*ConnectionError"):
        connector.ensure_schema()

    assert connector.api_calls == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"daily_limit_share": 1.5}, "daily_limit_share"),
        ({"ca_bundle": "/etc/ssl/certs/ca.pem"}, "ca_bundle must be PEM text"),
    ],
)
def test_settings_that_cannot_work_are_refused_when_the_connector_is_built(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(FatalError, match=message):
        SalesforceConnector(
            credentials={"instance_url": "https://acme.my.salesforce.com", "access_token": "t"},
            settings=settings,
        )
