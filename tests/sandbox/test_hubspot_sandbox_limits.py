"""Authentication, rate limits, fault injection and call statistics of the HubSpot sandbox."""

from __future__ import annotations

import json
import time

import pytest
import urllib3
from hubspot import HubSpot
from hubspot.crm.companies import PublicObjectSearchRequest
from hubspot.crm.companies.exceptions import ApiException, ServiceException, UnauthorizedException

from connectors.sandbox.common.admin_client import SandboxAdmin


def test_a_wrong_token_is_refused_with_hubspots_401(hubspot_admin: SandboxAdmin) -> None:
    intruder = HubSpot(access_token="not-the-token", host=hubspot_admin.url)

    with pytest.raises(UnauthorizedException) as refused:
        intruder.crm.companies.basic_api.get_page()

    body = json.loads(refused.value.body)
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"] and body["message"]


def test_a_missing_token_is_refused_too(hubspot_admin: SandboxAdmin) -> None:
    assert hubspot_admin.http.get("/crm/v3/objects/companies").status_code == 401


def test_successful_calls_carry_the_rate_limit_headers(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.rate_limit(190)

    _, status, headers = hubspot.crm.companies.basic_api.get_page_with_http_info()
    _, _, later = hubspot.crm.companies.basic_api.get_page_with_http_info()

    assert status == 200
    assert headers["X-HubSpot-RateLimit-Max"] == "190"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert (
        int(later["X-HubSpot-RateLimit-Remaining"])
        == int(headers["X-HubSpot-RateLimit-Remaining"]) - 1
    )


def test_exceeding_the_ten_second_window_is_answered_429_rate_limit(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.rate_limit(5)
    for _ in range(5):
        hubspot.crm.companies.basic_api.get_page()

    with pytest.raises(ApiException) as limited:
        hubspot.crm.companies.basic_api.get_page()

    body = json.loads(limited.value.body)
    assert limited.value.status == 429
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.value.headers["X-HubSpot-RateLimit-Max"] == "5"
    assert hubspot_admin.stats()["rate_limited"] == 1


def test_search_is_limited_per_second_with_the_secondly_policy(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.rate_limit(190, search_per_second=2)
    search = hubspot.crm.companies.search_api.do_search
    request = PublicObjectSearchRequest(limit=1)
    started = time.monotonic()
    search(public_object_search_request=request)
    search(public_object_search_request=request)

    with pytest.raises(ApiException) as limited:
        search(public_object_search_request=request)

    assert time.monotonic() - started < 1.0, "the machine was too slow to test a one-second window"
    assert limited.value.status == 429
    assert json.loads(limited.value.body)["policyName"] == "SECONDLY"
    time.sleep(1.05)
    assert search(public_object_search_request=request).total == 50


def test_an_error_rate_of_one_fails_every_call_with_the_configured_status(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.faults(error_rate=1.0, status_codes=[503])

    with pytest.raises(ServiceException) as failed:
        hubspot.crm.companies.basic_api.get_page()

    assert failed.value.status == 503
    assert json.loads(failed.value.body)["status"] == "error"


def test_injected_faults_follow_the_error_rate(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.faults(error_rate=0.5, status_codes=[500, 502], seed=11)
    statuses = []
    for _ in range(60):
        try:
            hubspot.crm.companies.basic_api.get_page(limit=1)
            statuses.append(200)
        except ApiException as exc:
            statuses.append(exc.status)

    assert set(statuses) == {200, 500, 502}
    assert 15 <= statuses.count(200) <= 45


def test_an_injected_429_looks_like_a_real_rate_limit(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.faults(error_rate=1.0, status_codes=[429])

    with pytest.raises(ApiException) as limited:
        hubspot.crm.companies.basic_api.get_page()

    assert (
        limited.value.status == 429 and json.loads(limited.value.body)["errorType"] == "RATE_LIMIT"
    )


def test_latency_delays_every_call(hubspot_admin: SandboxAdmin, hubspot: HubSpot) -> None:
    hubspot_admin.faults(latency_ms=150)

    started = time.monotonic()
    hubspot.crm.companies.basic_api.get_page()

    assert time.monotonic() - started >= 0.15


def test_a_timeout_holds_the_call_past_the_clients_patience_then_answers_504(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.faults(timeout_rate=1.0, timeout_seconds=0.6)

    with pytest.raises(urllib3.exceptions.HTTPError):
        hubspot.crm.companies.basic_api.get_page(_request_timeout=0.2)
    with pytest.raises(ApiException) as patient:
        hubspot.crm.companies.basic_api.get_page(_request_timeout=5)

    assert patient.value.status == 504


def test_stats_count_calls_per_endpoint_template(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    company_id = hubspot.crm.companies.basic_api.get_page(limit=2).results[0].id
    hubspot.crm.companies.basic_api.get_page(limit=2)
    hubspot.crm.companies.basic_api.get_by_id(company_id)
    hubspot.crm.companies.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(limit=1)
    )
    hubspot.crm.properties.core_api.get_by_name("companies", "name")

    stats = hubspot_admin.stats()

    assert stats["calls"] == {
        "GET /crm/v3/objects/companies": 2,
        "GET /crm/v3/objects/companies/{companyId}": 1,
        "POST /crm/v3/objects/companies/search": 1,
        "GET /crm/v3/properties/companies/{propertyName}": 1,
    }
    assert stats["total"] == 5
    assert stats["rate_limited"] == 0


def test_a_reset_clears_the_stats(hubspot_admin: SandboxAdmin, hubspot: HubSpot) -> None:
    hubspot.crm.companies.basic_api.get_page()

    hubspot_admin.reset(companies=1)

    assert hubspot_admin.stats() == {"calls": {}, "unmatched": {}, "total": 0, "rate_limited": 0}


def test_bad_admin_settings_are_refused(hubspot_admin: SandboxAdmin) -> None:
    response = hubspot_admin.http.post("/_sandbox/faults", json={"error_rate": 2})

    assert response.status_code == 400
