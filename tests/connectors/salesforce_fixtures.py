"""Connectors pointed at the session's Salesforce sandbox (https; tests/conftest.py, whose
``sf_admin`` reseeds it and whose ``sf`` reads it independently of the connector).

Registered in ``conftest.py``; the names carry ``sf`` so they sit next to the HubSpot fixtures
without shadowing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.salesforce import SalesforceConnector
from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import SANDBOX_TOKEN, SandboxServer

SF_TOKEN = SANDBOX_TOKEN
SF_LOGIN = {
    "username": "sandbox@example.com",
    "password": "sandbox-password",
    "security_token": "sandbox-security-token",
}
SF_OAUTH_CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
SF_REFRESH_TOKEN = "sandbox-refresh-token"
# What the demo connection uses (DESIGN §3.1: custom fields for funding, NPS, tech stack).
SF_DEMO_SETTINGS: dict[str, Any] = {
    "field_map": {
        "funding_stage": "Funding_Stage__c",
        "total_funding": "Total_Funding__c",
        "nps": "NPS__c",
        "tech_stack": "Tech_Stack__c",
    },
    "extra_properties": ["Has_Inhouse_SEO__c", "Is_Competitor__c"],
}


@pytest.fixture
def make_sf_connector(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sleeps: list[float]
) -> Iterator[Callable[..., SalesforceConnector]]:
    """A connector on the sandbox (access token, demo settings, the sandbox's CA); keyword
    arguments override, ``settings`` merges into the demo settings. Closed after the test: an
    idle TLS connection would hold up the server's shutdown."""
    made: list[SalesforceConnector] = []

    def make(**overrides: Any) -> SalesforceConnector:
        settings = {
            **SF_DEMO_SETTINGS,
            "ca_bundle": salesforce_server.ca_pem,
            **overrides.pop("settings", {}),
        }
        options: dict[str, Any] = {
            "credentials": {"instance_url": salesforce_server.url, "access_token": SF_TOKEN},
            "settings": settings,
            "sleep": sleeps.append,
            "timeout": 10.0,
            **overrides,
        }
        connector = SalesforceConnector(**options)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def sf_connector(make_sf_connector: Callable[..., SalesforceConnector]) -> SalesforceConnector:
    """A connector on the sandbox with the demo settings."""
    return make_sf_connector()
