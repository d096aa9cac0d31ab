"""Sessions, logins, the daily allocation, injected faults and call statistics of the
Salesforce sandbox, through simple-salesforce."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connectors.sandbox.common.admin_client import SandboxAdmin

if TYPE_CHECKING:
    from tests.conftest import SandboxServer as SalesforceServer

Sessions = Callable[[], requests.Session]
Row = dict[str, Any]

USERNAME, PASSWORD, SECURITY_TOKEN = (
    "sandbox@example.com",
    "sandbox-password",
    "sandbox-security-token",
)
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"
REFRESH_TOKEN = "sandbox-refresh-token"


def _errors(raised: pytest.ExceptionInfo[SalesforceError]) -> list[Row]:
    """The parsed error list an exception carries (typed as bytes by simple-salesforce)."""
    return cast(list[Row], raised.value.content)


def _direct(server: SalesforceServer, sessions: Sessions, token: str) -> Salesforce:
    return Salesforce(instance_url=server.url, session_id=token, session=sessions())


def _token(server: SalesforceServer, sessions: Sessions, **form: str) -> requests.Response:
    return sessions().post(f"{server.url}/services/oauth2/token", data=form)


def _refresh(server: SalesforceServer, sessions: Sessions) -> dict[str, Any]:
    response = _token(
        server,
        sessions,
        grant_type="refresh_token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_wrong_token_is_refused_with_invalid_session_id(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    intruder = _direct(salesforce_server, sf_sessions, "not-the-token")

    with pytest.raises(SalesforceExpiredSession) as refused:
        intruder.query("SELECT Id FROM Account")

    assert refused.value.status == 401
    assert _errors(refused) == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_every_call_reports_the_api_usage_it_counted(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf.query("SELECT Id FROM Account LIMIT 1")
    first = sf.api_usage["api-usage"]
    limits = sf.limits()

    assert (first.used, first.total) == (1, 15000)
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 14998}
    assert sf.api_usage["api-usage"].used == 2


def test_once_the_daily_allocation_is_spent_calls_are_refused_with_request_limit_exceeded(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("limits", {"used": 14999, "max": 15000})
    sf.query("SELECT Id FROM Account LIMIT 1")

    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Account LIMIT 1")

    assert refused.value.status == 403
    assert _errors(refused) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert sf_admin.stats()["rate_limited"] == 1
    sf_admin.post("limits", {"used": 0})
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 50


def test_a_refresh_token_buys_an_access_token_that_works_until_tokens_expire(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    grant = _refresh(salesforce_server, sf_sessions)
    sf = _direct(salesforce_server, sf_sessions, grant["access_token"])
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 50

    sf_admin.post("expire-tokens", {})

    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT COUNT() FROM Account")
    renewed = _direct(
        salesforce_server, sf_sessions, _refresh(salesforce_server, sf_sessions)["access_token"]
    )
    assert renewed.query("SELECT COUNT() FROM Account")["totalSize"] == 50
    assert grant["instance_url"] == salesforce_server.url
    assert grant["token_type"] == "Bearer"
    assert grant["id"].startswith(f"{salesforce_server.url}/id/00D")


def test_expiring_the_configured_token_too_refuses_it(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("expire-tokens", {"configured": True})

    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT COUNT() FROM Account")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": "someone-else", "refresh_token": REFRESH_TOKEN}, "invalid_client_id"),
        (
            {"client_id": CLIENT_ID, "client_secret": "wrong", "refresh_token": REFRESH_TOKEN},
            "invalid_client",
        ),
        (
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": "stale"},
            "invalid_grant",
        ),
    ],
)
def test_the_token_endpoint_refuses_wrong_clients_and_refresh_tokens(
    sf_admin: SandboxAdmin,
    salesforce_server: SalesforceServer,
    sf_sessions: Sessions,
    form: dict[str, str],
    error: str,
) -> None:
    response = _token(salesforce_server, sf_sessions, grant_type="refresh_token", **form)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_username_password_and_security_token_log_in_through_soap_and_again_after_expiry(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    # simple-salesforce logs in at https://{domain}.salesforce.com/services/Soap/u/59.0; this
    # domain turns that into https://127.0.0.1:<port>/login.salesforce.com/services/Soap/u/59.0.
    sf = Salesforce(
        username=USERNAME,
        password=PASSWORD,
        security_token=SECURITY_TOKEN,
        domain=f"127.0.0.1:{salesforce_server.port}/login",
        session=sf_sessions(),
    )
    assert sf.sf_instance == f"127.0.0.1:{salesforce_server.port}"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 50
    first_session = sf.session_id

    sf_admin.post("expire-tokens", {})

    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 50
    assert sf.session_id != first_session
    assert sf_admin.stats()["calls"]["POST /services/Soap/u/{version}"] == 2


def test_a_wrong_security_token_fails_the_soap_login(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        Salesforce(
            username=USERNAME,
            password=PASSWORD,
            security_token="wrong",
            domain=f"127.0.0.1:{salesforce_server.port}/login",
            session=sf_sessions(),
        )

    assert failed.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in failed.value.auth_message


def test_the_soap_login_also_answers_at_the_instance_path(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    session = sf_sessions()
    envelope = (
        '<?xml version="1.0" encoding="utf-8" ?><env:Envelope '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        '<n1:login xmlns:n1="urn:partner.soap.sforce.com">'
        f"<n1:username>{USERNAME}</n1:username><n1:password>{PASSWORD}{SECURITY_TOKEN}"
        "</n1:password></n1:login></env:Body></env:Envelope>"
    )

    response = session.post(
        f"{salesforce_server.url}/services/Soap/u/59.0",
        data=envelope,
        headers={"content-type": "text/xml", "SOAPAction": "login"},
    )

    assert response.status_code == 200
    assert f"<serverUrl>{salesforce_server.url}/services/Soap/u/59.0/00D" in response.text


def test_the_username_password_oauth_flow_logs_in_with_a_connected_app(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    sf = Salesforce(
        username=USERNAME,
        password=PASSWORD,
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        domain=f"127.0.0.1:{salesforce_server.port}/login",
        session=sf_sessions(),
    )

    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 50


def test_an_error_rate_of_one_fails_every_call_with_the_configured_status(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.faults(error_rate=1.0, status_codes=[503])

    with pytest.raises(SalesforceGeneralError) as failed:
        sf.query("SELECT Id FROM Account")

    assert failed.value.status == 503
    assert _errors(failed)[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_injected_faults_follow_the_error_rate(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    sf_admin.faults(error_rate=0.5, status_codes=[500, 503], seed=11)
    statuses = []
    for _ in range(60):
        try:
            sf.query("SELECT Id FROM Account LIMIT 1")
            statuses.append(200)
        except SalesforceGeneralError as exc:
            statuses.append(exc.status)

    assert set(statuses) == {200, 500, 503}
    assert 15 <= statuses.count(200) <= 45


def test_stats_count_calls_per_endpoint_template(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Account LIMIT 1")
    sf.query("SELECT Id FROM Account LIMIT 2")
    sf.restful("sobjects/Account/describe")
    sf.limits()

    stats = sf_admin.stats()

    assert stats["calls"] == {
        "GET /services/data/v{version}/limits": 1,
        "GET /services/data/v{version}/query": 2,
        "GET /services/data/v{version}/sobjects/{sobject}/describe": 1,
    }
    assert stats["total"] == 4
    assert stats["api_usage"]["used"] == 4


def test_the_hubspot_style_reset_of_the_admin_client_seeds_accounts(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    counts = sf_admin.reset(seed=3, companies=12, deals_per_company=1)

    assert (counts["accounts"], counts["opportunities"]) == (12, 12)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 12


def test_versions_are_listed_without_a_session(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    session = sf_sessions()

    versions = session.get(f"{salesforce_server.url}/services/data/").json()

    assert versions[-1] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}
    assert {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"} in versions
    assert "63.0" not in [v["version"] for v in versions]


def test_an_unknown_api_version_is_not_found(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    sf = Salesforce(
        instance_url=salesforce_server.url,
        session_id="sandbox-token",
        session=sf_sessions(),
        version="99.0",
    )

    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.query("SELECT Id FROM Account")

    assert _errors(missing)[0]["errorCode"] == "NOT_FOUND"


def test_the_client_credentials_flow_logs_in_with_the_connected_app_alone(
    sf_admin: SandboxAdmin, salesforce_server: SalesforceServer, sf_sessions: Sessions
) -> None:
    sf = Salesforce(
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        domain=f"127.0.0.1:{salesforce_server.port}/my",
        session=sf_sessions(),
    )

    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 50


def test_an_injected_timeout_holds_the_call_then_answers_504(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.faults(timeout_rate=1.0, timeout_seconds=0.2)

    with pytest.raises(SalesforceGeneralError) as failed:
        sf.query("SELECT Id FROM Account LIMIT 1")

    assert failed.value.status == 504
    assert _errors(failed)[0]["errorCode"] == "REQUEST_RUNNING_TOO_LONG"
