"""The CRM kinds icp-sync can connect to. Adding a CRM means adding an entry here and a
package under ``connectors/``; the sync and write-back pipeline stay as they are."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import CallObserver, Connector, RateLimiter


class HubSpotCredentials(BaseModel):
    """A private app's access token; the app's client secret signs its webhooks."""

    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(min_length=1)
    client_secret: str | None = Field(default=None, min_length=1)


class SalesforceCredentials(BaseModel):
    """One of: a session (``instance_url`` + ``access_token``), a user login (``username`` +
    ``password`` + ``security_token``, ``domain`` "login" or "test"), or a connected app's
    refresh token (``instance_url`` + ``client_id`` + ``client_secret`` + ``refresh_token``)."""

    model_config = ConfigDict(extra="forbid")

    instance_url: str | None = Field(default=None, pattern=r"^https://")
    access_token: str | None = Field(default=None, min_length=1)
    username: str | None = Field(default=None, min_length=1)
    password: str | None = Field(default=None, min_length=1)
    security_token: str | None = None
    domain: str | None = None
    client_id: str | None = Field(default=None, min_length=1)
    client_secret: str | None = Field(default=None, min_length=1)
    refresh_token: str | None = Field(default=None, min_length=1)
    webhook_secret: str | None = Field(
        default=None, min_length=16, description="the ?secret= of the Outbound Message URL"
    )

    @model_validator(mode="after")
    def _one_complete_login(self) -> SalesforceCredentials:
        session = self.instance_url and self.access_token
        login = self.username and self.password
        oauth = self.instance_url and self.client_id and self.client_secret and self.refresh_token
        if not (session or login or oauth):
            raise ValueError(
                "give instance_url + access_token, or username + password + security_token, "
                "or instance_url + client_id + client_secret + refresh_token"
            )
        return self


@dataclass(slots=True, frozen=True)
class ConnectorKind:
    """What icp-sync needs to know about one CRM."""

    credentials: type[BaseModel]
    default_base_url: str
    default_calls_per_10s: int
    build: Callable[
        [Mapping[str, Any], str, Mapping[str, Any], RateLimiter | None, CallObserver], Connector
    ]


def _hubspot(
    credentials: Mapping[str, Any],
    base_url: str,
    settings: Mapping[str, Any],
    rate_limiter: RateLimiter | None,
    observe_call: CallObserver,
) -> Connector:
    from connectors.hubspot import HubSpotConnector

    return HubSpotConnector(
        access_token=credentials["access_token"],
        base_url=base_url,
        settings=settings,
        rate_limiter=rate_limiter,
        observe_call=observe_call,
    )


def _salesforce(
    credentials: Mapping[str, Any],
    base_url: str,
    settings: Mapping[str, Any],
    rate_limiter: RateLimiter | None,
    observe_call: CallObserver,
) -> Connector:
    from connectors.salesforce import SalesforceConnector

    return SalesforceConnector(
        credentials=credentials,
        settings=settings,
        rate_limiter=rate_limiter,
        observe_call=observe_call,
    )


CONNECTOR_KINDS: dict[str, ConnectorKind] = {
    "hubspot": ConnectorKind(
        credentials=HubSpotCredentials,
        default_base_url="https://api.hubapi.com",
        # HubSpot's private-app limit: 190 calls per rolling 10 s (Professional).
        default_calls_per_10s=190,
        build=_hubspot,
    ),
    "salesforce": ConnectorKind(
        credentials=SalesforceCredentials,
        default_base_url="https://login.salesforce.com",
        # Salesforce limits calls per 24 h, not per second; the connector watches the daily
        # allocation itself. This only keeps bursts polite.
        default_calls_per_10s=250,
        build=_salesforce,
    ),
}
