"""Salesforce's REST endpoints, one module-level handler each, and the login endpoints.

A REST handler takes the request, finds the fake on ``request.app.state.sandbox`` and returns
``(status, body)``; refusals raise :class:`SalesforceError`. ``app.py`` wraps each in the API
pipeline (counting, session, daily allocation, faults, rendering) from :data:`DATA_ROUTES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.common.http import base_url, json_response
from connectors.sandbox.salesforce.auth import LoginFailed, soap_fault, soap_login_response
from connectors.sandbox.salesforce.bodies import read_body, read_object
from connectors.sandbox.salesforce.bulk import BULK_ROUTES
from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.query import (
    batch_size_from,
    deleted_since,
    render_record,
    render_rows,
    updated_since,
)
from connectors.sandbox.salesforce.sosl import search
from connectors.sandbox.salesforce.state import JSON_MEDIA_TYPE, MAX_COLLECTION, SalesforceSandbox
from connectors.sandbox.salesforce.store import ObjectStore, now_string

__all__ = ["DATA", "DATA_ROUTES", "ApiHandler", "oauth_token", "soap_login", "versions"]

ApiHandler = Callable[[Request], Awaitable[tuple[int, Any]]]

MAX_RETRIEVE_GET: Final = 800
MAX_RETRIEVE_POST: Final = 2000
DATA: Final = "/services/data/v{version}"
_XML: Final = "text/xml;charset=UTF-8"


def _sandbox(request: Request) -> SalesforceSandbox:
    sandbox: SalesforceSandbox = request.app.state.sandbox
    return sandbox


def _store(request: Request) -> ObjectStore:
    return _sandbox(request).store_for(request.path_params["sobject"])


def _csv(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _release_name(version: int) -> str:
    """``Winter '24`` for 59: three releases a year, Spring first."""
    step = version - 60
    season = ("Spring", "Summer", "Winter")[step % 3]
    year = 24 + step // 3 + (1 if season == "Winter" else 0)
    return f"{season} '{year:02d}"


def _existing(store: ObjectStore, raw_id: str) -> dict[str, Any]:
    record = store.get(raw_id)
    if record is None:
        raise SalesforceError.not_found()
    if record["IsDeleted"]:
        raise SalesforceError.entity_is_deleted()
    return record


def _field_names(store: ObjectStore, names: list[str]) -> list[str]:
    resolved = []
    for name in names:
        spec = store.schema.resolve(name)
        if spec is None:
            raise SalesforceError.bad_request(
                "INVALID_FIELD", f"No such column '{name}' on entity '{store.name}'."
            )
        resolved.append(spec.name)
    return resolved


# -- resources, limits, queries ------------------------------------------------------------------


async def resources(request: Request) -> tuple[int, Any]:
    """``GET /services/data/vXX.X``: the resources of a version."""
    base = f"/services/data/v{request.path_params['version']}"
    names = ("sobjects", "query", "queryAll", "limits", "composite", "search")
    return 200, {name: f"{base}/{name}" for name in names}


async def limits(request: Request) -> tuple[int, Any]:
    """``GET .../limits``."""
    return 200, _sandbox(request).allocation.limits_body()


def _run_query(request: Request, *, all_rows: bool) -> dict[str, Any]:
    text = request.query_params.get("q")
    if text is None:
        raise SalesforceError.bad_request("MALFORMED_QUERY", "A query string has to be specified")
    return _sandbox(request).queries.run(
        text,
        all_rows=all_rows,
        batch_size=batch_size_from(request.headers.get("sforce-query-options")),
        version=request.path_params["version"],
    )


def _more(request: Request, *, all_rows: bool) -> dict[str, Any]:
    return _sandbox(request).queries.more(
        request.path_params["locator"],
        all_rows=all_rows,
        batch_size=batch_size_from(request.headers.get("sforce-query-options")),
        version=request.path_params["version"],
    )


async def query(request: Request) -> tuple[int, Any]:
    """``GET .../query?q=``: the first batch of a SOQL query."""
    return 200, _run_query(request, all_rows=False)


async def query_more(request: Request) -> tuple[int, Any]:
    """``GET .../query/{locator}``: the next batch."""
    return 200, _more(request, all_rows=False)


async def query_all(request: Request) -> tuple[int, Any]:
    """``GET .../queryAll?q=``: deleted records included."""
    return 200, _run_query(request, all_rows=True)


async def query_all_more(request: Request) -> tuple[int, Any]:
    """``GET .../queryAll/{locator}``."""
    return 200, _more(request, all_rows=True)


