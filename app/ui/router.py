"""The dashboard (DESIGN §10): server-rendered pages for RevOps, signed in with an API key.

Pages read aggregates and keyset pages only. Backtests, previews and discovery read every
account they concern, so they are computed when asked (a button), not on page load.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path as FilePath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.accounts import service as accounts
from app.accounts.repository import AccountFilters
from app.apikeys.service import authenticate
from app.connections.service import list_connections
from app.core.errors import Forbidden, IcpSyncError, Unauthorized
from app.core.http import SessionDep
from app.core.security import Scope
from app.health.service import check_icp_health, standing_health
from app.icps import service as icps
from app.insights import service as insights
from app.insights.schemas import DiscoverIn, Window
from app.models import IcpVersion
from app.sync.service import SYNC_MODES, request_sync
from app.ui import service
from app.ui.auth import (
    ActingVisitor,
    FormVisitor,
    SignInRequired,
    VisitorDep,
    local_path,
    session_cookies,
)
from app.ui.session import (
    CSRF_FIELD,
    SIGN_IN_COOKIE,
    DashboardSession,
    new_csrf_token,
    same_token,
)

TEMPLATES = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
TEMPLATES.env.globals["csrf_field"] = CSRF_FIELD

# Pages may load only this site's scripts, styles and images, post forms only here, and
# never be framed (clickjacking): the vendored chart library is all the script there is.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ACCOUNTS_PER_PAGE = 50
TIERS = "ABCD"


class PageRoute(APIRoute):
    """A dashboard route: what goes wrong is shown as a page, not as the API's JSON, and a
    visitor with no session is sent to the sign-in form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped to render failures as pages."""
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as exc:
                return RedirectResponse(exc.location, status_code=303)
            except IcpSyncError as exc:
                return _error_page(request, exc.status_code, exc.error, exc.detail)
            except (RequestValidationError, ValidationError) as exc:
                problems = [
                    f"{'.'.join(map(str, e['loc'][-1:]))}: {e['msg']}" for e in exc.errors()
                ]
                return _error_page(request, 422, "ValidationFailed", problems)
            for name, value in PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page_handler


router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["dashboard"])


def _error_page(request: Request, status: int, error: str, detail: Any) -> Response:
    problems = detail if isinstance(detail, list) else [detail]
    lines = [p.get("message", str(p)) if isinstance(p, dict) else str(p) for p in problems]
    response = TEMPLATES.TemplateResponse(
        request, "error.html", {"status": status, "error": error, "problems": lines}, status
    )
    response.headers.update(PAGE_HEADERS)
    return response


def _page(
    request: Request, template: str, visitor: Any, context: Mapping[str, Any] | None = None
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {"visitor": visitor, "nav": template, **(context or {})}
    )


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _chart_data(value: Any) -> Markup:
    """Figures for a page's charts, as JSON a ``<script type="application/json">`` holds:
    ``<``, ``>`` and ``&`` escaped as JSON escapes, so no value can close the element."""
    text = orjson.dumps(value, default=str).decode()
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)


TEMPLATES.env.filters["chart_data"] = _chart_data


# -- sign-in -----------------------------------------------------------------------------


@router.get("/signin")
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (an API key), with a fresh CSRF token in a cookie of its own."""
    token = new_csrf_token()
    response = TEMPLATES.TemplateResponse(
        request, "signin.html", {"csrf_token": token, "next": local_path(next), "error": None}
    )
    session_cookies(request).begin_sign_in(response, token)
    return response


@router.post("/signin")
async def sign_in(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
) -> Response:
    """Check the key and open a session; the form again, with the reason, when refused."""
    cookies = session_cookies(request)
    expected = cookies.sign_in_token(request.cookies.get(SIGN_IN_COOKIE))
    if expected is None or not same_token(expected, csrf_token):
        raise Forbidden("the sign-in form has expired or did not come from this site; reload it")
    try:
        await authenticate(session, token=api_key.strip(), scope=Scope.READ)
    except (Unauthorized, Forbidden):
        token = new_csrf_token()
        refused: Response = TEMPLATES.TemplateResponse(
            request,
            "signin.html",
            {"csrf_token": token, "next": local_path(next), "error": "That key is not valid."},
            status_code=401,
        )
        cookies.begin_sign_in(refused, token)
        return refused
    response = _see_other(local_path(next))
    cookies.start(response, DashboardSession(api_key.strip(), new_csrf_token()))
    return response


@router.post("/signout")
async def sign_out(request: Request, visitor: FormVisitor) -> Response:
    """End the session."""
    response = _see_other("/signin")
    session_cookies(request).end(response)
    return response


# -- overview ----------------------------------------------------------------------------


@router.get("/")
async def overview_page(request: Request, session: SessionDep, visitor: VisitorDep) -> Response:
    """Tiers, MQL/SQL, coverage, the active ICP and its health, syncs and backlogs."""
    return _page(request, "overview.html", visitor, {"o": await service.overview(session)})


