"""Salesforce: the connector (official simple-salesforce) and its sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the sandbox lives in this package and should not pay for
    # simple-salesforce's import when it is served alone.
    if name == "SalesforceConnector":
        from connectors.salesforce.connector import SalesforceConnector

        return SalesforceConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
