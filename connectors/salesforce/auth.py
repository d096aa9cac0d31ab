"""Signing in to a Salesforce org with a connection's credentials (DESIGN §5).

Three kinds of credentials:

- ``{"instance_url", "access_token"}``: a session id or OAuth access token used as is. It
  cannot be renewed: when Salesforce answers 401 the connection needs a new token.
- ``{"username", "password", "security_token"?, "domain"?, "instance_url"?}``: the SOAP login
  of simple-salesforce (no security token when the org trusts the caller's IP range).
  ``domain`` is ``login`` (default), ``test`` or a My Domain prefix (``acme.my``), which
  simple-salesforce turns into ``https://<domain>.salesforce.com``, or a full ``https://`` URL
  of the login server; without a domain, a given ``instance_url`` is the login server. Signs
  in again when the session expires.
- ``{"instance_url", "client_id", "client_secret", "refresh_token", "access_token"?}``: the
  OAuth refresh-token flow, ``POST <instance_url>/services/oauth2/token``; renewed the same way.

Every request, logins included, goes through the connector's metered ``requests.Session``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce import SalesforceLogin as soap_login
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceGeneralError

from connectors.base import FatalError

__all__ = ["SalesforceAuth"]

log = logging.getLogger(__name__)

_SHAPES: Final = (
    "{instance_url, access_token}, {username, password, security_token, domain?} or "
    "{instance_url, client_id, client_secret, refresh_token}"
)


def _instance_host(url: str) -> str:
    """``https://acme.my.salesforce.com/`` → ``acme.my.salesforce.com`` (with any port)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise FatalError(f"Salesforce instance_url must be an https:// URL, got {url!r}")
    return parts.netloc


class SalesforceAuth:
    """Holds one org's credentials and the signed-in simple-salesforce client."""

    def __init__(
        self, credentials: Mapping[str, Any], *, session: requests.Session, api_version: str
    ) -> None:
        self.session = session
        self.api_version = api_version
        self._credentials = dict(credentials)
        self._client: Salesforce | None = None
        self._signing_in = threading.Lock()
        has = {key for key, value in credentials.items() if value not in (None, "")}
        if {"instance_url", "client_id", "client_secret", "refresh_token"} <= has:
            self.kind = "refresh_token"
        elif {"username", "password"} <= has:
            self.kind = "password"
        elif {"instance_url", "access_token"} <= has:
            self.kind = "access_token"
        else:
            raise FatalError(
                f"Salesforce credentials need {_SHAPES}; got the keys "
                f"{', '.join(sorted(credentials)) or 'none'}"
            )
        if "instance_url" in has:
            _instance_host(str(credentials["instance_url"]))
        self.can_refresh = self.kind != "access_token"
        # An access token that came with refresh credentials is tried before renewing it.
        self._token: str | None = credentials.get("access_token") or None

    def client(self) -> Salesforce:
        """The signed-in client; signs in first when there is no session yet."""
        # A sync reads accounts, opportunities and contacts in threads side by side: one
        # of them signs in, the others wait for its session.
        with self._signing_in:
            if self._client is None:
                self._client = self._sign_in()
            return self._client

    def refresh(self) -> None:
        """Forget the current session: the next ``client()`` signs in again."""
        self._client = None
        self._token = None

    def _sign_in(self) -> Salesforce:
        credentials = self._credentials
        if self.kind == "password":
            session_id, instance = self._password_login()
            return self._build(instance, session_id)
        instance = _instance_host(str(credentials["instance_url"]))
        if self._token is None:
            self._token, instance = self._refresh_token_login(instance)
        return self._build(instance, self._token)

    def _build(self, instance: str, session_id: str) -> Salesforce:
        return Salesforce(
            instance=instance,
            session_id=session_id,
            session=self.session,
            version=self.api_version,
            object_pairs_hook=dict,
        )

    def _password_login(self) -> tuple[str, str]:
        credentials = self._credentials
        domain = str(credentials.get("domain") or "").strip()
        login_url: str | None = None
        if "://" in domain:
            login_url, domain = domain.rstrip("/"), ""
        elif not domain and credentials.get("instance_url"):
            login_url = f"https://{_instance_host(str(credentials['instance_url']))}"
        session_id, instance = soap_login(
            username=str(credentials["username"]),
            password=str(credentials["password"]),
            security_token=str(credentials.get("security_token") or ""),
            sf_version=self.api_version,
            session=self.session,
            domain=domain or None,
            scratch_url=login_url,
        )
        return str(session_id), str(instance)

    def _refresh_token_login(self, instance: str) -> tuple[str, str]:
        """A new access token (and the instance it is for) from the refresh token."""
        credentials = self._credentials
        url = f"https://{instance}/services/oauth2/token"
        response = self.session.post(
            url,
            data={
                "grant_type": "refresh_token",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "refresh_token": credentials["refresh_token"],
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise SalesforceGeneralError(
                url, response.status_code, "oauth2/token", response.content
            )
        body = response.json()
        if response.status_code != 200 or not body.get("access_token"):
            raise SalesforceAuthenticationFailed(
                body.get("error") or response.status_code,
                body.get("error_description") or "the token endpoint gave no access token",
            )
        log.info("Salesforce access token refreshed")
        new_instance = body.get("instance_url")
        if new_instance:
            instance = _instance_host(str(new_instance))
        return str(body["access_token"]), instance
