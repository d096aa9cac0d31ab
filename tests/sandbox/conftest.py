"""One HubSpot sandbox served by uvicorn on a free loopback port, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubspot import HubSpot

from connectors.hubspot.sandbox import create_app
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
        sandbox_admin.webhooks(None)
        sandbox_admin.reset(seed=7, companies=50)
        yield sandbox_admin


@pytest.fixture
def client(admin: SandboxAdmin) -> HubSpot:
    """The official client, pointed at the sandbox by its ``host`` setting."""
    return HubSpot(access_token=TOKEN, host=admin.url)
