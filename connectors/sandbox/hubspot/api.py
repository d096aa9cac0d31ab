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
from connectors.sandbox.hubspot.objects import OBJECT_TYPES, resolve
from connectors.sandbox.hubspot.properties import PropertyCatalog
from connectors.sandbox.hubspot.property_specs import always_returned
from connectors.sandbox.hubspot.search import parse_search, run_search
from connectors.sandbox.hubspot.state import HubSpotSandbox, now
from connectors.sandbox.hubspot.store import SINGULAR, CrmObject, ObjectStore
from connectors.sandbox.hubspot.webhooks import SOURCE_API

__all__ = [
    "ID_PARAM",
    "OBJECT_ROUTES",
    "PROPERTY_ROUTES",
    "ApiHandler",
    "flag",
    "int_param",
    "read_body",
    "sandbox_of",
]

ApiHandler = Callable[[Request, str], Awaitable[tuple[int, Any]]]

MAX_BATCH_INPUTS: Final = 100
MAX_LIST_LIMIT: Final = 100
# With propertiesWithHistory HubSpot pages at most 50 records.
MAX_HISTORY_LIMIT: Final = 50
# The path parameter HubSpot's docs name a single-object route's id by, per object type.
ID_PARAM: Final = {
    t.name: "".join(w.capitalize() if n else w for n, w in enumerate(t.singular.split("_"))) + "Id"
    for t in OBJECT_TYPES.values()
}


def sandbox_of(request: Request) -> HubSpotSandbox:
    """The fake a request is for."""
    sandbox: HubSpotSandbox = request.app.state.sandbox
    return sandbox


def _store(request: Request, object_type: str) -> ObjectStore:
    return sandbox_of(request).portal.stores[object_type]


async def read_body(request: Request) -> Any:
    """The request's JSON body, or HubSpot's 400 for one that does not parse."""
    return await read_json(
        request, lambda why: HubSpotError.validation(f"Invalid input JSON: {why}")
    )


async def _read_object(request: Request) -> dict[str, Any]:
    payload = await read_body(request)
    if not isinstance(payload, dict):
        raise HubSpotError.validation("Invalid input JSON: expected an object")
    return payload


def csv_params(request: Request, name: str) -> list[str]:
    """A query parameter given repeated, comma-separated, or both."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter, or HubSpot's 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise HubSpotError.validation(
            f"Query parameter {name} must be an integer, was {raw!r}"
        ) from None


def flag(request: Request, name: str) -> bool:
    """A ``true``/``false`` query parameter."""
    return request.query_params.get(name, "false").lower() == "true"


def _associations(request: Request) -> list[str]:
    """The object types ``?associations=`` names (any alias), as plural names."""
    names = (resolve(a) for a in csv_params(request, "associations"))
    return list(dict.fromkeys(n for n in names if n is not None))


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


def _id_property(store: ObjectStore, name: Any, *, upsert: bool = False) -> str:
    """A valid ``idProperty``: ``hs_object_id`` (not for upserts) or a unique-valued property."""
    if name in (None, "", "hs_object_id") and not upsert:
        return "hs_object_id"
    unique = OBJECT_TYPES[store.object_type].unique_properties
    if not isinstance(name, str) or not (name in unique or store.catalog.is_unique(name)):
        raise HubSpotError.validation(
            f"'{name}' is not a unique property of {store.object_type}: use one of "
            f"{sorted({*unique, 'hs_object_id'} - ({'hs_object_id'} if upsert else set()))}"
        )
    return name


def _find(request: Request, object_type: str) -> CrmObject:
    """The record a single-object route names (by id or by ``idProperty``), or 404."""
    store = _store(request, object_type)
    object_id = request.path_params["objectId"]
    archived = flag(request, "archived")
    id_property = request.query_params.get("idProperty")
    record: CrmObject | None
    if id_property and id_property != "hs_object_id":
        if not store.catalog.exists(id_property):
            raise HubSpotError.validation(f"Property '{id_property}' does not exist")
        record = store.find_by(id_property, {object_id}, archived=archived).get(object_id)
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


def _names_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise HubSpotError.validation(f"{what} must be a list of property names")
    return value


# -- objects -------------------------------------------------------------------------------------


async def list_objects(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/objects/{objectType}``: a page of records."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    limit = int_param(request, "limit", 10)
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise HubSpotError.validation(f"limit must be between 1 and {MAX_LIST_LIMIT}, was {limit}")
    after = int_param(request, "after", 0)
    names = sandbox.property_names(store, csv_params(request, "properties"))
    history = sandbox.history_names(store, csv_params(request, "propertiesWithHistory"))
    if history:
        limit = min(limit, MAX_HISTORY_LIMIT)
    associations = _associations(request)
    page, next_after = store.page(after, limit, archived=flag(request, "archived"))
    render = sandbox.render
    body: dict[str, Any] = {
        "results": [render(r, names, associations, object_type, history) for r in page]
    }
    if next_after is not None:
        link = request.url.include_query_params(after=str(next_after))
        body["paging"] = {"next": {"after": str(next_after), "link": str(link)}}
    return 200, body


async def get_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/objects/{objectType}/{id}``."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    record = _find(request, object_type)
    names = sandbox.property_names(store, csv_params(request, "properties"))
    history = sandbox.history_names(store, csv_params(request, "propertiesWithHistory"))
    return 200, sandbox.render(record, names, _associations(request), object_type, history)


async def create_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST /crm/v3/objects/{objectType}``."""
    sandbox = sandbox_of(request)
    payload = await read_body(request)
    record = sandbox.create(_store(request, object_type), payload, now())
    return 201, sandbox.render(record, sorted(record.properties))


