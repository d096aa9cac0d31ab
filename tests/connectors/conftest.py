"""Connectors pointed at the session's sandboxes (the shared fixtures of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.hubspot import HubSpotConnector
from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import SANDBOX_TOKEN

TOKEN = SANDBOX_TOKEN
# What the demo connection uses (DESIGN §3.1: funding stage and NPS are custom properties).
DEMO_SETTINGS: dict[str, Any] = {
    "field_map": {"funding_stage": "funding_stage", "nps": "nps_score"},
    "extra_properties": ["has_inhouse_seo", "is_competitor"],
}


@pytest.fixture
def sleeps() -> list[float]:
    """Every pause a connector asked for (none of them is actually waited)."""
    return []


@pytest.fixture
def make_connector(
    hubspot_admin: SandboxAdmin, sleeps: list[float]
) -> Callable[..., HubSpotConnector]:
    """A connector on the sandbox with the demo settings; keyword arguments override."""

    def make(**overrides: Any) -> HubSpotConnector:
        options: dict[str, Any] = {
            "access_token": TOKEN,
            "base_url": hubspot_admin.url,
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
from tests.connectors.salesforce_fixtures import make_sf_connector, sf_connector  # noqa: E402

__all__ = ["make_sf_connector", "sf_connector"]
