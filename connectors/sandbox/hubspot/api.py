"""HubSpot's CRM v3 endpoints, one module-level handler each.

A handler takes the request and the object type its route serves, finds the fake on
``request.app.state.sandbox``, and returns ``(status, body)``; refusals raise
:class:`HubSpotError`. ``app.py`` wraps each in the API pipeline (counting, auth, limits,
faults, rendering) from the tables at the end of this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request

from connectors.sandbox.common.http import read_json
from connectors.sandbox.hubspot.errors import HubSpotError
from connectors.sandbox.hubspot.properties import PropertyCatalog
from connectors.sandbox.hubspot.property_specs import ALWAYS_RETURNED
from connectors.sandbox.hubspot.search import parse_search, run_search
from connectors.sandbox.hubspot.state import HubSpotSandbox, now
from connectors.sandbox.hubspot.store import SINGULAR, CrmObject, ObjectStore
from connectors.sandbox.hubspot.webhooks import SOURCE_API

__all__ = ["ID_PARAM", "OBJECT_ROUTES", "PROPERTY_ROUTES", "ApiHandler"]

ApiHandler = Callable[[Request, str], Awaitable[tuple[int, Any]]]

MAX_BATCH_INPUTS: Final = 100
MAX_LIST_LIMIT: Final = 100
# The path parameter of a single-object route, per object type.
ID_PARAM: Final = {"companies": "companyId", "deals": "dealId"}


def _sandbox(request: Request) -> HubSpotSandbox:
    sandbox: HubSpotSandbox = request.app.state.sandbox
    return sandbox


def _store(request: Request, object_type: str) -> ObjectStore:
    return _sandbox(request).portal.stores[object_type]


async def _read_json(request: Request) -> Any:
    return await read_json(
        request, lambda why: HubSpotError.validation(f"Invalid input JSON: {why}")
    )


async def _read_object(request: Request) -> dict[str, Any]:
    payload = await _read_json(request)
    if not isinstance(payload, dict):
        raise HubSpotError.validation("Invalid input JSON: expected an object")
    return payload


def _csv_params(request: Request, name: str) -> list[str]:
    """A query parameter given repeated, comma-separated, or both."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise HubSpotError.validation(
            f"Query parameter {name} must be an integer, was {raw!r}"
        ) from None


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _associations(request: Request) -> list[str]:
    stores = _sandbox(request).portal.stores
    return [a for a in _csv_params(request, "associations") if a in stores]


def _batch_inputs(body: Any) -> list[Any]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise HubSpotError.validation("Invalid input JSON: 'inputs' must be a list")
    if len(inputs) > MAX_BATCH_INPUTS:
        raise HubSpotError.validation(
            f"Batch input limit exceeded: {len(inputs)} inputs were given, "
            f"the limit is {MAX_BATCH_INPUTS}",
            context={"limit": [str(MAX_BATCH_INPUTS)]},
        )
    return inputs


def _find(request: Request, object_type: str) -> CrmObject:
    """The record a single-object route names (by id or by ``idProperty``), or 404."""
    store = _store(request, object_type)
    object_id = request.path_params[ID_PARAM[object_type]]
    archived = _flag(request, "archived")
    id_property = request.query_params.get("idProperty")
    record: CrmObject | None
    if id_property and id_property != "hs_object_id":
        if not store.catalog.exists(id_property):
            raise HubSpotError.validation(f"Property '{id_property}' does not exist")
        ids = store.archived_ids if archived else store.live_ids
        record = next(
            (
                store.records[i]
                for i in ids
                if store.records[i].properties.get(id_property) == object_id
            ),
            None,
        )
    else:
        record = store.get(object_id, archived=archived)
    if record is None:
        raise HubSpotError.not_found()
    return record


def _batch_result(
    results: list[dict[str, Any]], started: str, errors: list[dict[str, Any]]
) -> tuple[int, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": now(),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return 207, body
    return 200, body


def _not_found_error(object_type: str, verb: str, ids: list[str]) -> dict[str, Any]:
    kind = SINGULAR[object_type].upper()
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not {verb} some {kind} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        "context": {"ids": ids},
        "links": {},
        "errors": [],
    }


# -- objects -------------------------------------------------------------------------------------


