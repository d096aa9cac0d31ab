"""HubSpot's endpoints around the records: owners, users and teams, email subscription types,
pipelines (v3 and the legacy v1), schemas, the legacy v2 properties, and associations (v3 and v4
batch reads, a record's v4 associations, association labels).

Handlers have the shape of ``api``'s: ``(request, object_type) -> (status, body)``, refusals
raise :class:`HubSpotError`; ``object_type`` is the resolved type of the route's first object
type parameter ("" for routes without one).
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request

from connectors.sandbox.hubspot.api import ApiHandler, flag, int_param, read_body, sandbox_of
from connectors.sandbox.hubspot.association_types import association_types, inline_type_names
from connectors.sandbox.hubspot.errors import HubSpotError
from connectors.sandbox.hubspot.objects import resolve
from connectors.sandbox.hubspot.owners import OWNER_RECORDS, USER_RECORDS
from connectors.sandbox.hubspot.pipelines import (
    PIPELINES,
    Pipeline,
    render_pipeline,
    render_pipeline_v1,
    render_stage,
)
from connectors.sandbox.hubspot.properties import v2_definition
from connectors.sandbox.hubspot.state import now
from connectors.sandbox.hubspot.store import SINGULAR
from connectors.sandbox.hubspot.webhooks import PORTAL_ID

__all__ = ["PORTAL_ROUTES", "TYPED_ROUTES"]

MAX_OWNERS_LIMIT: Final = 500
MAX_USERS_LIMIT: Final = 100
MAX_ASSOCIATION_INPUTS: Final = 1000  # v3 and v4 association batch reads
MAX_ASSOCIATIONS_LIMIT: Final = 500


def _target(request: Request) -> str:
    """The resolved ``toObjectType`` of an associations route, or HubSpot's 400."""
    raw = request.path_params["toObjectType"]
    target = resolve(raw)
    if target is None:
        raise HubSpotError.validation(f"Unable to infer object type from: {raw}")
    return target


# -- properties (legacy) and schemas --------------------------------------------------------------