async def sosl_search(request: Request) -> tuple[int, Any]:
    """``GET .../search?q=``: a SOSL search."""
    sandbox = _sandbox(request)
    return 200, search(
        sandbox.org,
        sandbox.queries,
        request.query_params.get("q"),
        request.path_params["version"],
    )


# -- sObjects ------------------------------------------------------------------------------------


async def describe_global(request: Request) -> tuple[int, Any]:
    """``GET .../sobjects``."""
    version = request.path_params["version"]
    return 200, {
        "encoding": "UTF-8",
        "maxBatchSize": MAX_COLLECTION,
        "sobjects": [
            store.schema.summary(version) for store in _sandbox(request).org.stores.values()
        ],
    }


async def sobject_info(request: Request) -> tuple[int, Any]:
    """``GET .../sobjects/{sobject}``: its summary and recent items."""
    store = _store(request)
    version = request.path_params["version"]
    recent = [i for i in reversed(store.order[-3:]) if not store.records[i]["IsDeleted"]]
    names = ["Id", "Name"] if "Name" in store.schema.fields else ["Id"]
    return 200, {
        "objectDescribe": store.schema.summary(version),
        "recentItems": render_rows(store, recent, names, version),
    }


async def describe(request: Request) -> tuple[int, Any]:
    """``GET .../sobjects/{sobject}/describe``."""
    return 200, _store(request).schema.describe(request.path_params["version"])


async def create(request: Request) -> tuple[int, Any]:
    """``POST .../sobjects/{sobject}``: one new record."""
    org, store = _sandbox(request).org, _store(request)
    payload = await read_object(request)
    values = org.parse_values(store, payload)
    [result] = org.save(store, [(None, values)], creating=True, all_or_none=True, now=now_string())
    if result.error is not None:
        raise result.error.as_exception()
    return 201, result.as_dict()


async def get_record(request: Request) -> tuple[int, Any]:
    """``GET .../sobjects/{sobject}/{record_id}`` (``?fields=`` narrows it)."""
    store = _store(request)
    record = _existing(store, request.path_params["record_id"])
    raw_fields = request.query_params.get("fields")
    fields = _field_names(store, _csv(raw_fields)) if raw_fields else None
    return 200, render_record(store, record, request.path_params["version"], fields)


async def update_record(request: Request) -> tuple[int, Any]:
    """``PATCH .../sobjects/{sobject}/{record_id}``."""
    org, store = _sandbox(request).org, _store(request)
    record = _existing(store, request.path_params["record_id"])
    payload = await read_object(request)
    values = org.parse_values(store, payload)
    [result] = org.save(
        store, [(record["Id"], values)], creating=False, all_or_none=True, now=now_string()
    )
    if result.error is not None:
        raise result.error.as_exception()
    return 204, None


async def delete_record(request: Request) -> tuple[int, Any]:
    """``DELETE .../sobjects/{sobject}/{record_id}``."""
    org, store = _sandbox(request).org, _store(request)
    record = _existing(store, request.path_params["record_id"])
    org.delete(store, record["Id"], now=now_string())
    return 204, None


async def updated(request: Request) -> tuple[int, Any]:
    """``GET .../sobjects/{sobject}/updated?start=&end=``."""
    params = request.query_params
    return 200, updated_since(_store(request), params.get("start"), params.get("end"))


async def deleted(request: Request) -> tuple[int, Any]:
    """``GET .../sobjects/{sobject}/deleted?start=&end=``."""
    params = request.query_params
    return 200, deleted_since(
        _store(request),
        params.get("start"),
        params.get("end"),
        earliest=_sandbox(request).org.created_at,
    )


# -- composite collections -----------------------------------------------------------------------


async def create_collection(request: Request) -> tuple[int, Any]:
    """``POST .../composite/sobjects``: up to 200 new records."""
    payload = await read_body(request)
    return 200, _sandbox(request).collection(payload, creating=True)


async def update_collection(request: Request) -> tuple[int, Any]:
    """``PATCH .../composite/sobjects``: up to 200 updates."""
    payload = await read_body(request)
    return 200, _sandbox(request).collection(payload, creating=False)


async def delete_collection(request: Request) -> tuple[int, Any]:
    """``DELETE .../composite/sobjects?ids=&allOrNone=``."""
    params = request.query_params
    ids = _csv(params.get("ids"))
    all_or_none = (params.get("allOrNone") or "false").lower() == "true"
    return 200, _sandbox(request).delete_collection(ids, all_or_none=all_or_none)


def _retrieve(ids: list[str], fields: list[str], store: ObjectStore, version: str) -> list[Any]:
    names = _field_names(store, fields)
    if not names:
        raise SalesforceError.bad_request("MISSING_ARGUMENT", "fields is required")
    out: list[Any] = []
    for raw_id in ids:
        record = store.get(raw_id)
        if record is None or record["IsDeleted"]:
            out.append(None)
        else:
            out.append(render_record(store, record, version, names))
    return out


