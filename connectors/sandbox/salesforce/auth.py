"""Sessions: which access tokens are valid, and the two ways of getting one.

- ``POST /services/oauth2/token``: the OAuth 2.0 token endpoint, for the ``refresh_token``,
  ``password`` (username-password flow, as simple-salesforce's ``consumer_key`` login sends it)
  and ``client_credentials`` grants. Errors are ``{"error", "error_description"}``, 400.
- ``POST /services/Soap/u/<version>``: the Partner SOAP ``login()`` that simple-salesforce sends
  for username + password + security token, answered with a ``loginResponse`` (``sessionId``,
  ``serverUrl``) or an ``INVALID_LOGIN`` SOAP fault, 500.

The sandbox accepts the configured token and every token it issued until an admin expires them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from connectors.sandbox.salesforce.ids import ORGANIZATION_ID, PROFILE_ID, USER_ID

__all__ = ["Credentials", "LoginFailed", "SessionRegistry", "soap_fault", "soap_login_response"]

_LOGIN_FAILED: Final = "Invalid username, password, security token; or user locked out."


@dataclass(frozen=True)
class Credentials:
    """What the org's one API user and its connected app authenticate with."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    refresh_token: str


class LoginFailed(Exception):
    """A token request or login the sandbox refuses: an OAuth error or a SOAP fault."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def oauth_body(self) -> dict[str, str]:
        """``{"error", "error_description"}`` as the token endpoint answers."""
        return {"error": self.error, "error_description": self.description}


@dataclass
class SessionRegistry:
    """The valid access tokens: the configured one and every one issued since the last expiry."""

    configured: str
    credentials: Credentials
    issued: set[str] = field(default_factory=set)
    configured_expired: bool = False
    logins: int = 0

    def valid(self, token: str | None) -> bool:
        """Whether ``token`` opens a session."""
        if not token:
            return False
        if token == self.configured:
            return not self.configured_expired
        return token in self.issued

    def issue(self) -> str:
        """A new access token, shaped like Salesforce's (``<org id>!<secret>``)."""
        token = f"{ORGANIZATION_ID[:15]}!{secrets.token_urlsafe(72)}"
        self.issued.add(token)
        self.logins += 1
        return token

    def expire(self, *, configured: bool = False) -> int:
        """Invalidate every issued token (and the configured one if asked); how many went."""
        count = len(self.issued)
        self.issued.clear()
        if configured:
            self.configured_expired = True
            count += 1
        return count

    def reset(self) -> None:
        """Forget issued tokens; the configured one is valid again."""
        self.issued.clear()
        self.configured_expired = False

    # -- OAuth 2.0 token endpoint ----------------------------------------------------------------

    def _password_ok(self, password: str) -> bool:
        expected = self.credentials.password
        # The username-password flow takes the password, or password + security token.
        return secrets.compare_digest(password, expected) or secrets.compare_digest(
            password, expected + self.credentials.security_token
        )

    def _client(
        self, client_id: str | None, client_secret: str | None, *, secret_required: bool
    ) -> None:
        if client_id != self.credentials.client_id:
            raise LoginFailed("invalid_client_id", "client identifier invalid")
        if (secret_required or client_secret is not None) and client_secret != (
            self.credentials.client_secret
        ):
            raise LoginFailed("invalid_client", "invalid client credentials")

    def token_request(
        self, body: bytes, authorization: str | None, instance_url: str
    ) -> dict[str, Any]:
        """Answer a ``POST /services/oauth2/token`` form, or raise :class:`LoginFailed`."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if not grant:
            raise LoginFailed("invalid_request", "grant type is missing")
        credentials = self.credentials
        if grant == "refresh_token":
            self._client(form.get("client_id"), form.get("client_secret"), secret_required=False)
            if form.get("refresh_token") != credentials.refresh_token:
                raise LoginFailed("invalid_grant", "expired access/refresh token")
        elif grant == "password":
            self._client(form.get("client_id"), form.get("client_secret"), secret_required=True)
            if form.get("username") != credentials.username or not self._password_ok(
                form.get("password") or ""
            ):
                raise LoginFailed("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if authorization and authorization.lower().startswith("basic "):
                try:
                    decoded = base64.b64decode(authorization[6:]).decode()
                except ValueError:
                    decoded = ":"
                client_id, _, client_secret = decoded.partition(":")
            self._client(client_id, client_secret, secret_required=True)
        else:
            raise LoginFailed("unsupported_grant_type", "grant type not supported")
        issued_at = str(int(time.time() * 1000))
        identity = f"{instance_url}/id/{ORGANIZATION_ID}/{USER_ID}"
        signature = base64.b64encode(
            hmac.new(
                credentials.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
            ).digest()
        ).decode()
        return {
            "access_token": self.issue(),
            "signature": signature,
            "scope": "api refresh_token",
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    # -- SOAP login -------------------------------------------------------------------------------

    def soap_login(self, body: bytes) -> str:
        """The session id for a Partner ``login()`` envelope, or raise :class:`LoginFailed`."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise LoginFailed("INVALID_LOGIN", _LOGIN_FAILED) from None
        values = {
            element.tag.rsplit("}", 1)[-1]: element.text or ""
            for element in root.iter()
            if element.tag.rsplit("}", 1)[-1] in ("username", "password")
        }
        credentials = self.credentials
        expected = credentials.password + credentials.security_token
        if values.get("username") != credentials.username or not secrets.compare_digest(
            values.get("password", ""), expected
        ):
            raise LoginFailed("INVALID_LOGIN", _LOGIN_FAILED)
        return self.issue()


def soap_login_response(session_id: str, base_url: str, version: str, username: str) -> str:
    """The Partner API ``loginResponse`` envelope."""
    org15 = ORGANIZATION_ID[:15]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{escape(base_url)}/services/Soap/m/{version}/{org15}"
        "</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired>"
        "<sandbox>true</sandbox>"
        f"<serverUrl>{escape(base_url)}/services/Soap/u/{version}/{org15}</serverUrl>"
        f"<sessionId>{escape(session_id)}</sessionId>"
        f"<userId>{USER_ID}</userId>"
        "<userInfo>"
        "<accessibilityMode>false</accessibilityMode>"
        "<currencySymbol>$</currencySymbol>"
        "<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
        "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
        "<orgHasPersonAccounts>false</orgHasPersonAccounts>"
        f"<organizationId>{ORGANIZATION_ID}</organizationId>"
        "<organizationMultiCurrency>false</organizationMultiCurrency>"
        "<organizationName>icp-sync Sandbox</organizationName>"
        f"<profileId>{PROFILE_ID}</profileId>"
        '<roleId xsi:nil="true"/>'
        "<sessionSecondsValid>7200</sessionSecondsValid>"
        '<userDefaultCurrencyIsoCode xsi:nil="true"/>'
        f"<userEmail>{escape(username)}</userEmail>"
        "<userFullName>Sandbox Integration</userFullName>"
        f"<userId>{USER_ID}</userId>"
        "<userLanguage>en_US</userLanguage>"
        "<userLocale>en_US</userLocale>"
        f"<userName>{escape(username)}</userName>"
        "<userTimeZone>America/Los_Angeles</userTimeZone>"
        "<userType>Standard</userType>"
        "<userUiSkin>Theme3</userUiSkin>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> str:
    """A ``LoginFault`` SOAP fault, with the ``sf:``-prefixed detail clients look for."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode>"
        f"<faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
