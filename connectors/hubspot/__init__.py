"""HubSpot: the connector (official hubspot-api-client) and its sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the sandbox lives in this package and should not pay for the
    # official client's import (half a second) when it is served alone.
    if name == "HubSpotConnector":
        from connectors.hubspot.connector import HubSpotConnector

        return HubSpotConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
