"""The Salesforce sandbox as a Starlette app: REST query, sObjects, collections, describe,
limits, OAuth and SOAP login, and the ``/_sandbox/`` admin.

Every REST call goes through one pipeline: count it, check the session, take one request from
the daily allocation, inject configured faults, run the endpoint, and render Salesforce's JSON
(or its error list) with orjson and the ``Sforce-Limit-Info`` header.
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
from connectors.sandbox.salesforce.auth import (
    Credentials,
    LoginFailed,
    SessionRegistry,
    soap_fault,
    soap_login_response,
)
from connectors.sandbox.salesforce.errors import RecordError, SalesforceError
from connectors.sandbox.salesforce.ids import to_18
from connectors.sandbox.salesforce.limits import DailyAllocation
from connectors.sandbox.salesforce.outbound import OutboundDispatcher
from connectors.sandbox.salesforce.query import (
    QueryEngine,
    batch_size_from,
    deleted_since,
    render_record,
    render_rows,
    updated_since,
)
from connectors.sandbox.salesforce.schema import format_datetime, parse_datetime
from connectors.sandbox.salesforce.store import (
    ObjectStore,
    Org,
    SaveResult,
    now_string,
    rolled_back,
)

__all__ = ["SalesforceSandbox", "create_app"]

logger = logging.getLogger(__name__)

MAX_COLLECTION: Final = 200
MAX_RETRIEVE_GET: Final = 800
MAX_RETRIEVE_POST: Final = 2000
OLDEST_VERSION: Final = 31
_JSON: Final = "application/json;charset=UTF-8"
_XML: Final = "text/xml;charset=UTF-8"
_DATA: Final = "/services/data/v{version}"

Handler = Callable[[Request], Awaitable[tuple[int, Any]]]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, body, headers, media_type=_JSON)


async def _read_json(request: Request) -> Any:
    return await read_json(
        request,
        lambda why: SalesforceError.json_parser(f"Unexpected character in request body: {why}"),
    )


def _admin_time(payload: dict[str, Any]) -> str:
    """When an admin-simulated change happens: now, or the given ``at`` (not in the future)."""
    raw = payload.get("at")
    if raw is None:
        return now_string()
    moment = parse_datetime(str(raw))
    if moment is None or moment > datetime.now(UTC):
        raise ValueError(f"at must be a datetime in the past, was {raw!r}")
    return format_datetime(moment)


def _release_name(version: int) -> str:
    """``Winter '24`` for 59: three releases a year, Spring first."""
    step = version - 60
    season = ("Spring", "Summer", "Winter")[step % 3]
    year = 24 + step // 3 + (1 if season == "Winter" else 0)
    return f"{season} '{year:02d}"


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else None


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host') or request.url.netloc}"