# -- ICP versions ------------------------------------------------------------------------


@router.get("/icps")
async def icps_page(request: Request, session: SessionDep, visitor: VisitorDep) -> Response:
    """Every version, newest first."""
    return _page(request, "icps.html", visitor, {"versions": await icps.list_icps(session)})


@router.get("/icps/{icp_id}")
async def icp_page(
    request: Request,
    icp_id: uuid.UUID,
    session: SessionDep,
    visitor: VisitorDep,
    against: uuid.UUID | None = None,
) -> Response:
    """A version: its definition, its diff against another, backtest, preview, activate."""
    version = await icps.get_icp(session, icp_id=icp_id)
    versions = await icps.list_icps(session)
    other = await _diff_base(session, version, versions, against)
    return _page(
        request,
        "icp.html",
        visitor,
        {
            "version": version,
            "versions": versions,
            "yaml": service.definition_yaml(version.definition),
            "other": other,
            "diff": service.definition_diff(other, version) if other is not None else [],
        },
    )


async def _diff_base(
    session: AsyncSession,
    version: IcpVersion,
    versions: Sequence[IcpVersion],
    against: uuid.UUID | None,
) -> IcpVersion | None:
    """What a version's page diffs it against: the one asked for, else the active one,
    else the version before it."""
    if against is not None:
        return await icps.get_icp(session, icp_id=against)
    active = next((v for v in versions if v.status == "active" and v.id != version.id), None)
    if active is not None:
        return active
    older = [v for v in versions if v.name == version.name and v.version < version.version]
    return max(older, key=lambda v: v.version) if older else None


def _window(closed_after: date | None, closed_before: date | None) -> Window:
    """A window from a form's dates (whole days, UTC)."""
    return Window(
        closed_after=datetime.combine(closed_after, time(), UTC) if closed_after else None,
        closed_before=datetime.combine(closed_before, time(), UTC) if closed_before else None,
    )


@router.get("/icps/{icp_id}/backtest")
async def icp_backtest(
    request: Request,
    icp_id: uuid.UUID,
    session: SessionDep,
    visitor: VisitorDep,
    closed_after: Annotated[date | None, Query()] = None,
    closed_before: Annotated[date | None, Query()] = None,
) -> Response:
    """The version's backtest (an HTML fragment the version's page loads on request)."""
    figures = await insights.backtest_icp(
        session, icp_id=icp_id, window=_window(closed_after, closed_before)
    )
    return TEMPLATES.TemplateResponse(request, "_backtest.html", {"b": figures, "key": "backtest"})


@router.get("/icps/{icp_id}/preview")
async def icp_preview(
    request: Request, icp_id: uuid.UUID, session: SessionDep, visitor: VisitorDep
) -> Response:
    """What activating the version would change (an HTML fragment, loaded on request)."""
    figures = await insights.preview_activation(session, icp_id=icp_id)
    names = {str(c.id): c.name for c in await list_connections(session)}
    # Tiers A to D first, then the unscored ("none") row.
    rows = sorted(figures["transitions"], key=lambda tier: (tier not in TIERS, tier))
    return TEMPLATES.TemplateResponse(
        request, "_preview.html", {"p": figures, "tiers": TIERS, "rows": rows, "names": names}
    )


@router.post("/icps/{icp_id}/activate")
async def activate(
    request: Request, icp_id: uuid.UUID, session: SessionDep, visitor: ActingVisitor
) -> Response:
    """Make the version active (its rescore is queued with it)."""
    await icps.activate_icp(session, icp_id=icp_id)
    return _see_other(f"/icps/{icp_id}?activated=1")


# -- discovery ---------------------------------------------------------------------------


@router.get("/discover")
async def discover_form(request: Request, visitor: VisitorDep) -> Response:
    """The discovery form."""
    return _page(request, "discover.html", visitor, {"result": None, "form": {}})