async def legacy_properties(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /properties/v2/{objectType}/properties``: every live definition, v2-shaped, as a
    bare JSON array."""
    catalog = sandbox_of(request).portal.stores[object_type].catalog
    return 200, [v2_definition(d) for d in catalog.list_definitions()]


async def list_schemas(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/schemas``: the portal's custom objects (it has none)."""
    return 200, {"results": []}


# -- owners ---------------------------------------------------------------------------------------


def _page_of(request: Request, items: list[dict[str, Any]], max_limit: int) -> dict[str, Any]:
    """One ``limit``/``after`` page of ``items`` with HubSpot's forward paging."""
    limit = int_param(request, "limit", min(100, max_limit))
    if not 1 <= limit <= max_limit:
        raise HubSpotError.validation(f"limit must be between 1 and {max_limit}")
    after = int_param(request, "after", 0)
    body: dict[str, Any] = {"results": items[after : after + limit]}
    if after + limit < len(items):
        next_after = str(after + limit)
        link = request.url.include_query_params(after=next_after)
        body["paging"] = {"next": {"after": next_after, "link": str(link)}}
    return body


async def list_owners(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/owners``: a page of owners (``email`` filters, ``after`` pages)."""
    email = request.query_params.get("email")
    # The sandbox's owners are all active: the archived list is empty.
    owners = [] if flag(request, "archived") else list(OWNER_RECORDS)
    if email:
        owners = [o for o in owners if o["email"].lower() == email.lower()]
    return 200, _page_of(request, owners, MAX_OWNERS_LIMIT)


async def list_users(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /settings/v3/users``: a page of the portal's users (its owners)."""
    return 200, _page_of(request, list(USER_RECORDS), MAX_USERS_LIMIT)


async def list_teams(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /settings/v3/users/teams``: the portal has no teams."""
    return 200, {"results": []}


# A portal's default email subscription types.
_SUBSCRIPTIONS: Final = tuple(
    {
        "id": 7_000_001 + n,
        "portalId": PORTAL_ID,
        "name": name,
        "description": description,
        "active": True,
        "internal": False,
        "category": "Marketing",
        "channel": "EMAIL",
        "internalName": internal,
        "businessUnitId": 0,
    }
    for n, (name, description, internal) in enumerate(
        (
            ("Marketing Information", "Marketing offers and updates.", "MARKETING_INFORMATION"),
            ("One to One", "One to one emails.", "ONE_TO_ONE"),
        )
    )
)


async def email_subscriptions(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /email/public/v1/subscriptions``: the portal's email subscription types."""
    return 200, {"subscriptionDefinitions": list(_SUBSCRIPTIONS)}


async def get_owner(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/owners/{ownerId}`` (``idProperty=userId`` to look up by user id)."""
    wanted = request.path_params["ownerId"]
    key = "userId" if request.query_params.get("idProperty") == "userId" else "id"
    for owner in OWNER_RECORDS:
        if str(owner[key]) == wanted:
            return 200, owner
    raise HubSpotError.not_found(f"No owner with {key} {wanted}")


# -- pipelines ------------------------------------------------------------------------------------


def _pipelines(object_type: str) -> tuple[Pipeline, ...]:
    pipelines = PIPELINES.get(object_type)
    if pipelines is None:
        raise HubSpotError.validation(f"Object type {object_type} does not have pipelines")
    return pipelines


def _pipeline(request: Request, object_type: str) -> tuple[int, Pipeline]:
    wanted = request.path_params["pipelineId"]
    for order, pipeline in enumerate(_pipelines(object_type)):
        if pipeline.id == wanted:
            return order, pipeline
    raise HubSpotError.not_found(f"Pipeline {wanted} not found")


async def list_pipelines(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/pipelines/{objectType}``."""
    pipelines = _pipelines(object_type)
    return 200, {"results": [render_pipeline(p, n) for n, p in enumerate(pipelines)]}


async def list_pipelines_v1(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm-pipelines/v1/pipelines/{objectType}``: the legacy shape of the same pipelines."""
    pipelines = _pipelines(object_type)
    return 200, {
        "results": [render_pipeline_v1(p, n, object_type) for n, p in enumerate(pipelines)]
    }


async def get_pipeline(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/pipelines/{objectType}/{pipelineId}``."""
    order, pipeline = _pipeline(request, object_type)
    return 200, render_pipeline(pipeline, order)


async def list_stages(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/pipelines/{objectType}/{pipelineId}/stages``."""
    _, pipeline = _pipeline(request, object_type)
    return 200, {"results": [render_stage(s, n) for n, s in enumerate(pipeline.stages)]}


async def get_stage(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}``."""
    _, pipeline = _pipeline(request, object_type)
    wanted = request.path_params["stageId"]
    for order, stage in enumerate(pipeline.stages):
        if stage.id == wanted:
            return 200, render_stage(stage, order)
    raise HubSpotError.not_found(f"Stage {wanted} not found in pipeline {pipeline.id}")


# -- associations ---------------------------------------------------------------------------------


async def _association_inputs(request: Request) -> list[str]:
    body = await read_body(request)
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise HubSpotError.validation("Invalid input JSON: 'inputs' must be a list")
    if len(inputs) > MAX_ASSOCIATION_INPUTS:
        raise HubSpotError.validation(
            f"Batch input limit exceeded: {len(inputs)} > {MAX_ASSOCIATION_INPUTS}"
        )
    return list(dict.fromkeys(str(i.get("id")) if isinstance(i, dict) else str(i) for i in inputs))


def _none_found(source: str, target: str, ids: list[str]) -> list[dict[str, Any]]:
    """The 207 errors of a batch read for records with no links (or no such record).

    No ``subCategory``: the published StandardError schema types it as an object."""
    return [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"No {SINGULAR[target]} is associated with {SINGULAR[source]} {i}.",
            "context": {"fromObjectId": [i], "toObjectType": [SINGULAR[target]]},
            "links": {},
            "errors": [],
        }
        for i in ids
    ]


async def _batch_links(
    request: Request, source: str, target: str
) -> tuple[str, list[tuple[str, list[int]]], list[str]]:
    """When the batch started, the inputs with links (and them), and the inputs without."""
    started = now()
    store = sandbox_of(request).portal.stores[source]
    found, missing = [], []
    for raw_id in await _association_inputs(request):
        record = store.get(raw_id)
        linked = record.associations.get(target) if record is not None else None
        if linked:
            found.append((raw_id, linked))
        else:
            missing.append(raw_id)
    return started, found, missing


def _batch_body(
    started: str, results: list[dict[str, Any]], errors: list[dict[str, Any]]
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


async def batch_read_v3(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST /crm/v3/associations/{fromObjectType}/{toObjectType}/batch/read``."""
    target = _target(request)
    started, found, missing = await _batch_links(request, object_type, target)
    names = inline_type_names(object_type, target)
    name = names[0] if names else f"{SINGULAR[object_type]}_to_{SINGULAR[target]}"
    results = [
        {"from": {"id": raw_id}, "to": [{"id": str(i), "type": name} for i in linked]}
        for raw_id, linked in found
    ]
    return _batch_body(started, results, _none_found(object_type, target, missing))


def _v4_link(source: str, target: str, to_id: int) -> dict[str, Any]:
    # A string, as the published v4 schema (and the clients generated from it) has it.
    return {
        "toObjectId": str(to_id),
        "associationTypes": [t.as_v4() for t in association_types(source, target)],
    }


async def batch_read_v4(request: Request, object_type: str) -> tuple[int, Any]:
    """``POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read``."""
    target = _target(request)
    started, found, missing = await _batch_links(request, object_type, target)
    results = [
        {"from": {"id": raw_id}, "to": [_v4_link(object_type, target, i) for i in linked]}
        for raw_id, linked in found
    ]
    return _batch_body(started, results, _none_found(object_type, target, missing))


async def record_associations_v4(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}``: a page of
    the record's links (``limit`` up to 500, ``after`` pages)."""
    target = _target(request)
    limit = int_param(request, "limit", MAX_ASSOCIATIONS_LIMIT)
    if not 1 <= limit <= MAX_ASSOCIATIONS_LIMIT:
        raise HubSpotError.validation(f"limit must be between 1 and {MAX_ASSOCIATIONS_LIMIT}")
    after = int_param(request, "after", 0)
    record = sandbox_of(request).portal.stores[object_type].get(request.path_params["objectId"])
    if record is None:
        raise HubSpotError.not_found(
            f"{SINGULAR[object_type]} {request.path_params['objectId']} does not exist"
        )
    linked = sorted(record.associations.get(target, ()))
    page = linked[after : after + limit]
    body: dict[str, Any] = {"results": [_v4_link(object_type, target, i) for i in page]}
    if after + limit < len(linked):
        next_after = str(after + limit)
        link = request.url.include_query_params(after=next_after)
        body["paging"] = {"next": {"after": next_after, "link": str(link)}}
    return 200, body


async def association_labels(request: Request, object_type: str) -> tuple[int, Any]:
    """``GET /crm/v4/associations/{fromObjectType}/{toObjectType}/labels``: the default types."""
    target = _target(request)
    return 200, {"results": [t.as_v4() for t in association_types(object_type, target)]}


# (method, path, handler) of routes whose first parameter is an object type: ``{objectType}``
# or ``{fromObjectType}``, resolved before the handler runs.
TYPED_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("GET", "/properties/v2/{objectType}/properties", legacy_properties),
    ("GET", "/properties/v1/{objectType}/properties", legacy_properties),
    ("GET", "/crm/v3/pipelines/{objectType}", list_pipelines),
    ("GET", "/crm-pipelines/v1/pipelines/{objectType}", list_pipelines_v1),
    ("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}", get_pipeline),
    ("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", list_stages),
    ("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}", get_stage),
    ("POST", "/crm/v3/associations/{fromObjectType}/{toObjectType}/batch/read", batch_read_v3),
    ("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read", batch_read_v4),
    ("GET", "/crm/v4/associations/{fromObjectType}/{toObjectType}/labels", association_labels),
    ("GET", "/crm/associations/v4/{fromObjectType}/{toObjectType}/labels", association_labels),
    (
        "GET",
        "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
        record_associations_v4,
    ),
)
# (method, path, handler) of routes without an object type.
PORTAL_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("GET", "/crm/v3/schemas", list_schemas),
    ("GET", "/crm-object-schemas/v3/schemas", list_schemas),
    ("GET", "/crm/v3/owners", list_owners),
    ("GET", "/crm/v3/owners/{ownerId}", get_owner),
    ("GET", "/settings/v3/users", list_users),
    ("GET", "/settings/v3/users/teams", list_teams),
    ("GET", "/email/public/v1/subscriptions", email_subscriptions),
)
