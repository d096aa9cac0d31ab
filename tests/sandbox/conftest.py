"""One HubSpot sandbox served by uvicorn on a free loopback port, reset before each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from connectors.hubspot.sandbox import create_app
from connectors.salesforce.sandbox import create_app as create_salesforce_app
from connectors.salesforce.sandbox import tls_files, trusting_session
from connectors.sandbox.admin import SandboxAdmin
from connectors.sandbox.server import RunningServer, start_server

TOKEN = "sandbox-token"
CLIENT_SECRET = "sandbox-secret"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningServer]:
    with start_server(create_app(token=TOKEN, client_secret=CLIENT_SECRET)) as server:
        yield server


@pytest.fixture
def admin(sandbox_server: RunningServer) -> Iterator[SandboxAdmin]:
    """A freshly seeded sandbox (50 companies, seed 7) with no faults, no limits, no webhooks."""
    with SandboxAdmin(sandbox_server.url) as sandbox_admin:
        sandbox_admin.faults()
        sandbox_admin.rate_limit(0)
        sandbox_admin.webhooks(None, redeliver=False)
        sandbox_admin.reset(seed=7, companies=50)
        yield sandbox_admin


@pytest.fixture
def client(admin: SandboxAdmin) -> HubSpot:
    """The official client, pointed at the sandbox by its ``host`` setting."""
    return HubSpot(access_token=TOKEN, host=admin.url)


# -- the Salesforce sandbox ---------------------------------------------------------------------

SALESFORCE_TOKEN = "sandbox-token"


@dataclass(frozen=True)
class SalesforceServer:
    """The session's Salesforce sandbox: its https URL, port and the CA that signed it."""

    url: str
    port: int
    ca_file: str


@pytest.fixture(scope="session")
def salesforce_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceServer]:
    ca_file, cert_file, key_file = tls_files(tmp_path_factory.mktemp("salesforce-tls"))
    app = create_salesforce_app(token=SALESFORCE_TOKEN)
    with start_server(app, ssl_certfile=cert_file, ssl_keyfile=key_file) as server:
        yield SalesforceServer(server.url, server.port, ca_file)


@pytest.fixture
def sf_sessions(salesforce_server: SalesforceServer) -> Iterator[Callable[[], requests.Session]]:
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
def sf_admin(salesforce_server: SalesforceServer) -> Iterator[SandboxAdmin]:
    """A freshly seeded Salesforce sandbox (50 accounts, seed 7): no faults, an unused daily
    allocation of 15,000, no outbound messages, only the configured token valid."""
    with SandboxAdmin(salesforce_server.url, verify=salesforce_server.ca_file) as sandbox_admin:
        sandbox_admin.faults()
        sandbox_admin.post("outbound", {"target_url": None})
        sandbox_admin.post("limits", {"used": 0, "max": 15000})
        sandbox_admin.post("reset", {"seed": 7, "accounts": 50})
        yield sandbox_admin


@pytest.fixture
def sf(
    sf_admin: SandboxAdmin,
    salesforce_server: SalesforceServer,
    sf_sessions: Callable[[], requests.Session],
) -> Salesforce:
    """simple-salesforce, pointed at the sandbox by ``instance_url``, trusting its CA."""
    return Salesforce(
        instance_url=salesforce_server.url,
        session_id=SALESFORCE_TOKEN,
        session=sf_sessions(),
        object_pairs_hook=dict,
    )