async def list_objects(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/objects/{objectType}``: a page of records."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    limit = _int_param(request, "limit", 10)
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise HubSpotError.validation(f"limit must be between 1 and {MAX_LIST_LIMIT}, was {limit}")
    after = _int_param(request, "after", 0)
    names = sandbox.property_names(store, _csv_params(request, "properties"))
    associations = _associations(request)
    page, next_after = store.page(after, limit, archived=_flag(request, "archived"))
    render = sandbox.render
    body: dict[str, Any] = {"results": [render(r, names, associations, object_type) for r in page]}
    if next_after is not None:
        link = request.url.include_query_params(after=str(next_after))
        body["paging"] = {"next": {"after": str(next_after), "link": str(link)}}
    return 200, body


async def get_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/objects/{objectType}/{id}``."""
    sandbox = _sandbox(request)
    record = _find(request, object_type)
    names = sandbox.property_names(_store(request, object_type), _csv_params(request, "properties"))
    return 200, sandbox.render(record, names, _associations(request), object_type)


async def create_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST /crm/v3/objects/{objectType}``."""
    sandbox = _sandbox(request)
    payload = await _read_json(request)
    record = sandbox.create(_store(request, object_type), payload, now())
    return 201, sandbox.render(record, sorted(record.properties))


async def update_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``PATCH /crm/v3/objects/{objectType}/{id}``."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    payload = await _read_json(request)
    record = _find(request, object_type)
    if not isinstance(payload, dict):
        raise HubSpotError.validation("Invalid input JSON: expected an object with 'properties'")
    values = store.catalog.checked_values(payload.get("properties") or {})
    sandbox.update(store, record, values, now(), SOURCE_API)
    return 200, sandbox.render(record, sorted({*values, *ALWAYS_RETURNED}))


async def archive_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``DELETE /crm/v3/objects/{objectType}/{id}`` (archiving a missing record is a no-op)."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    record = store.get(request.path_params[ID_PARAM[object_type]])
    if record is not None:
        store.archive(record, now=now())
        sandbox.webhooks.deleted(object_type, record.id, SOURCE_API)
    return 204, None


async def batch_read(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/read``: by id or ``idProperty``; missing ones make a 207."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    started = now()
    body = await _read_json(request)
    inputs = _batch_inputs(body)
    names = sandbox.property_names(store, body.get("properties"))
    archived = _flag(request, "archived")
    id_property = body.get("idProperty")
    results, missing, seen = [], [], set()
    for item in inputs:
        raw_id = str(item.get("id")) if isinstance(item, dict) else str(item)
        if raw_id in seen:
            continue
        seen.add(raw_id)
        record: CrmObject | None
        if id_property and id_property != "hs_object_id":
            record = next(
                (r for r in store.live() if r.properties.get(id_property) == raw_id), None
            )
        else:
            record = store.get(raw_id, archived=archived)
        if record is None:
            missing.append(raw_id)
        else:
            results.append(sandbox.render(record, names))
    errors = [_not_found_error(object_type, "get", missing)] if missing else []
    return _batch_result(results, started, errors)


async def batch_create(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/create``: all or nothing."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    started = now()
    inputs = _batch_inputs(await _read_json(request))
    for item in inputs:  # all or nothing, as HubSpot validates the whole batch first
        store.catalog.checked_values(
            item.get("properties") or {} if isinstance(item, dict) else None
        )
    created_at = now()
    records = [sandbox.create(store, item, created_at) for item in inputs]
    _, body = _batch_result([sandbox.render(r, sorted(r.properties)) for r in records], started, [])
    return 201, body


async def batch_update(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/update``: unique ids; missing ones make a 207."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    started = now()
    inputs = _batch_inputs(await _read_json(request))
    if not all(isinstance(item, dict) and item.get("id") is not None for item in inputs):
        raise HubSpotError.validation("Every input needs an 'id'")
    ids = [str(item["id"]) for item in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    if duplicates:
        raise HubSpotError.validation(
            f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique"
        )
    checked = [store.catalog.checked_values(item.get("properties") or {}) for item in inputs]
    updated_at, results, missing = now(), [], []
    always = set(ALWAYS_RETURNED)
    for object_id, values in zip(ids, checked, strict=True):
        record = store.get(object_id)
        if record is None:
            missing.append(object_id)
            continue
        sandbox.update(store, record, values, updated_at, SOURCE_API)
        results.append(sandbox.render(record, sorted(always.union(values))))
    errors = [_not_found_error(object_type, "update", missing)] if missing else []
    return _batch_result(results, started, errors)


async def batch_archive(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/archive``."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    inputs = _batch_inputs(await _read_json(request))
    archived_at = now()
    for item in inputs:
        record = store.get(item.get("id", "") if isinstance(item, dict) else str(item))
        if record is not None:
            store.archive(record, now=archived_at)
            sandbox.webhooks.deleted(object_type, record.id, SOURCE_API)
    return 204, None


async def search(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../search``: filters, sorts, ``after`` paging up to the 10,000-result cap."""
    sandbox, store = _sandbox(request), _store(request, object_type)
    parsed = parse_search(store.catalog, await _read_json(request))
    total, page = run_search(store, parsed)
    names = sandbox.property_names(store, parsed.properties)
    render = sandbox.render
    body: dict[str, Any] = {"total": total, "results": [render(r, names) for r in page]}
    next_after = parsed.after + parsed.limit
    if page and next_after < total:
        body["paging"] = {"next": {"after": str(next_after)}}
    return 200, body


# -- properties and property groups --------------------------------------------------------------


def _catalog(request: Request, object_type: str) -> PropertyCatalog:
    # Looked up per call: a reset replaces the catalog.
    return _store(request, object_type).catalog


async def list_properties(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/properties/{objectType}``."""
    catalog = _catalog(request, object_type)
    return 200, {"results": catalog.list_definitions(archived=_flag(request, "archived"))}


async def create_property(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST /crm/v3/properties/{objectType}``."""
    payload = await _read_object(request)
    return 201, _catalog(request, object_type).create_definition(payload, now=now())


async def get_property(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/properties/{objectType}/{propertyName}``."""
    return 200, _catalog(request, object_type).get_definition(request.path_params["propertyName"])


async def update_property(request: Request, object_type: str) -> tuple[int, Any]:
    """``PATCH /crm/v3/properties/{objectType}/{propertyName}``."""
    payload = await _read_object(request)
    return 200, _catalog(request, object_type).update_definition(
        request.path_params["propertyName"], payload, now=now()
    )


async def archive_property(request: Request, object_type: str) -> tuple[int, Any]:
    """``DELETE /crm/v3/properties/{objectType}/{propertyName}``."""
    _catalog(request, object_type).archive_definition(
        request.path_params["propertyName"], now=now()
    )
    return 204, None


async def list_groups(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/properties/{objectType}/groups``."""
    groups = _catalog(request, object_type).groups.values()
    return 200, {"results": [g for g in groups if not g["archived"]]}


async def create_group(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST /crm/v3/properties/{objectType}/groups``."""
    payload = await _read_object(request)
    return 201, _catalog(request, object_type).create_group(payload)


async def get_group(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/properties/{objectType}/groups/{groupName}``."""
    return 200, _catalog(request, object_type).get_group(request.path_params["groupName"])


async def update_group(request: Request, object_type: str) -> tuple[int, Any]:
    """``PATCH /crm/v3/properties/{objectType}/groups/{groupName}``."""
    payload = await _read_object(request)
    return 200, _catalog(request, object_type).update_group(
        request.path_params["groupName"], payload
    )


async def archive_group(request: Request, object_type: str) -> tuple[int, Any]:
    """``DELETE /crm/v3/properties/{objectType}/groups/{groupName}``."""
    _catalog(request, object_type).archive_group(request.path_params["groupName"])
    return 204, None


# (method, path after /crm/v3/objects/<type>, handler); ``{id}`` is the type's ID_PARAM.
OBJECT_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("GET", "", list_objects),
    ("POST", "", create_object),
    ("POST", "/batch/read", batch_read),
    ("POST", "/batch/create", batch_create),
    ("POST", "/batch/update", batch_update),
    ("POST", "/batch/archive", batch_archive),
    ("POST", "/search", search),
    ("GET", "/{id}", get_object),
    ("PATCH", "/{id}", update_object),
    ("DELETE", "/{id}", archive_object),
)
# (method, path after /crm/v3/properties/<type>, handler)
PROPERTY_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("GET", "/groups", list_groups),
    ("POST", "/groups", create_group),
    ("GET", "/groups/{groupName}", get_group),
    ("PATCH", "/groups/{groupName}", update_group),
    ("DELETE", "/groups/{groupName}", archive_group),
    ("GET", "", list_properties),
    ("POST", "", create_property),
    ("GET", "/{propertyName}", get_property),
    ("PATCH", "/{propertyName}", update_property),
    ("DELETE", "/{propertyName}", archive_property),
)
