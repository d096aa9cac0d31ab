"""Who is looking at the dashboard: the API key their session cookie holds, checked against
the database on every request (a revoked key signs its sessions out), and the CSRF check
every form submission passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request

from app.apikeys.service import authenticate
from app.core.errors import Forbidden, IcpSyncError, Unauthorized
from app.core.http import SessionDep
from app.core.security import Scope, grants
from app.models import ApiKey
from app.ui.session import CSRF_FIELD, SESSION_COOKIE, SessionCookies, same_token


class SignInRequired(IcpSyncError):
    """No valid session: the page answers with a redirect to the sign-in form."""

    status_code = 303

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to see this page")
        self.location = f"/signin?next={quote(next_path, safe='/')}"


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in person: their key, their session's CSRF token, and what they may do."""

    key: ApiKey
    csrf_token: str

    @property
    def can_write(self) -> bool:
        """Whether their key may act (activate, sync, save), not only look."""
        return grants(self.key.scopes, Scope.WRITE)


def session_cookies(request: Request) -> SessionCookies:
    """The app's session sealer (built at start-up from the service's secret keys)."""
    cookies: SessionCookies = request.app.state.session_cookies
    return cookies


def local_path(candidate: str | None) -> str:
    """Where to go after signing in: a path on this site, never another host (an open
    redirect would let a link sign someone in and send them elsewhere)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return "/"
    return candidate


async def visitor(request: Request, session: SessionDep) -> Visitor:
    """The signed-in visitor, or SignInRequired (the page redirects to the sign-in form)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    opened = session_cookies(request).session(request.cookies.get(SESSION_COOKIE))
    if opened is None:
        raise SignInRequired(here)
    try:
        key = await authenticate(session, token=opened.api_key, scope=Scope.READ)
    except Unauthorized:  # revoked since sign-in
        raise SignInRequired(here) from None
    return Visitor(key, opened.csrf_token)


VisitorDep = Annotated[Visitor, Depends(visitor)]


async def form_visitor(
    visitor: VisitorDep, csrf_token: Annotated[str | None, Form(alias=CSRF_FIELD)] = None
) -> Visitor:
    """The visitor submitting a form that carries their session's CSRF token; 403 for a
    form without it (another site's page, or one from before sign-in)."""
    if not same_token(visitor.csrf_token, csrf_token):
        raise Forbidden("this form has expired or did not come from this dashboard; reload it")
    return visitor


async def acting_visitor(visitor: Annotated[Visitor, Depends(form_visitor)]) -> Visitor:
    """A form submitter whose key may act (write scope); 403 for a read-only key."""
    if not visitor.can_write:
        raise Forbidden("your API key can look but not act: sign in with a write or admin key")
    return visitor


FormVisitor = Annotated[Visitor, Depends(form_visitor)]
ActingVisitor = Annotated[Visitor, Depends(acting_visitor)]