_INJECTED: Final = {
    400: ("JSON_PARSER_ERROR", "Injected fault: the request could not be parsed"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
    502: ("SERVER_UNAVAILABLE", "Injected fault: bad gateway"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    504: (
        "REQUEST_RUNNING_TOO_LONG",
        "Your request was running for too long, and has been stopped.",
    ),
}


class SalesforceSandbox:
    """The state behind one app: the org, its sessions and allocation, and the sandbox's knobs."""

    def __init__(
        self,
        *,
        token: str,
        api_version: str,
        daily_limit: int,
        custom_fields: bool,
        credentials: Credentials,
    ) -> None:
        self.api_version = api_version
        newest = int(float(api_version))
        self.versions = [f"{v}.0" for v in range(OLDEST_VERSION, newest + 1)]
        self._known_versions = frozenset(self.versions)
        self.default_custom_fields = custom_fields
        self.org = Org(writeback_fields=custom_fields)
        self.queries = QueryEngine(self.org)
        self.allocation = DailyAllocation(daily_limit)
        self.sessions = SessionRegistry(token, credentials)
        self.faults = FaultInjector()
        self.calls = CallCounter()
        self.outbound = OutboundDispatcher(lambda: self.org.accounts, self.sessions.issue)
        self.outbound.version = api_version
        self.org.listeners.append(self.outbound.saved)
        self._edit_rng = random.Random(0)

    def reset(
        self,
        *,
        seed: int,
        accounts: int,
        opportunities_per_account: int,
        custom_fields: bool | None = None,
    ) -> dict[str, Any]:
        """Reseed the org; forget call counts, usage, query locators, sessions and pending
        outbound messages (the outbound target stays)."""
        writeback = self.default_custom_fields if custom_fields is None else custom_fields
        counts = self.org.reset(
            seed=seed,
            accounts=accounts,
            opportunities_per_account=opportunities_per_account,
            writeback_fields=writeback,
        )
        self.queries.reset()
        self.calls.reset()
        self.allocation.configure(used=0)
        self.sessions.reset()
        self.outbound.reset()
        self._edit_rng = random.Random(seed)
        return {**counts, "custom_fields": writeback}

    def known_version(self, version: str) -> bool:
        """Whether ``/services/data/v<version>`` exists."""
        return version in self._known_versions

    def store_for(self, request: Request) -> ObjectStore:
        """The object a route names, or 404 ``NOT_FOUND``."""
        store = self.org.store(request.path_params["sobject"])
        if store is None:
            raise SalesforceError.not_found()
        return store

    def collection(self, payload: Any, *, creating: bool) -> list[dict[str, Any]]:
        """``POST``/``PATCH composite/sobjects``: up to 200 records, one SaveResult each."""
        if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
            raise SalesforceError.json_parser("The request body needs a records list")
        records = payload["records"]
        if len(records) > MAX_COLLECTION:
            raise SalesforceError.bad_request(
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_COLLECTION} records into "
                "this call",
            )
        all_or_none = payload.get("allOrNone", False) is True
        # Records are processed in chunks of consecutive records of one object.
        chunks: list[tuple[ObjectStore, list[tuple[Any, dict[str, Any] | RecordError]]]] = []
        for record in records:
            if not isinstance(record, dict):
                raise SalesforceError.json_parser("Each record must be a JSON object")
            kind = (record.get("attributes") or {}).get("type")
            if not kind:
                raise SalesforceError.bad_request(
                    "INVALID_TYPE", "Must send a concrete entity type.", []
                )
            store = self.org.store(str(kind))
            if store is None:
                raise SalesforceError.bad_request(
                    "INVALID_TYPE", f"sObject type '{kind}' is not supported.", []
                )
            values: dict[str, Any] | RecordError = self.org.parse_values(store, record)
            raw_id = record.get("id", record.get("Id"))
            if creating:
                if raw_id is not None:
                    values = RecordError(
                        "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                    )
                raw_id = None
            if chunks and chunks[-1][0] is store:
                chunks[-1][1].append((raw_id, values))
            else:
                chunks.append((store, [(raw_id, values)]))
        if len(chunks) > 10:
            raise SalesforceError.bad_request(
                "INVALID_BATCH_REQUEST", "Request can't contain more than 10 chunks", []
            )
        checked = [
            (store, *self.org.validate(store, items, creating=creating)) for store, items in chunks
        ]
        failed = any(r.error for _, _, results in checked for r in results)
        outcome: list[SaveResult] = []
        now = now_string()
        for store, pending, results in checked:
            if all_or_none and failed:
                outcome.extend(rolled_back(results))
            else:
                outcome.extend(self.org.apply(store, pending, results, now=now))
        return [result.as_dict() for result in outcome]

    def delete_collection(self, ids: list[str], *, all_or_none: bool) -> list[dict[str, Any]]:
        """``DELETE composite/sobjects?ids=``: up to 200 records, one DeleteResult each."""
        if len(ids) > MAX_COLLECTION:
            raise SalesforceError.bad_request(
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_COLLECTION} records into "
                "this call",
            )
        targets: list[tuple[str, ObjectStore | None, RecordError | None]] = []
        for raw_id in ids:
            record_id = to_18(raw_id)
            store = next(
                (
                    s
                    for s in self.org.stores.values()
                    if record_id and record_id.startswith(s.schema.key_prefix)
                ),
                None,
            )
            error = None
            if store is None:
                error = RecordError("MALFORMED_ID", f"malformed id {raw_id}", [])
            else:
                record = store.records.get(record_id or "")
                if record is None:
                    error = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
                elif record["IsDeleted"]:
                    error = RecordError("ENTITY_IS_DELETED", "entity is deleted")
            targets.append((record_id or raw_id, store, error))
        results = [SaveResult(record_id, error) for record_id, _, error in targets]
        if all_or_none and any(r.error for r in results):
            return [r.as_dict() for r in rolled_back(results)]
        now = now_string()
        for record_id, store, error in targets:
            if error is None and store is not None:
                self.org.delete(store, record_id, now=now)
        return [r.as_dict() for r in results]

    def rep_edits(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Change accounts as a rep would: given values, or ``count`` random plausible edits;
        ``at`` backdates them."""
        store, now = self.org.accounts, _admin_time(payload)
        if "ids" in payload:
            values = self.org.parse_values(
                store, payload.get("fields") or payload.get("properties") or {}
            )
            items: list[tuple[Any, dict[str, Any] | RecordError]] = [
                (raw_id, dict(values)) for raw_id in payload["ids"]
            ]
            results = self.org.save(store, items, creating=False, all_or_none=True, now=now)
            problems = [
                f"{raw_id}: {r.error.status_code} {r.error.message}"
                for (raw_id, _), r in zip(items, results, strict=True)
                if r.error is not None
                and r.error.status_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK"
            ]
            if problems:
                raise ValueError("no account was edited: " + "; ".join(problems))
            return [{"id": r.id, "fields": values} for r in results]
        return self.org.rep_edits(self._edit_rng, int(payload.get("count", 1)), now)


def create_app(
    *,
    token: str = "sandbox-token",
    seed: int = 1,
    accounts: int = 0,
    opportunities_per_account: int = 2,
    api_version: str = "59.0",
    daily_limit: int = 15000,
    custom_fields: bool = True,
    client_id: str = "sandbox-client",
    client_secret: str = "sandbox-secret",
    username: str = "sandbox@example.com",
    password: str = "sandbox-password",
    security_token: str = "sandbox-security-token",
    refresh_token: str = "sandbox-refresh-token",
) -> Starlette:
    """A Salesforce REST API stand-in that ``simple-salesforce`` talks to unchanged.

    ``custom_fields=False`` makes an org without the ICP write-back fields (the demo's custom
    fields stay). ``app.state.sandbox`` is the :class:`SalesforceSandbox` behind it.
    """
    sandbox = SalesforceSandbox(
        token=token,
        api_version=api_version,
        daily_limit=daily_limit,
        custom_fields=custom_fields,
        credentials=Credentials(
            username=username,
            password=password,
            security_token=security_token,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
        ),
    )
    if accounts:
        sandbox.reset(
            seed=seed, accounts=accounts, opportunities_per_account=opportunities_per_account
        )
    routes: list[Route] = []

    def api(method: str, template: str, handler: Handler) -> None:
        key = f"{method} {template}"
        calls, sessions, allocation, faults = (
            sandbox.calls,
            sandbox.sessions,
            sandbox.allocation,
            sandbox.faults,
        )

        async def endpoint(request: Request) -> Response:
            calls.count(key)
            if not sessions.valid(_bearer(request)):
                return _json(401, SalesforceError.invalid_session().body())
            if not allocation.take():
                calls.count_rate_limited()
                return _json(
                    403,
                    SalesforceError(
                        403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                    ).body(),
                    {"Sforce-Limit-Info": allocation.header()},
                )
            headers = {"Sforce-Limit-Info": allocation.header()}
            version = request.path_params.get("version")
            if version is not None and not sandbox.known_version(version):
                return _json(404, SalesforceError.not_found().body(), headers)
            fault = faults.decide()
            if fault.latency_seconds:
                await asyncio.sleep(fault.latency_seconds)
            if fault.timeout_seconds is not None:
                await asyncio.sleep(fault.timeout_seconds)
                code, message = _INJECTED[504]
                return _json(504, SalesforceError(504, code, message).body(), headers)
            if fault.status_code is not None:
                if fault.status_code in (403, 429):
                    calls.count_rate_limited()
                code, message = _INJECTED.get(
                    fault.status_code, ("UNKNOWN_EXCEPTION", "Injected fault")
                )
                return _json(
                    fault.status_code,
                    SalesforceError(fault.status_code, code, message).body(),
                    headers,
                )
            try:
                status, body = await handler(request)
            except SalesforceError as exc:
                return _json(exc.status_code, exc.body(), headers)
            except Exception:  # a sandbox bug: answer like Salesforce's 500, keep the trace
                logger.exception("Salesforce sandbox failed on %s", key)
                code, message = _INJECTED[500]
                return _json(500, SalesforceError(500, code, message).body(), headers)
            return _json(status, body, headers)

        # simple-salesforce asks for some resources with a trailing slash and some without.
        routes.append(Route(template, endpoint, methods=[method]))
        routes.append(Route(template + "/", endpoint, methods=[method]))

    _data_routes(api, sandbox)
    routes.extend(_auth_routes(sandbox))
    routes.extend(_admin_routes(sandbox))

    async def versions(request: Request) -> Response:
        sandbox.calls.count("GET /services/data")
        return _json(
            200,
            [
                {
                    "label": _release_name(int(float(v))),
                    "url": f"/services/data/v{v}",
                    "version": v,
                }
                for v in sandbox.versions
            ],
        )

    routes.append(Route("/services/data", versions, methods=["GET"]))
    routes.append(Route("/services/data/", versions, methods=["GET"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            return _json(
                405,
                [
                    {
                        "errorCode": "METHOD_NOT_ALLOWED",
                        "message": f"HTTP Method '{request.method}' not allowed.",
                    }
                ],
            )
        return _json(404, SalesforceError.not_found().body())

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.sandbox = sandbox
    return app


def _data_routes(api: Callable[..., None], sandbox: SalesforceSandbox) -> None:
    org = sandbox.org

    async def resources(request: Request) -> tuple[int, Any]:
        base = f"/services/data/v{request.path_params['version']}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "search", "tooling")
        return 200, {name: f"{base}/{name}" for name in names}

    async def limits(request: Request) -> tuple[int, Any]:
        return 200, sandbox.allocation.limits_body()

    def query(all_rows: bool) -> Handler:
        async def run(request: Request) -> tuple[int, Any]:
            text = request.query_params.get("q")
            if text is None:
                raise SalesforceError.bad_request(
                    "MALFORMED_QUERY", "A query string has to be specified"
                )
            return 200, sandbox.queries.run(
                text,
                all_rows=all_rows,
                batch_size=batch_size_from(request.headers.get("sforce-query-options")),
                version=request.path_params["version"],
            )

        return run

    def query_more(all_rows: bool) -> Handler:
        async def more(request: Request) -> tuple[int, Any]:
            return 200, sandbox.queries.more(
                request.path_params["locator"],
                all_rows=all_rows,
                batch_size=batch_size_from(request.headers.get("sforce-query-options")),
                version=request.path_params["version"],
            )

        return more

    async def describe_global(request: Request) -> tuple[int, Any]:
        version = request.path_params["version"]
        return 200, {
            "encoding": "UTF-8",
            "maxBatchSize": MAX_COLLECTION,
            "sobjects": [store.schema.summary(version) for store in org.stores.values()],
        }

    async def sobject_info(request: Request) -> tuple[int, Any]:
        store = sandbox.store_for(request)
        version = request.path_params["version"]
        recent = [i for i in reversed(store.order[-3:]) if not store.records[i]["IsDeleted"]]
        names = ["Id", "Name"] if "Name" in store.schema.fields else ["Id"]
        return 200, {
            "objectDescribe": store.schema.summary(version),
            "recentItems": render_rows(store, recent, names, version),
        }

    async def describe(request: Request) -> tuple[int, Any]:
        return 200, sandbox.store_for(request).schema.describe(request.path_params["version"])

    async def create(request: Request) -> tuple[int, Any]:
        store = sandbox.store_for(request)
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise SalesforceError.json_parser("The request body must be a JSON object")
        values = org.parse_values(store, payload)
        [result] = org.save(
            store, [(None, values)], creating=True, all_or_none=True, now=now_string()
        )
        if result.error is not None:
            raise result.error.as_exception()
        return 201, result.as_dict()

    def existing(store: ObjectStore, raw_id: str) -> dict[str, Any]:
        record = store.get(raw_id)
        if record is None:
            raise SalesforceError.not_found()
        if record["IsDeleted"]:
            raise SalesforceError.entity_is_deleted()
        return record

    async def get_record(request: Request) -> tuple[int, Any]:
        store = sandbox.store_for(request)
        record = existing(store, request.path_params["record_id"])
        fields = None
        raw_fields = request.query_params.get("fields")
        if raw_fields:
            fields = []
            for name in (n.strip() for n in raw_fields.split(",") if n.strip()):
                spec = store.schema.resolve(name)
                if spec is None:
                    raise SalesforceError.bad_request(
                        "INVALID_FIELD", f"No such column '{name}' on entity '{store.name}'."
                    )
                fields.append(spec.name)
        return 200, render_record(store, record, request.path_params["version"], fields)

    async def update_record(request: Request) -> tuple[int, Any]:
        store = sandbox.store_for(request)
        record = existing(store, request.path_params["record_id"])
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise SalesforceError.json_parser("The request body must be a JSON object")
        values = org.parse_values(store, payload)
        [result] = org.save(
            store, [(record["Id"], values)], creating=False, all_or_none=True, now=now_string()
        )
        if result.error is not None:
            raise result.error.as_exception()
        return 204, None

    async def delete_record(request: Request) -> tuple[int, Any]:
        store = sandbox.store_for(request)
        record = existing(store, request.path_params["record_id"])
        org.delete(store, record["Id"], now=now_string())
        return 204, None

    async def updated(request: Request) -> tuple[int, Any]:
        params = request.query_params
        return 200, updated_since(
            sandbox.store_for(request), params.get("start"), params.get("end")
        )

    async def deleted(request: Request) -> tuple[int, Any]:
        params = request.query_params
        return 200, deleted_since(
            sandbox.store_for(request),
            params.get("start"),
            params.get("end"),
            earliest=org.created_at,
        )

    def collection(creating: bool) -> Handler:
        async def write(request: Request) -> tuple[int, Any]:
            payload = await _read_json(request)
            return 200, sandbox.collection(payload, creating=creating)

        return write

    async def delete_collection(request: Request) -> tuple[int, Any]:
        params = request.query_params
        ids = [i.strip() for i in (params.get("ids") or "").split(",") if i.strip()]
        all_or_none = (params.get("allOrNone") or "false").lower() == "true"
        return 200, sandbox.delete_collection(ids, all_or_none=all_or_none)

    def retrieve(ids: list[str], fields: list[str], store: ObjectStore, version: str) -> list[Any]:
        names = []
        for name in fields:
            spec = store.schema.resolve(name)
            if spec is None:
                raise SalesforceError.bad_request(
                    "INVALID_FIELD", f"No such column '{name}' on entity '{store.name}'."
                )
            names.append(spec.name)
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
        store = sandbox.store_for(request)
        params = request.query_params
        ids = [i.strip() for i in (params.get("ids") or "").split(",") if i.strip()]
        fields = [f.strip() for f in (params.get("fields") or "").split(",") if f.strip()]
        if len(ids) > MAX_RETRIEVE_GET:
            raise SalesforceError.bad_request(
                "EXCEEDED_ID_LIMIT", f"Too many ids: at most {MAX_RETRIEVE_GET} in a GET"
            )
        return 200, retrieve(ids, fields, store, request.path_params["version"])

    async def retrieve_post(request: Request) -> tuple[int, Any]:
        store = sandbox.store_for(request)
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            raise SalesforceError.json_parser("The request body must be a JSON object")
        ids = [str(i) for i in payload.get("ids") or []]
        if len(ids) > MAX_RETRIEVE_POST:
            raise SalesforceError.bad_request(
                "EXCEEDED_ID_LIMIT", f"Too many ids: at most {MAX_RETRIEVE_POST}"
            )
        fields = [str(f) for f in payload.get("fields") or []]
        return 200, retrieve(ids, fields, store, request.path_params["version"])

    sobject = f"{_DATA}/sobjects/{{sobject}}"
    api("GET", _DATA, resources)
    api("GET", f"{_DATA}/limits", limits)
    api("GET", f"{_DATA}/query", query(all_rows=False))
    api("GET", f"{_DATA}/query/{{locator}}", query_more(all_rows=False))
    api("GET", f"{_DATA}/queryAll", query(all_rows=True))
    api("GET", f"{_DATA}/queryAll/{{locator}}", query_more(all_rows=True))
    api("GET", f"{_DATA}/sobjects", describe_global)
    api("GET", sobject, sobject_info)
    api("POST", sobject, create)
    api("GET", f"{sobject}/describe", describe)
    api("GET", f"{sobject}/updated", updated)
    api("GET", f"{sobject}/deleted", deleted)
    api("GET", f"{sobject}/{{record_id}}", get_record)
    api("PATCH", f"{sobject}/{{record_id}}", update_record)
    api("DELETE", f"{sobject}/{{record_id}}", delete_record)
    api("POST", f"{_DATA}/composite/sobjects", collection(creating=True))
    api("PATCH", f"{_DATA}/composite/sobjects", collection(creating=False))
    api("DELETE", f"{_DATA}/composite/sobjects", delete_collection)
    api("GET", f"{_DATA}/composite/sobjects/{{sobject}}", retrieve_get)
    api("POST", f"{_DATA}/composite/sobjects/{{sobject}}", retrieve_post)


def _auth_routes(sandbox: SalesforceSandbox) -> list[Route]:
    """The token endpoint and SOAP login, at the instance and at ``<domain>.salesforce.com``
    paths (simple-salesforce builds ``https://<domain>.salesforce.com/...``, so a ``domain`` of
    ``127.0.0.1:<port>/login`` reaches this server). Not counted against the allocation."""
    sessions = sandbox.sessions

    async def token(request: Request) -> Response:
        sandbox.calls.count("POST /services/oauth2/token")
        try:
            body = sessions.token_request(
                await request.body(), request.headers.get("authorization"), _base_url(request)
            )
        except LoginFailed as failed:
            return _json(400, failed.oauth_body())
        return _json(200, body)

    async def soap_login(request: Request) -> Response:
        sandbox.calls.count("POST /services/Soap/u/{version}")
        try:
            session_id = sessions.soap_login(await request.body())
        except LoginFailed as failed:
            return Response(soap_fault(failed.error, failed.description), 500, media_type=_XML)
        version = request.path_params["version"]
        return Response(
            soap_login_response(
                session_id, _base_url(request), version, sessions.credentials.username
            ),
            200,
            media_type=_XML,
        )

    return [
        Route("/services/oauth2/token", token, methods=["POST"]),
        Route("/{login_host}.salesforce.com/services/oauth2/token", token, methods=["POST"]),
        Route("/services/Soap/u/{version}", soap_login, methods=["POST"]),
        Route(
            "/{login_host}.salesforce.com/services/Soap/u/{version}", soap_login, methods=["POST"]
        ),
    ]


def _admin_routes(sandbox: SalesforceSandbox) -> list[Route]:
    """``/_sandbox/``: unauthenticated knobs for tests, demos and benchmarks; not counted."""
    org = sandbox.org

    def admin_error(status: int, detail: Any) -> Response:
        return _json(status, {"error": "InvalidSandboxRequest", "detail": detail})

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            payload = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        return payload

    def admin(
        handler: Callable[[dict[str, Any], Request], Any],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                payload = await body_of(request) if request.method == "POST" else {}
                return _json(200, handler(payload, request))
            except (ValueError, TypeError, KeyError, FaultConfigError) as exc:
                return admin_error(400, str(exc))
            except SalesforceError as exc:
                return admin_error(exc.status_code, exc.body())

        return endpoint

    def reset(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        started = datetime.now(UTC)
        custom = payload.get("custom_fields")
        counts = sandbox.reset(
            seed=int(payload.get("seed", 1)),
            accounts=int(payload.get("accounts", payload.get("companies", 0))),
            opportunities_per_account=int(
                payload.get("opportunities_per_account", payload.get("deals_per_company", 2))
            ),
            custom_fields=None if custom is None else bool(custom),
        )
        if payload.get("daily_limit") is not None:
            sandbox.allocation.configure(maximum=int(payload["daily_limit"]))
        return {**counts, "seconds": round((datetime.now(UTC) - started).total_seconds(), 3)}

    def stats(_: dict[str, Any], __: Request) -> dict[str, Any]:
        return {**sandbox.calls.snapshot(), "api_usage": sandbox.allocation.snapshot()}

    def faults(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        sandbox.faults.configure(FaultConfig.from_payload(payload))
        return sandbox.faults.config.as_dict()

    def get_faults(_: dict[str, Any], __: Request) -> dict[str, Any]:
        return sandbox.faults.config.as_dict()

    def limits(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        unknown = set(payload) - {"used", "max"}
        if unknown:
            raise ValueError(f"unknown limit settings: {', '.join(sorted(unknown))}")
        used, maximum = payload.get("used"), payload.get("max")
        sandbox.allocation.configure(
            used=None if used is None else int(used),
            maximum=None if maximum is None else int(maximum),
        )
        return sandbox.allocation.snapshot()

    def get_limits(_: dict[str, Any], __: Request) -> dict[str, Any]:
        return sandbox.allocation.snapshot()

    def rate_limit(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        # HubSpot's 10-second window has no Salesforce counterpart; 0 ("none") is accepted so
        # that code driving both fakes alike can switch limits off.
        if int(payload.get("per_10s", 0)) != 0:
            raise ValueError(
                "Salesforce has no 10-second rate limit; set the daily allocation with "
                'POST /_sandbox/limits {"used", "max"}'
            )
        return {"per_10s": 0, "daily": sandbox.allocation.snapshot()}

    def expire_tokens(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        expired = sandbox.sessions.expire(configured=bool(payload.get("configured", False)))
        return {"expired": expired, "configured_valid": not sandbox.sessions.configured_expired}

    def edits(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        return {"edited": sandbox.rep_edits(payload)}

    def delete(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        ids = payload.get("ids")
        if not isinstance(ids, list):
            raise ValueError("ids must be a list of account ids")
        now, deleted, errors = _admin_time(payload), [], []
        for raw_id in ids:
            error = org.delete(org.accounts, str(raw_id), now=now)
            if error is None:
                deleted.append(to_18(str(raw_id)))
            else:
                errors.append({"id": raw_id, **error.as_dict()})
        return {"deleted": deleted, "errors": errors}

    def fields(payload: dict[str, Any], _: Request) -> dict[str, Any]:
        removed = org.remove_fields(payload.get("remove") or [])
        added = org.add_fields(payload.get("add") or [])
        return {"removed": removed, "added": added, **get_fields({}, _)}

    def get_fields(_: dict[str, Any], __: Request) -> dict[str, Any]:
        schema = org.accounts.schema
        return {"custom_fields": [n for n, s in schema.fields.items() if s.custom]}

    def outbound(payload: dict[str, Any], request: Request) -> dict[str, Any]:
        settings = {k: v for k, v in payload.items() if k != "target_url"}
        settings.setdefault("base_url", _base_url(request))
        sandbox.outbound.configure(payload.get("target_url"), **settings)
        return sandbox.outbound.snapshot()

    def get_outbound(_: dict[str, Any], __: Request) -> dict[str, Any]:
        return sandbox.outbound.snapshot()

    def raw_record(store: ObjectStore) -> Callable[[dict[str, Any], Request], dict[str, Any]]:
        def view(_: dict[str, Any], request: Request) -> dict[str, Any]:
            record = store.get(request.path_params["record_id"])
            if record is None:
                raise SalesforceError.not_found()
            return dict(record)

        return view

    return [
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
        Route("/_sandbox/stats", admin(stats), methods=["GET"]),
        Route("/_sandbox/faults", admin(faults), methods=["POST"]),
        Route("/_sandbox/faults", admin(get_faults), methods=["GET"]),
        Route("/_sandbox/limits", admin(limits), methods=["POST"]),
        Route("/_sandbox/limits", admin(get_limits), methods=["GET"]),
        Route("/_sandbox/rate-limit", admin(rate_limit), methods=["POST"]),
        Route("/_sandbox/expire-tokens", admin(expire_tokens), methods=["POST"]),
        Route("/_sandbox/edits", admin(edits), methods=["POST"]),
        Route("/_sandbox/delete", admin(delete), methods=["POST"]),
        Route("/_sandbox/fields", admin(fields), methods=["POST"]),
        Route("/_sandbox/fields", admin(get_fields), methods=["GET"]),
        Route("/_sandbox/outbound", admin(outbound), methods=["POST"]),
        Route("/_sandbox/outbound", admin(get_outbound), methods=["GET"]),
        # HubSpot's name for "where change notifications go", so SandboxAdmin.webhooks works.
        Route("/_sandbox/webhooks", admin(outbound), methods=["POST"]),
        Route("/_sandbox/webhooks", admin(get_outbound), methods=["GET"]),
        Route("/_sandbox/accounts/{record_id}", admin(raw_record(org.accounts)), methods=["GET"]),
        Route(
            "/_sandbox/opportunities/{record_id}",
            admin(raw_record(org.opportunities)),
            methods=["GET"],
        ),
    ]