async def retrieve_get(request: Request) -> tuple[int, Any]:
    """``GET .../composite/sobjects/{sobject}?ids=&fields=``."""
    store = _store(request)
    params = request.query_params
    ids, fields = _csv(params.get("ids")), _csv(params.get("fields"))
    if len(ids) > MAX_RETRIEVE_GET:
        raise SalesforceError.bad_request(
            "EXCEEDED_ID_LIMIT", f"Too many ids: at most {MAX_RETRIEVE_GET} in a GET"
        )
    return 200, _retrieve(ids, fields, store, request.path_params["version"])


async def retrieve_post(request: Request) -> tuple[int, Any]:
    """``POST .../composite/sobjects/{sobject}`` ``{"ids", "fields"}``."""
    store = _store(request)
    payload = await read_object(request)
    ids = [str(i) for i in payload.get("ids") or []]
    if len(ids) > MAX_RETRIEVE_POST:
        raise SalesforceError.bad_request(
            "EXCEEDED_ID_LIMIT", f"Too many ids: at most {MAX_RETRIEVE_POST}"
        )
    fields = [str(f) for f in payload.get("fields") or []]
    return 200, _retrieve(ids, fields, store, request.path_params["version"])


_SOBJECT: Final = f"{DATA}/sobjects/{{sobject}}"
DATA_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("GET", DATA, resources),
    ("GET", f"{DATA}/limits", limits),
    ("GET", f"{DATA}/query", query),
    ("GET", f"{DATA}/query/{{locator}}", query_more),
    ("GET", f"{DATA}/queryAll", query_all),
    ("GET", f"{DATA}/queryAll/{{locator}}", query_all_more),
    ("GET", f"{DATA}/search", sosl_search),
    ("GET", f"{DATA}/sobjects", describe_global),
    ("GET", _SOBJECT, sobject_info),
    ("POST", _SOBJECT, create),
    ("GET", f"{_SOBJECT}/describe", describe),
    ("GET", f"{_SOBJECT}/updated", updated),
    ("GET", f"{_SOBJECT}/deleted", deleted),
    ("GET", f"{_SOBJECT}/{{record_id}}", get_record),
    ("PATCH", f"{_SOBJECT}/{{record_id}}", update_record),
    ("DELETE", f"{_SOBJECT}/{{record_id}}", delete_record),
    ("POST", f"{DATA}/composite/sobjects", create_collection),
    ("PATCH", f"{DATA}/composite/sobjects", update_collection),
    ("DELETE", f"{DATA}/composite/sobjects", delete_collection),
    ("GET", f"{DATA}/composite/sobjects/{{sobject}}", retrieve_get),
    ("POST", f"{DATA}/composite/sobjects/{{sobject}}", retrieve_post),
    *BULK_ROUTES,
)


# -- outside the pipeline: versions and login ----------------------------------------------------


async def versions(request: Request) -> Response:
    """``GET /services/data``: every API version, counted but needing no session."""
    sandbox = _sandbox(request)
    sandbox.calls.count("GET /services/data")
    body = [
        {"label": _release_name(int(float(v))), "url": f"/services/data/v{v}", "version": v}
        for v in sandbox.versions
    ]
    return json_response(200, body, media_type=JSON_MEDIA_TYPE)


async def oauth_token(request: Request) -> Response:
    """``POST /services/oauth2/token``: the OAuth flows; not counted against the allocation."""
    sandbox = _sandbox(request)
    sandbox.calls.count("POST /services/oauth2/token")
    try:
        body = sandbox.sessions.token_request(
            await request.body(), request.headers.get("authorization"), base_url(request)
        )
    except LoginFailed as failed:
        return json_response(400, failed.oauth_body(), media_type=JSON_MEDIA_TYPE)
    return json_response(200, body, media_type=JSON_MEDIA_TYPE)


async def soap_login(request: Request) -> Response:
    """``POST /services/Soap/u/{version}``: the SOAP ``login`` call."""
    sandbox = _sandbox(request)
    sandbox.calls.count("POST /services/Soap/u/{version}")
    sessions = sandbox.sessions
    try:
        session_id = sessions.soap_login(await request.body())
    except LoginFailed as failed:
        return Response(soap_fault(failed.error, failed.description), 500, media_type=_XML)
    version = request.path_params["version"]
    return Response(
        soap_login_response(session_id, base_url(request), version, sessions.credentials.username),
        200,
        media_type=_XML,
    )
