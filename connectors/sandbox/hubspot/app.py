"""The HubSpot sandbox as a Starlette app: CRM v3 objects, search, batch, properties, and admin.

Every API call goes through one pipeline: count it, check the bearer token, apply the rate
limits, inject configured faults, run the endpoint, render HubSpot's JSON (or its error shape)
with orjson and the ``X-HubSpot-RateLimit-*`` headers.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common.faults import (
    CallCounter,
    FaultConfig,
    FaultConfigError,
    FaultInjector,
)
from connectors.sandbox.common.http import json_response, read_json
from connectors.sandbox.hubspot.errors import HubSpotError, error_body
from connectors.sandbox.hubspot.limits import WINDOW_SECONDS, RateLimiter, RateVerdict
from connectors.sandbox.hubspot.properties import (
    ALWAYS_RETURNED,
    DEFAULT_PROPERTIES,
    format_datetime,
)
from connectors.sandbox.hubspot.search import parse_search, run_search
from connectors.sandbox.hubspot.store import SINGULAR, CrmObject, ObjectStore, Sandbox
from connectors.sandbox.hubspot.webhooks import SOURCE_API, SOURCE_REP, WebhookDispatcher

__all__ = ["HubSpotSandbox", "create_app"]

MAX_BATCH_INPUTS: Final = 100
MAX_LIST_LIMIT: Final = 100
_JSON: Final = "application/json;charset=utf-8"
_ID_PARAM: Final = {"companies": "companyId", "deals": "dealId"}

Handler = Callable[[Request], Awaitable[tuple[int, Any]]]

logger = logging.getLogger(__name__)


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, body, headers, media_type=_JSON)


async def _read_json(request: Request) -> Any:
    return await read_json(
        request, lambda why: HubSpotError.validation(f"Invalid input JSON: {why}")
    )


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


class HubSpotSandbox:
    """The state behind one app: the portal's records and the sandbox's knobs."""

    def __init__(self, *, token: str, client_secret: str, rate_limit_per_10s: int) -> None:
        self.token = token
        self.client_secret = client_secret
        self.portal = Sandbox()
        self.limiter = RateLimiter(per_10s=rate_limit_per_10s)
        if rate_limit_per_10s == 0:
            self.limiter.configure(per_10s=0)
        self.faults = FaultInjector()
        self.calls = CallCounter()
        self.webhooks = WebhookDispatcher(client_secret)
        self._edit_rng = random.Random(0)

    def reset(
        self, *, seed: int, companies: int, deals_per_company: int, same_timestamp: bool = False
    ) -> dict[str, Any]:
        """Reseed the portal; forget call counts, rate-limit windows and pending webhooks."""
        counts = self.portal.reset(
            seed=seed,
            companies=companies,
            deals_per_company=deals_per_company,
            same_timestamp=same_timestamp,
        )
        self.calls.reset()
        self.limiter.reset()
        self.webhooks.reset()
        self._edit_rng = random.Random(seed)
        return counts

    # -- rendering -------------------------------------------------------------------------------

    def property_names(self, store: ObjectStore, requested: list[str] | None) -> list[str]:
        """The properties a read returns: the requested ones that exist, else the defaults."""
        if not requested:
            return list(DEFAULT_PROPERTIES[store.object_type])
        catalog = store.catalog
        names = {n for n in requested if catalog.exists(n)}
        names.update(ALWAYS_RETURNED)
        return sorted(names)

    @staticmethod
    def render(
        record: CrmObject,
        names: list[str],
        associations: list[str] | None = None,
        object_type: str = "companies",
    ) -> dict[str, Any]:
        """A record as HubSpot's SimplePublicObject(WithAssociations)."""
        props = record.properties
        body: dict[str, Any] = {
            "id": str(record.id),
            "properties": {name: props.get(name) for name in names},
            "createdAt": record.created_at,
            "updatedAt": record.updated_at,
            "archived": record.archived,
        }
        if record.archived:
            body["archivedAt"] = record.archived_at
        if associations:
            rendered = {}
            for other in associations:
                ids = record.associations.get(other)
                if ids:
                    kind = f"{SINGULAR[object_type]}_to_{SINGULAR[other]}"
                    # HubSpot lists the primary association and its unlabeled twin.
                    rendered[other] = {
                        "results": [
                            item
                            for i in ids
                            for item in (
                                {"id": str(i), "type": kind},
                                {"id": str(i), "type": f"{kind}_unlabeled"},
                            )
                        ]
                    }
            if rendered:
                body["associations"] = rendered
        return body

    # -- objects -----------------------------------------------------------------------------------

    def list_objects(self, store: ObjectStore, request: Request) -> dict[str, Any]:
        """``GET /crm/v3/objects/{objectType}``."""
        limit = _int_param(request, "limit", 10)
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise HubSpotError.validation(
                f"limit must be between 1 and {MAX_LIST_LIMIT}, was {limit}"
            )
        after = _int_param(request, "after", 0)
        names = self.property_names(store, _csv_params(request, "properties"))
        associations = [a for a in _csv_params(request, "associations") if a in self.portal.stores]
        page, next_after = store.page(after, limit, archived=_flag(request, "archived"))
        render, object_type = self.render, store.object_type
        body: dict[str, Any] = {
            "results": [render(r, names, associations, object_type) for r in page]
        }
        if next_after is not None:
            link = request.url.include_query_params(after=str(next_after))
            body["paging"] = {"next": {"after": str(next_after), "link": str(link)}}
        return body

    def find(self, store: ObjectStore, object_id: str, request: Request) -> CrmObject:
        """The record a single-object route names (by id or by ``idProperty``), or 404."""
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

    def create(self, store: ObjectStore, payload: Any, now: str) -> CrmObject:
        """Validate and store one new record (associations optional)."""
        if not isinstance(payload, dict):
            raise HubSpotError.validation(
                "Invalid input JSON: expected an object with 'properties'"
            )
        values = store.catalog.checked_values(payload.get("properties") or {})
        properties = {k: v for k, v in values.items() if v is not None}
        record = store.add(properties, now=now, created_at=properties.get("createdate"))
        for association in payload.get("associations") or []:
            to_id = (
                (association.get("to") or {}).get("id") if isinstance(association, dict) else None
            )
            if to_id is None:
                continue
            if store.object_type == "deals":
                self.portal.associate(record.id, [int(to_id)])
            elif self.portal.deals.get(to_id) is not None:
                self.portal.associate(int(to_id), [record.id])
        self.webhooks.created(store.object_type, record.id, SOURCE_API)
        return record

    def update(
        self,
        store: ObjectStore,
        record: CrmObject,
        values: dict[str, str | None],
        now: str,
        source: str,
    ) -> None:
        """Write normalised values; changed ones bump the record and become webhook events."""
        changes = store.update(record, values, now=now)
        if changes:
            self.webhooks.changed(store.object_type, changes, source)

    # -- admin: simulated rep edits ----------------------------------------------------------------

    def rep_edits(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Change companies as a rep would: given values, or ``count`` random plausible edits."""
        store, now = self.portal.companies, _now()
        edited = []
        values: dict[str, str | None]
        if "ids" in payload:
            values = store.catalog.checked_values(payload.get("properties") or {})
            for raw_id in payload["ids"]:
                record = store.get(raw_id)
                if record is None:
                    raise HubSpotError.not_found(f"No live company with id {raw_id}")
                self.update(store, record, values, now, SOURCE_REP)
                edited.append(
                    {
                        "id": str(record.id),
                        "properties": {k: record.properties.get(k) for k in values},
                    }
                )
            return edited
        count = int(payload.get("count", 1))
        ids = store.live_ids
        rng = self._edit_rng
        chosen = rng.sample(ids, min(count, len(ids)))
        industries = [o["value"] for o in store.catalog.definitions["industry"]["options"]]
        for object_id in chosen:
            record = store.records[object_id]
            props = record.properties
            which = rng.randrange(4)
            if which == 0:
                employees = int(float(props.get("numberofemployees") or 10))
                value = str(max(1, employees + rng.choice((-1, 1)) * max(1, employees // 10)))
                values = {"numberofemployees": value}
            elif which == 1:
                values = {
                    "industry": rng.choice([i for i in industries if i != props.get("industry")])
                }
            elif which == 2:
                values = {
                    "has_inhouse_seo": "false" if props.get("has_inhouse_seo") == "true" else "true"
                }
            else:
                current = props.get("nps_score")
                values = {"nps_score": rng.choice([str(n) for n in range(11) if str(n) != current])}
            self.update(store, record, values, now, SOURCE_REP)
            edited.append({"id": str(object_id), "properties": values})
        return edited


def _rate_headers(verdict: RateVerdict) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(WINDOW_SECONDS * 1000)),
        "X-HubSpot-RateLimit-Max": str(verdict.maximum),
        "X-HubSpot-RateLimit-Remaining": str(verdict.remaining),
    }


def _rate_limit_response(policy: str, verdict: RateVerdict | None) -> Response:
    wording = "ten_secondly_rolling" if policy == "TEN_SECONDLY_ROLLING" else "secondly"
    body = error_body(f"You have reached your {wording} limit.", "RATE_LIMITS")
    body["errorType"] = "RATE_LIMIT"
    body["policyName"] = policy
    body["groupName"] = "publicapi:private-app:sandbox"
    headers = (
        _rate_headers(verdict) if verdict is not None and policy == "TEN_SECONDLY_ROLLING" else None
    )
    return _json_response(429, body, headers)


_INJECTED: Final = {
    400: ("Injected fault: bad request", "VALIDATION_ERROR"),
    401: ("Injected fault: authentication failed", "INVALID_AUTHENTICATION"),
    403: ("Injected fault: missing scopes", "MISSING_SCOPES"),
    404: ("Injected fault: resource not found", "OBJECT_NOT_FOUND"),
    409: ("Injected fault: conflict", "CONFLICT"),
    500: ("Injected fault: internal error", "INTERNAL_ERROR"),
    502: ("Injected fault: bad gateway", "BAD_GATEWAY"),
    503: ("Injected fault: service unavailable", "SERVICE_UNAVAILABLE"),
    504: ("Injected fault: gateway timeout", "GATEWAY_TIMEOUT"),
}


def create_app(
    *,
    token: str = "sandbox-token",
    client_secret: str = "sandbox-secret",
    rate_limit_per_10s: int = 190,
    seed: int = 1,
    companies: int = 0,
    deals_per_company: int = 2,
) -> Starlette:
    """A HubSpot CRM v3 stand-in that ``hubspot-api-client`` talks to unchanged.

    ``app.state.sandbox`` is the :class:`HubSpotSandbox` behind it (for in-process inspection).
    """
    sandbox = HubSpotSandbox(
        token=token, client_secret=client_secret, rate_limit_per_10s=rate_limit_per_10s
    )
    if companies:
        sandbox.reset(seed=seed, companies=companies, deals_per_company=deals_per_company)
    expected_auth = f"Bearer {token}"
    routes: list[Route] = []

    def api(method: str, template: str, handler: Handler, *, search: bool = False) -> None:
        key = f"{method} {template}"
        calls, limiter, faults = sandbox.calls, sandbox.limiter, sandbox.faults

        async def endpoint(request: Request) -> Response:
            calls.count(key)
            if request.headers.get("authorization", "").strip() != expected_auth:
                return _json_response(
                    401,
                    error_body(
                        "Authentication credentials not found. This API supports OAuth 2.0 "
                        "authentication and "
                        "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                        "INVALID_AUTHENTICATION",
                    ),
                )
            verdict = limiter.check(sandbox.token, search=search)
            if not verdict.allowed:
                calls.count_rate_limited()
                return _rate_limit_response(verdict.policy or "TEN_SECONDLY_ROLLING", verdict)
            headers = None if search or not limiter.per_10s else _rate_headers(verdict)
            fault = faults.decide()
            if fault.latency_seconds:
                await asyncio.sleep(fault.latency_seconds)
            if fault.timeout_seconds is not None:
                await asyncio.sleep(fault.timeout_seconds)
                message, category = _INJECTED[504]
                return _json_response(504, error_body(message, category), headers)
            if fault.status_code is not None:
                if fault.status_code == 429:
                    calls.count_rate_limited()
                    return _rate_limit_response(
                        "TEN_SECONDLY_ROLLING", RateVerdict(False, None, limiter.per_10s, 0)
                    )
                message, category = _INJECTED.get(fault.status_code, ("Injected fault", "ERROR"))
                return _json_response(fault.status_code, error_body(message, category), headers)
            try:
                status, body = await handler(request)
            except HubSpotError as exc:
                return _json_response(exc.status_code, exc.body(), headers)
            except Exception:  # a sandbox bug: answer like HubSpot's 500, keep the trace in logs
                logger.exception("HubSpot sandbox failed on %s", key)
                return _json_response(500, error_body("internal error", "INTERNAL_ERROR"), headers)
            return _json_response(status, body, headers)

        routes.append(Route(template, endpoint, methods=[method]))

    for object_type, store in sandbox.portal.stores.items():
        _object_routes(api, sandbox, object_type, store)
        _property_routes(api, sandbox, object_type)
    routes.extend(_admin_routes(sandbox))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        category = "OBJECT_NOT_FOUND" if status == 404 else "VALIDATION_ERROR"
        return _json_response(
            status,
            error_body(
                f"{request.method} {request.url.path}: "
                + ("Not Found" if status == 404 else "Method Not Allowed"),
                category,
            ),
        )

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.sandbox = sandbox
    return app


def _object_routes(
    api: Callable[..., None], sandbox: HubSpotSandbox, object_type: str, store: ObjectStore
) -> None:
    base = f"/crm/v3/objects/{object_type}"
    id_param = _ID_PARAM[object_type]
    kind = SINGULAR[object_type].upper()

    async def list_objects(request: Request) -> tuple[int, Any]:
        return 200, sandbox.list_objects(store, request)

    async def get_object(request: Request) -> tuple[int, Any]:
        record = sandbox.find(store, request.path_params[id_param], request)
        names = sandbox.property_names(store, _csv_params(request, "properties"))
        associations = [
            a for a in _csv_params(request, "associations") if a in sandbox.portal.stores
        ]
        return 200, sandbox.render(record, names, associations, object_type)

    async def create_object(request: Request) -> tuple[int, Any]:
        payload = await _read_json(request)
        record = sandbox.create(store, payload, _now())
        return 201, sandbox.render(record, sorted(record.properties))

    async def update_object(request: Request) -> tuple[int, Any]:
        payload = await _read_json(request)
        record = sandbox.find(store, request.path_params[id_param], request)
        if not isinstance(payload, dict):
            raise HubSpotError.validation(
                "Invalid input JSON: expected an object with 'properties'"
            )
        values = store.catalog.checked_values(payload.get("properties") or {})
        sandbox.update(store, record, values, _now(), SOURCE_API)
        return 200, sandbox.render(record, sorted({*values, *ALWAYS_RETURNED}))

    async def archive_object(request: Request) -> tuple[int, Any]:
        record = store.get(request.path_params[id_param])
        if record is not None:
            store.archive(record, now=_now())
            sandbox.webhooks.deleted(object_type, record.id, SOURCE_API)
        return 204, None

    def batch_result(
        results: list[dict[str, Any]], started: str, errors: list[dict[str, Any]]
    ) -> tuple[int, Any]:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
            return 207, body
        return 200, body

    def not_found_error(verb: str, ids: list[str]) -> dict[str, Any]:
        return {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Could not {verb} some {kind} objects, they may be deleted or not exist. "
            "Check that ids are valid.",
            "context": {"ids": ids},
            "links": {},
            "errors": [],
        }

    async def batch_read(request: Request) -> tuple[int, Any]:
        started = _now()
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
        return batch_result(results, started, [not_found_error("get", missing)] if missing else [])

    async def batch_create(request: Request) -> tuple[int, Any]:
        started = _now()
        inputs = _batch_inputs(await _read_json(request))
        for item in inputs:  # all or nothing, as HubSpot validates the whole batch first
            store.catalog.checked_values(
                item.get("properties") or {} if isinstance(item, dict) else None
            )
        now = _now()
        records = [sandbox.create(store, item, now) for item in inputs]
        _, body = batch_result(
            [sandbox.render(r, sorted(r.properties)) for r in records], started, []
        )
        return 201, body

    async def batch_update(request: Request) -> tuple[int, Any]:
        started = _now()
        inputs = _batch_inputs(await _read_json(request))
        if not all(isinstance(item, dict) and item.get("id") is not None for item in inputs):
            raise HubSpotError.validation("Every input needs an 'id'")
        ids = [str(item["id"]) for item in inputs]
        duplicates = (
            sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        )
        if duplicates:
            raise HubSpotError.validation(
                f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique"
            )
        checked = [store.catalog.checked_values(item.get("properties") or {}) for item in inputs]
        now, results, missing = _now(), [], []
        always = set(ALWAYS_RETURNED)
        for object_id, values in zip(ids, checked, strict=True):
            record = store.get(object_id)
            if record is None:
                missing.append(object_id)
                continue
            sandbox.update(store, record, values, now, SOURCE_API)
            results.append(sandbox.render(record, sorted(always.union(values))))
        return batch_result(
            results, started, [not_found_error("update", missing)] if missing else []
        )

    async def batch_archive(request: Request) -> tuple[int, Any]:
        inputs = _batch_inputs(await _read_json(request))
        now = _now()
        for item in inputs:
            record = store.get(item.get("id", "") if isinstance(item, dict) else str(item))
            if record is not None:
                store.archive(record, now=now)
                sandbox.webhooks.deleted(object_type, record.id, SOURCE_API)
        return 204, None

    async def search(request: Request) -> tuple[int, Any]:
        parsed = parse_search(store.catalog, await _read_json(request))
        total, page = run_search(store, parsed)
        names = sandbox.property_names(store, parsed.properties)
        render = sandbox.render
        body: dict[str, Any] = {"total": total, "results": [render(r, names) for r in page]}
        next_after = parsed.after + parsed.limit
        if page and next_after < total:
            body["paging"] = {"next": {"after": str(next_after)}}
        return 200, body

    api("GET", base, list_objects)
    api("POST", base, create_object)
    api("POST", f"{base}/batch/read", batch_read)
    api("POST", f"{base}/batch/create", batch_create)
    api("POST", f"{base}/batch/update", batch_update)
    api("POST", f"{base}/batch/archive", batch_archive)
    api("POST", f"{base}/search", search, search=True)
    api("GET", f"{base}/{{{id_param}}}", get_object)
    api("PATCH", f"{base}/{{{id_param}}}", update_object)
    api("DELETE", f"{base}/{{{id_param}}}", archive_object)


def _property_routes(api: Callable[..., None], sandbox: HubSpotSandbox, object_type: str) -> None:
    base = f"/crm/v3/properties/{object_type}"

    def catalog() -> Any:
        # Looked up per call: a reset replaces the catalog.
        return sandbox.portal.stores[object_type].catalog

    async def list_properties(request: Request) -> tuple[int, Any]:
        return 200, {"results": catalog().list_definitions(archived=_flag(request, "archived"))}

    async def create_property(request: Request) -> tuple[int, Any]:
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise HubSpotError.validation("Invalid input JSON: expected an object")
        return 201, catalog().create_definition(payload, now=_now())

    async def get_property(request: Request) -> tuple[int, Any]:
        return 200, catalog().get_definition(request.path_params["propertyName"])

    async def update_property(request: Request) -> tuple[int, Any]:
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise HubSpotError.validation("Invalid input JSON: expected an object")
        return 200, catalog().update_definition(
            request.path_params["propertyName"], payload, now=_now()
        )

    async def list_groups(request: Request) -> tuple[int, Any]:
        return 200, {"results": [g for g in catalog().groups.values() if not g["archived"]]}

    async def create_group(request: Request) -> tuple[int, Any]:
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise HubSpotError.validation("Invalid input JSON: expected an object")
        return 201, catalog().create_group(payload)

    async def get_group(request: Request) -> tuple[int, Any]:
        return 200, catalog().get_group(request.path_params["groupName"])

    async def update_group(request: Request) -> tuple[int, Any]:
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise HubSpotError.validation("Invalid input JSON: expected an object")
        return 200, catalog().update_group(request.path_params["groupName"], payload)

    async def archive_group(request: Request) -> tuple[int, Any]:
        catalog().archive_group(request.path_params["groupName"])
        return 204, None

    async def archive_property(request: Request) -> tuple[int, Any]:
        catalog().archive_definition(request.path_params["propertyName"], now=_now())
        return 204, None

    api("GET", f"{base}/groups", list_groups)
    api("POST", f"{base}/groups", create_group)
    api("GET", f"{base}/groups/{{groupName}}", get_group)
    api("PATCH", f"{base}/groups/{{groupName}}", update_group)
    api("DELETE", f"{base}/groups/{{groupName}}", archive_group)
    api("GET", base, list_properties)
    api("POST", base, create_property)
    api("GET", f"{base}/{{propertyName}}", get_property)
    api("PATCH", f"{base}/{{propertyName}}", update_property)
    api("DELETE", f"{base}/{{propertyName}}", archive_property)


def _admin_routes(sandbox: HubSpotSandbox) -> list[Route]:
    """``/_sandbox/``: unauthenticated knobs for tests, demos and benchmarks; not counted."""

    def admin_error(detail: str) -> Response:
        return _json_response(400, {"error": "InvalidSandboxRequest", "detail": detail})

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            payload = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        return payload

    def admin(handler: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                payload = (
                    await body_of(request)
                    if request.method == "POST"
                    else dict(request.path_params)
                )
                return _json_response(200, handler(payload))
            except (ValueError, TypeError, FaultConfigError) as exc:
                return admin_error(str(exc))
            except HubSpotError as exc:
                return _json_response(exc.status_code, exc.body())

        return endpoint

    def reset(payload: dict[str, Any]) -> dict[str, Any]:
        started = datetime.now(UTC)
        counts = sandbox.reset(
            seed=int(payload.get("seed", 1)),
            companies=int(payload.get("companies", 0)),
            deals_per_company=int(payload.get("deals_per_company", 2)),
            same_timestamp=bool(payload.get("same_timestamp", False)),
        )
        return {**counts, "seconds": round((datetime.now(UTC) - started).total_seconds(), 3)}

    def stats(_: dict[str, Any]) -> dict[str, Any]:
        return sandbox.calls.snapshot()

    def faults(payload: dict[str, Any]) -> dict[str, Any]:
        sandbox.faults.configure(FaultConfig.from_payload(payload))
        return sandbox.faults.config.as_dict()

    def get_faults(_: dict[str, Any]) -> dict[str, Any]:
        return sandbox.faults.config.as_dict()

    def rate_limit(payload: dict[str, Any]) -> dict[str, Any]:
        if "per_10s" not in payload:
            raise ValueError("per_10s is required (0 = unlimited)")
        search = payload.get("search_per_second")
        sandbox.limiter.configure(
            per_10s=int(payload["per_10s"]),
            search_per_second=int(search) if search is not None else None,
        )
        return get_rate_limit({})

    def get_rate_limit(_: dict[str, Any]) -> dict[str, Any]:
        return {
            "per_10s": sandbox.limiter.per_10s,
            "search_per_second": sandbox.limiter.search_per_second,
        }

    def webhooks(payload: dict[str, Any]) -> dict[str, Any]:
        attempts, delay = payload.get("max_attempts"), payload.get("retry_delay_seconds")
        sandbox.webhooks.configure(
            payload.get("target_url"),
            max_attempts=int(attempts) if attempts is not None else None,
            retry_delay_seconds=float(delay) if delay is not None else None,
            redeliver=bool(payload["redeliver"]) if "redeliver" in payload else None,
        )
        return sandbox.webhooks.snapshot()

    def get_webhooks(_: dict[str, Any]) -> dict[str, Any]:
        return sandbox.webhooks.snapshot()

    def edits(payload: dict[str, Any]) -> dict[str, Any]:
        return {"edited": sandbox.rep_edits(payload)}

    def raw_record(object_type: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def view(params: dict[str, Any]) -> dict[str, Any]:
            store = sandbox.portal.stores[object_type]
            object_id = str(params["objectId"])
            well_formed = object_id.isascii() and object_id.isdigit()
            record = store.records.get(int(object_id)) if well_formed else None
            if record is None:
                raise HubSpotError.not_found()
            return {
                **sandbox.render(
                    record, sorted(record.properties), list(record.associations), object_type
                )
            }

        return view

    return [
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
        Route("/_sandbox/stats", admin(stats), methods=["GET"]),
        Route("/_sandbox/faults", admin(faults), methods=["POST"]),
        Route("/_sandbox/faults", admin(get_faults), methods=["GET"]),
        Route("/_sandbox/rate-limit", admin(rate_limit), methods=["POST"]),
        Route("/_sandbox/rate-limit", admin(get_rate_limit), methods=["GET"]),
        Route("/_sandbox/webhooks", admin(webhooks), methods=["POST"]),
        Route("/_sandbox/webhooks", admin(get_webhooks), methods=["GET"]),
        Route("/_sandbox/edits", admin(edits), methods=["POST"]),
        Route("/_sandbox/companies/{objectId}", admin(raw_record("companies")), methods=["GET"]),
        Route("/_sandbox/deals/{objectId}", admin(raw_record("deals")), methods=["GET"]),
    ]