@router.post("/discover")
async def discover(
    request: Request,
    session: SessionDep,
    visitor: FormVisitor,
    closed_after: Annotated[str, Form(max_length=10)] = "",
    closed_before: Annotated[str, Form(max_length=10)] = "",
    max_criteria: Annotated[int, Form(ge=1, le=20)] = 8,
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Run discovery on the window and show the traits and the candidate."""
    window = _window(_form_date(closed_after), _form_date(closed_before))
    request_body = DiscoverIn(
        closed_after=window.closed_after,
        closed_before=window.closed_before,
        max_criteria=max_criteria,
        **({"name": name.strip()} if name.strip() else {}),
    )
    result = await insights.discover_icp(session, request=request_body)
    form = {
        "closed_after": closed_after,
        "closed_before": closed_before,
        "max_criteria": max_criteria,
        "name": name,
    }
    return _page(
        request,
        "discover.html",
        visitor,
        {"result": result, "form": form},
    )


def _form_date(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RequestValidationError(
            [{"loc": ("body", "date"), "msg": f"{value!r} is not a date (YYYY-MM-DD)"}]
        ) from None


@router.post("/discover/save")
async def save_candidate(
    request: Request,
    session: SessionDep,
    visitor: ActingVisitor,
    definition: Annotated[str, Form(max_length=1_000_000)],
) -> Response:
    """Save the discovered candidate as a new (draft) version and open its page."""
    version = await icps.create_icp(session, source=definition, content_type="application/yaml")
    return _see_other(f"/icps/{version.id}?saved=1")


# -- accounts ----------------------------------------------------------------------------


FilterText = Annotated[str | None, Query(max_length=200)]
SortText = Annotated[str, Query(max_length=20)]


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """The accounts page's filters and sort, parsed, and as the query string carries them
    (a form's empty choice means no filter)."""

    filters: AccountFilters
    sort: str
    raw: dict[str, str]


def _flag(name: str, value: str | None) -> bool | None:
    if not value:
        return None
    if value not in ("true", "false"):
        raise RequestValidationError([{"loc": ("query", name), "msg": "true or false"}])
    return value == "true"


def account_query(
    tier: FilterText = None,
    is_mql: FilterText = None,
    is_sql: FilterText = None,
    connection_id: FilterText = None,
    q: FilterText = None,
    sort: SortText = "-score",
) -> AccountQuery:
    """The filters and sort of the accounts page and of its CSV export."""
    try:
        connection = uuid.UUID(connection_id) if connection_id else None
    except ValueError:
        raise RequestValidationError(
            [{"loc": ("query", "connection_id"), "msg": "not a connection id"}]
        ) from None
    filters = AccountFilters(
        tier=accounts.parse_tier(tier or None),
        is_mql=_flag("is_mql", is_mql),
        is_sql=_flag("is_sql", is_sql),
        connection_id=connection,
        q=(q or "").strip() or None,
    )
    raw = {
        "tier": tier or "",
        "is_mql": is_mql or "",
        "is_sql": is_sql or "",
        "connection_id": connection_id or "",
        "q": q or "",
        "sort": sort,
    }
    return AccountQuery(filters, accounts.parse_sort(sort), raw)


AccountQueryDep = Annotated[AccountQuery, Depends(account_query)]


@router.get("/accounts/export.csv")
async def export_accounts(
    request: Request, visitor: VisitorDep, query: AccountQueryDep
) -> Response:
    """The filtered, sorted list as CSV, streamed."""
    return StreamingResponse(
        accounts.export_accounts_csv(
            request.app.state.database, filters=query.filters, sort=query.sort
        ),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="accounts.csv"'},
    )


@router.get("/accounts")
async def accounts_page(
    request: Request,
    session: SessionDep,
    visitor: VisitorDep,
    query: AccountQueryDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Accounts filtered, sorted and searched, a keyset page at a time."""
    rows, next_cursor = await accounts.list_accounts(
        session, filters=query.filters, sort=query.sort, cursor=cursor, limit=ACCOUNTS_PER_PAGE
    )
    return _page(
        request,
        "accounts.html",
        visitor,
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "query": query.raw,
            "sorts": accounts.ACCOUNT_SORTS,
            "connections": await list_connections(session),
            "first_page": cursor is None,
        },
    )


@router.get("/accounts/{account_id}")
async def account_page(
    request: Request,
    account_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    session: SessionDep,
    visitor: VisitorDep,
) -> Response:
    """One account: the per-criterion breakdown, deals, contacts, personas and history."""
    detail = await accounts.get_account(session, account_id=account_id)
    return _page(request, "account.html", visitor, {"d": detail})


# -- connections and syncs ---------------------------------------------------------------


@router.get("/connections")
async def connections_page(request: Request, session: SessionDep, visitor: VisitorDep) -> Response:
    """Connections, their recent sync runs with counts, their pending writes."""
    statuses = await service.connection_statuses(session, runs_each=service.RECENT_RUNS)
    return _page(request, "connections.html", visitor, {"statuses": statuses, "modes": SYNC_MODES})


@router.post("/connections/{connection_id}/sync")
async def start_sync(
    request: Request,
    connection_id: uuid.UUID,
    session: SessionDep,
    visitor: ActingVisitor,
    mode: Annotated[str, Form(max_length=20)] = "incremental",
) -> Response:
    """Queue a sync of the connection."""
    await request_sync(session, connection_id=connection_id, mode=mode)
    return _see_other("/connections?queued=1")


# -- health ------------------------------------------------------------------------------


@router.get("/health")
async def health_page(request: Request, session: SessionDep, visitor: VisitorDep) -> Response:
    """The active ICP's age, drift since its baseline, fill rates and alerts (from its
    latest check; a button runs one now)."""
    return _page(request, "health.html", visitor, {"h": await standing_health(session)})


@router.post("/health/check")
async def check_health(request: Request, session: SessionDep, visitor: ActingVisitor) -> Response:
    """Run the health check now (it announces new alerts as the daily one does)."""
    await check_icp_health(session)
    return _see_other("/health?checked=1")
