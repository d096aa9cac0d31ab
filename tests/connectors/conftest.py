"""The HubSpot sandbox on a free loopback port, and connectors pointed at it by ``base_url``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hubspot import HubSpot

from connectors.hubspot import HubSpotConnector
from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import SANDBOX_TOKEN, SandboxServer, quiet_hubspot

TOKEN = SANDBOX_TOKEN
# What the demo connection uses (DESIGN §3.1: funding stage and NPS are custom properties).
DEMO_SETTINGS: dict[str, Any] = {
    "field_map": {"funding_stage": "funding_stage", "nps": "nps_score"},
    "extra_properties": ["has_inhouse_seo", "is_competitor"],
}


@pytest.fixture
def admin(hubspot_server: SandboxServer) -> Iterator[SandboxAdmin]:
    """A freshly seeded sandbox (50 companies, seed 7): no faults, no rate limit."""
    with quiet_hubspot(hubspot_server, seed=7, companies=50) as sandbox_admin:
        yield sandbox_admin


@pytest.fixture
def client(admin: SandboxAdmin) -> HubSpot:
    """The official client, to see what HubSpot holds independently of the connector."""
    return HubSpot(access_token=TOKEN, host=admin.url)


@pytest.fixture
def sleeps() -> list[float]:
    """Every pause a connector asked for (none of them is actually waited)."""
    return []


@pytest.fixture
def make_connector(admin: SandboxAdmin, sleeps: list[float]) -> Callable[..., HubSpotConnector]:
    """A connector on the sandbox with the demo settings; keyword arguments override."""

    def make(**overrides: Any) -> HubSpotConnector:
        options: dict[str, Any] = {
            "access_token": TOKEN,
            "base_url": admin.url,
            "settings": DEMO_SETTINGS,
            "sleep": sleeps.append,
            "timeout": 10.0,
            **overrides,
        }
        return HubSpotConnector(**options)

    return make


@pytest.fixture
def connector(make_connector: Callable[..., HubSpotConnector]) -> HubSpotConnector:
    """A connector on the sandbox with the demo settings."""
    return make_connector()


# The Salesforce sandbox's fixtures live in their own module; importing them here registers them.
from tests.connectors.salesforce_fixtures import (  # noqa: E402
    make_sf_connector,
    sf_admin,
    sf_client,
    sf_connector,
)

__all__ = ["make_sf_connector", "sf_admin", "sf_client", "sf_connector"]
