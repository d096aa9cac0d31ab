"""The session's HubSpot and Salesforce sandboxes (tests/conftest.py), reset before each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.salesforce import trusting_session
from tests.conftest import (
    HUBSPOT_CLIENT_SECRET,
    SANDBOX_TOKEN,
    SandboxServer,
    quiet_hubspot,
    quiet_salesforce,
)

TOKEN = SANDBOX_TOKEN
CLIENT_SECRET = HUBSPOT_CLIENT_SECRET


@pytest.fixture
def admin(hubspot_server: SandboxServer) -> Iterator[SandboxAdmin]:
    """A freshly seeded sandbox (50 companies, seed 7) with no faults, no limits, no webhooks."""
    with quiet_hubspot(hubspot_server, seed=7, companies=50) as sandbox_admin:
        yield sandbox_admin


@pytest.fixture
def client(admin: SandboxAdmin) -> HubSpot:
    """The official client, pointed at the sandbox by its ``host`` setting."""
    return HubSpot(access_token=TOKEN, host=admin.url)


# -- the Salesforce sandbox ---------------------------------------------------------------------

SALESFORCE_TOKEN = SANDBOX_TOKEN


@pytest.fixture
def sf_sessions(salesforce_server: SandboxServer) -> Iterator[Callable[[], requests.Session]]:
    """Makes requests sessions that trust the sandbox CA, closed after the test (idle TLS
    keep-alive connections would hold up the server's shutdown)."""
    made: list[requests.Session] = []

    def make() -> requests.Session:
        made.append(trusting_session(salesforce_server.ca_file))
        return made[-1]

    yield make
    for session in made:
        session.close()


@pytest.fixture
def sf_admin(salesforce_server: SandboxServer) -> Iterator[SandboxAdmin]:
    """A freshly seeded Salesforce sandbox (50 accounts, seed 7): no faults, an unused daily
    allocation of 15,000, no outbound messages, only the configured token valid."""
    with quiet_salesforce(salesforce_server, daily_max=15000, seed=7, accounts=50) as sandbox_admin:
        yield sandbox_admin


@pytest.fixture
def sf(
    sf_admin: SandboxAdmin,
    salesforce_server: SandboxServer,
    sf_sessions: Callable[[], requests.Session],
) -> Salesforce:
    """simple-salesforce, pointed at the sandbox by ``instance_url``, trusting its CA."""
    return Salesforce(
        instance_url=salesforce_server.url,
        session_id=SALESFORCE_TOKEN,
        session=sf_sessions(),
        object_pairs_hook=dict,
    )
