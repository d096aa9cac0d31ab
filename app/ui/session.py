"""The dashboard's session: the API key a person signed in with, sealed into a cookie.

The cookie is a Fernet token (encrypted and authenticated, with its issue time) under a key
derived from the service's secret keys, so it can be neither read nor forged nor kept past
its lifetime; it is HttpOnly (no script reads it), SameSite=Strict (no other site's page
sends it) and Secure. The key is checked against the database on every request, so revoking
it signs its sessions out. Each session carries its own CSRF token for the forms it renders.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import orjson
from cryptography.fernet import InvalidToken, MultiFernet
from starlette.responses import Response

SESSION_COOKIE = "icp_sync_session"
# Before sign-in there is no session to carry the sign-in form's CSRF token: a short-lived
# cookie of its own does (a double submit, sealed like the session).
SIGN_IN_COOKIE = "icp_sync_sign_in"
SIGN_IN_SECONDS = 3600
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """Who signed in (their API key) and the CSRF token their forms carry."""

    api_key: str
    csrf_token: str


def new_csrf_token() -> str:
    """A fresh unguessable token."""
    return secrets.token_urlsafe(32)


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class SessionCookies:
    """Seals sessions into cookies and opens them again."""

    def __init__(self, cipher: MultiFernet, *, max_age_seconds: int, secure: bool) -> None:
        self.cipher = cipher
        self.max_age_seconds = max_age_seconds
        self.secure = secure

    def _seal(self, value: dict[str, str]) -> str:
        return self.cipher.encrypt(orjson.dumps(value)).decode()

    def _open(self, cookie: str | None, *, ttl: int) -> dict[str, str] | None:
        if not cookie:
            return None
        try:
            value = orjson.loads(self.cipher.decrypt(cookie.encode(), ttl=ttl))
        except (InvalidToken, orjson.JSONDecodeError, UnicodeError):
            return None
        return value if isinstance(value, dict) else None

    def _set(self, response: Response, name: str, value: str, *, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def session(self, cookie: str | None) -> DashboardSession | None:
        """The session a cookie holds, or None (absent, forged, tampered or expired)."""
        value = self._open(cookie, ttl=self.max_age_seconds)
        if value is None or not isinstance(key := value.get("key"), str):
            return None
        if not isinstance(csrf := value.get("csrf"), str):
            return None
        return DashboardSession(key, csrf)

    def start(self, response: Response, session: DashboardSession) -> None:
        """Set the session cookie and drop the sign-in one."""
        sealed = self._seal({"key": session.api_key, "csrf": session.csrf_token})
        self._set(response, SESSION_COOKIE, sealed, max_age=self.max_age_seconds)
        self.end_sign_in(response)

    def end(self, response: Response) -> None:
        """Sign out: the browser forgets the session cookie."""
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def sign_in_token(self, cookie: str | None) -> str | None:
        """The CSRF token the sign-in cookie holds, or None."""
        value = self._open(cookie, ttl=SIGN_IN_SECONDS)
        token = value.get("csrf") if value is not None else None
        return token if isinstance(token, str) else None

    def begin_sign_in(self, response: Response, token: str) -> None:
        """Set the sign-in cookie carrying the sign-in form's CSRF token."""
        self._set(response, SIGN_IN_COOKIE, self._seal({"csrf": token}), max_age=SIGN_IN_SECONDS)

    def end_sign_in(self, response: Response) -> None:
        """Drop the sign-in cookie."""
        response.delete_cookie(
            SIGN_IN_COOKIE, path="/", secure=self.secure, httponly=True, samesite="strict"
        )