async def update_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``PATCH /crm/v3/objects/{objectType}/{id}``."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    payload = await read_body(request)
    record = _find(request, object_type)
    if not isinstance(payload, dict):
        raise HubSpotError.validation("Invalid input JSON: expected an object with 'properties'")
    values = store.catalog.checked_values(payload.get("properties") or {})
    sandbox.update(store, record, values, now(), SOURCE_API)
    return 200, sandbox.render(record, sorted({*values, *always_returned(object_type)}))


async def archive_object(request: Request, object_type: str) -> tuple[int, Any]:
    """``DELETE /crm/v3/objects/{objectType}/{id}`` (archiving a missing record is a no-op)."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    record = store.get(request.path_params["objectId"])
    if record is not None:
        store.archive(record, now=now())
        sandbox.webhooks.deleted(object_type, record.id, SOURCE_API)
    return 204, None


async def batch_read(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/read``: by id or ``idProperty``; missing ones make a 207."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    started = now()
    body = await read_body(request)
    inputs = _batch_inputs(body)
    names = sandbox.property_names(store, _names_list(body.get("properties"), "properties"))
    history = sandbox.history_names(
        store, _names_list(body.get("propertiesWithHistory"), "propertiesWithHistory")
    )
    id_property = _id_property(store, body.get("idProperty"))
    wanted = list(
        dict.fromkeys(str(i.get("id")) if isinstance(i, dict) else str(i) for i in inputs)
    )
    found = store.find_by(id_property, set(wanted), archived=flag(request, "archived"))
    results = [
        sandbox.render(found[i], names, None, object_type, history) for i in wanted if i in found
    ]
    missing = [i for i in wanted if i not in found]
    errors = [_not_found_error(object_type, "get", missing)] if missing else []
    return _batch_result(results, started, errors)


async def batch_create(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/create``: all or nothing."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    started = now()
    inputs = _batch_inputs(await read_body(request))
    for item in inputs:  # all or nothing, as HubSpot validates the whole batch first
        store.catalog.checked_values(
            item.get("properties") or {} if isinstance(item, dict) else None
        )
    created_at = now()
    records = [sandbox.create(store, item, created_at) for item in inputs]
    _, body = _batch_result([sandbox.render(r, sorted(r.properties)) for r in records], started, [])
    return 201, body


def _unique_ids(inputs: list[Any]) -> list[str]:
    if not all(isinstance(item, dict) and item.get("id") is not None for item in inputs):
        raise HubSpotError.validation("Every input needs an 'id'")
    ids = [str(item["id"]) for item in inputs]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise HubSpotError.validation(
            f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique"
        )
    return ids


async def batch_update(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/update``: unique ids; missing ones make a 207."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    started = now()
    inputs = _batch_inputs(await read_body(request))
    ids = _unique_ids(inputs)
    checked = [store.catalog.checked_values(item.get("properties") or {}) for item in inputs]
    updated_at, results, missing = now(), [], []
    always = set(always_returned(object_type))
    for object_id, values in zip(ids, checked, strict=True):
        record = store.get(object_id)
        if record is None:
            missing.append(object_id)
            continue
        sandbox.update(store, record, values, updated_at, SOURCE_API)
        results.append(sandbox.render(record, sorted(always.union(values))))
    errors = [_not_found_error(object_type, "update", missing)] if missing else []
    return _batch_result(results, started, errors)


async def batch_upsert(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/upsert``: update the records whose ``idProperty`` holds the input's
    ``id``, create the others with it; each result says whether it is ``new``."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    started = now()
    inputs = _batch_inputs(await read_body(request))
    ids = _unique_ids(inputs)
    keys = {_id_property(store, item.get("idProperty"), upsert=True) for item in inputs}
    if len(keys) != 1:
        raise HubSpotError.validation("Every input of an upsert must use the same idProperty")
    key = keys.pop()
    checked = [store.catalog.checked_values(item.get("properties") or {}) for item in inputs]
    found = store.find_by(key, set(ids))
    written_at, results = now(), []
    always = set(always_returned(object_type))
    for object_id, values in zip(ids, checked, strict=True):
        record = found.get(object_id)
        if record is None:
            properties = {k: v for k, v in values.items() if v is not None}
            record = sandbox.create(
                store, {"properties": {**properties, key: object_id}}, written_at
            )
            results.append({**sandbox.render(record, sorted(record.properties)), "new": True})
        else:
            sandbox.update(store, record, values, written_at, SOURCE_API)
            rendered = sandbox.render(record, sorted(always.union(values, (key,))))
            results.append({**rendered, "new": False})
    return _batch_result(results, started, [])


async def batch_archive(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../batch/archive``."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    inputs = _batch_inputs(await read_body(request))
    archived_at = now()
    for item in inputs:
        record = store.get(item.get("id", "") if isinstance(item, dict) else str(item))
        if record is not None:
            store.archive(record, now=archived_at)
            sandbox.webhooks.deleted(object_type, record.id, SOURCE_API)
    return 204, None


async def merge(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../merge``: the other record's links and the values the primary lacks move to
    the primary, which lists the other's id in ``hs_merged_object_ids``; the other is gone."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    body = await _read_object(request)
    primary_id, other_id = body.get("primaryObjectId"), body.get("objectIdToMerge")
    if primary_id is None or other_id is None:
        raise HubSpotError.validation("primaryObjectId and objectIdToMerge are required")
    if str(primary_id) == str(other_id):
        raise HubSpotError.validation("A record cannot be merged with itself")
    primary, other = store.get(primary_id), store.get(other_id)
    if primary is None or other is None:
        raise HubSpotError.not_found(
            f"Could not find {SINGULAR[object_type]} {primary_id if primary is None else other_id}"
        )
    kind = OBJECT_TYPES[object_type]
    system = {"hs_object_id", kind.created_property, kind.modified_property}
    values: dict[str, str | None] = {
        name: value
        for name, value in other.properties.items()
        if name not in system and primary.properties.get(name) is None
    }
    merged = [i for i in (primary.properties.get("hs_merged_object_ids") or "").split(";") if i]
    values["hs_merged_object_ids"] = ";".join([*merged, str(other.id)])
    merged_at = now()
    sandbox.portal.move_links(object_type, other, primary)
    sandbox.update(store, primary, values, merged_at, SOURCE_API)
    store.archive(other, now=merged_at)
    sandbox.webhooks.deleted(object_type, other.id, SOURCE_API)
    return 200, sandbox.render(primary, sandbox.property_names(store, None))


async def search(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST .../search``: filters, sorts, ``after`` paging up to the 10,000-result cap."""
    sandbox, store = sandbox_of(request), _store(request, object_type)
    parsed = parse_search(store.catalog, await read_body(request), sandbox.linked_ids)
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
    return 200, {"results": catalog.list_definitions(archived=flag(request, "archived"))}


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


# (method, path after /crm/v3/objects/<type>, handler); ``{id}``: the record's id.
OBJECT_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("GET", "", list_objects),
    ("POST", "", create_object),
    ("POST", "/batch/read", batch_read),
    ("POST", "/batch/create", batch_create),
    ("POST", "/batch/update", batch_update),
    ("POST", "/batch/archive", batch_archive),
    ("POST", "/batch/upsert", batch_upsert),
    ("POST", "/merge", merge),
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
