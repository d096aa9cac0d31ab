"""The CRM kinds icp-sync can connect to. Adding a CRM means adding an entry here and a
package under ``connectors/``; the sync and write-back pipeline stay as they are."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Connector, RateLimiter


class HubSpotCredentials(BaseModel):
    """A private app's access token; the app's client secret signs its webhooks."""

    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(min_length=1)
    client_secret: str | None = Field(default=None, min_length=1)


@dataclass(slots=True, frozen=True)
class ConnectorKind:
    """What icp-sync needs to know about one CRM."""

    credentials: type[BaseModel]
    default_base_url: str
    default_calls_per_10s: int
    build: Callable[[Mapping[str, Any], str, Mapping[str, Any], RateLimiter | None], Connector]


def _hubspot(
    credentials: Mapping[str, Any],
    base_url: str,
    settings: Mapping[str, Any],
    rate_limiter: RateLimiter | None,
) -> Connector:
    from connectors.hubspot import HubSpotConnector

    return HubSpotConnector(
        access_token=credentials["access_token"],
        base_url=base_url,
        settings=settings,
        rate_limiter=rate_limiter,
    )


CONNECTOR_KINDS: dict[str, ConnectorKind] = {
    "hubspot": ConnectorKind(
        credentials=HubSpotCredentials,
        default_base_url="https://api.hubapi.com",
        # HubSpot's private-app limit: 190 calls per rolling 10 s (Professional).
        default_calls_per_10s=190,
        build=_hubspot,
    ),
}
