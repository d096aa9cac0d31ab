"""Composite resources: ``composite`` (subrequests with references, ``allOrNone``),
``composite/batch`` (independent subrequests) and ``composite/tree/{sobject}`` (record trees).

A subrequest is served by the very endpoint that serves it as a call of its own (found in
:data:`~connectors.sandbox.salesforce.api.DATA_ROUTES`), so it behaves and fails the same way; a
composite counts as one API call. ``allOrNone`` and trees run in an org transaction and roll back
as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.routing import compile_path

from connectors.sandbox.salesforce.api import DATA, DATA_ROUTES, ApiHandler
from connectors.sandbox.salesforce.bodies import read_object
from connectors.sandbox.salesforce.errors import RecordError, SalesforceError
from connectors.sandbox.salesforce.state import SalesforceSandbox
from connectors.sandbox.salesforce.store import SaveResult, now_string

__all__ = ["COMPOSITE_ROUTES"]

MAX_SUBREQUESTS: Final = 25
MAX_TREE_RECORDS: Final = 200
MAX_TREE_DEPTH: Final = 5
_REFERENCE: Final = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_REFERENCE_ID: Final = re.compile(r"[A-Za-z0-9_]{1,80}")
_HALTED: Final = (
    "The transaction was rolled back since another operation in the same transaction failed."
)
_ROUTES: Final = [
    (method, compile_path(template)[0], handler) for method, template, handler in DATA_ROUTES
]


def _sandbox(request: Request) -> SalesforceSandbox:
    sandbox: SalesforceSandbox = request.app.state.sandbox
    return sandbox


def _halted(message: str = _HALTED) -> list[dict[str, Any]]:
    return [{"errorCode": "PROCESSING_HALTED", "message": message}]


async def _subrequest(
    request: Request, method: str, url: str, body: Any
) -> tuple[int, Any, dict[str, str]]:
    """Serve one subrequest through its endpoint: ``(status, body, headers)``."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    for route_method, pattern, handler in _ROUTES:
        match = pattern.match(path)
        if match and route_method == method.upper():
            if not _sandbox(request).known_version(match.group("version")):
                break
            return await _call(request, handler, method.upper(), path, parts.query, match, body)
    return 404, SalesforceError.not_found().body(), {}


async def _call(
    request: Request,
    handler: ApiHandler,
    method: str,
    path: str,
    query: str,
    match: re.Match[str],
    body: Any,
) -> tuple[int, Any, dict[str, str]]:
    raw = b"" if body is None else orjson.dumps(body)
    scope = {
        **request.scope,
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "path_params": match.groupdict(),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        status, result = await handler(Request(scope, receive))
    except SalesforceError as exc:
        return exc.status_code, exc.body(), {}
    headers = {}
    if status == 201 and isinstance(result, dict) and "id" in result:
        headers["Location"] = f"{path}/{result['id']}"
    return status, result, headers


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    """``@{ref.path}`` references in a URL or body replaced by earlier results' values."""
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def lookup(match: re.Match[str]) -> str:
        reference, path = match.group(1), match.group(2)
        if reference not in results:
            raise LookupError(f"Invalid reference specified. No value for {reference} found.")
        current = results[reference]
        for key, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
            try:
                current = current[int(index)] if index else current[key]
            except (KeyError, IndexError, TypeError):
                raise LookupError(
                    f"Invalid reference specified. No value for {reference}{path} found in "
                    f"{reference}. Provided referenceId ('{reference}') must be unique and "
                    "refer to an earlier subrequest."
                ) from None
        return str(current)

    return _REFERENCE.sub(lookup, value)


@dataclass
class _Sub:
    method: str
    url: str
    reference_id: str
    body: Any


def _subrequests(payload: dict[str, Any]) -> list[_Sub]:
    items = payload.get("compositeRequest")
    if not isinstance(items, list) or not items:
        raise SalesforceError.bad_request("INVALID_INPUT", "compositeRequest is required")
    if len(items) > MAX_SUBREQUESTS:
        raise SalesforceError.bad_request(
            "LIMIT_EXCEEDED",
            f"Composite request can't have more than {MAX_SUBREQUESTS} subrequests",
        )
    subs, seen = [], set()
    for item in items:
        if not isinstance(item, dict):
            raise SalesforceError.json_parser("Each subrequest must be a JSON object")
        reference_id = str(item.get("referenceId") or "")
        if not _REFERENCE_ID.fullmatch(reference_id) or reference_id in seen:
            raise SalesforceError.bad_request(
                "INVALID_INPUT",
                f"Invalid referenceId: '{reference_id}'; it must be unique and alphanumeric",
            )
        seen.add(reference_id)
        method, url = str(item.get("method") or ""), str(item.get("url") or "")
        if method.upper() not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            raise SalesforceError.bad_request("INVALID_INPUT", f"Invalid method: {method}")
        subs.append(_Sub(method, url, reference_id, item.get("body")))
    return subs


async def composite(request: Request) -> tuple[int, Any]:
    """``POST .../composite``: up to 25 subrequests in order, later ones referencing earlier
    results; with ``allOrNone`` one failure rolls every write back."""
    payload = await read_object(request)
    subs = _subrequests(payload)
    all_or_none = payload.get("allOrNone") is True
    org = _sandbox(request).org
    if all_or_none:
        org.begin()
    try:
        responses = await _run(request, subs, all_or_none)
    except BaseException:
        if all_or_none:
            org.rollback()
        raise
    if all_or_none:
        if any(r["httpStatusCode"] >= 400 for r in responses):
            org.rollback()
            for response in responses:
                if response["httpStatusCode"] < 400:
                    response.update(httpStatusCode=400, body=_halted(), httpHeaders={})
        else:
            org.commit()
    return 200, {"compositeResponse": responses}


async def _run(request: Request, subs: list[_Sub], all_or_none: bool) -> list[dict[str, Any]]:
    """The subrequests in order; after a failure under ``allOrNone`` the rest are halted."""
    results: dict[str, Any] = {}
    responses: list[dict[str, Any]] = []
    failed = False
    for sub in subs:
        headers: dict[str, str] = {}
        if failed and all_or_none:
            status, body, headers = 400, _halted(), {}
        else:
            try:
                url, body = _resolve(sub.url, results), _resolve(sub.body, results)
            except LookupError as missing:
                status, body, headers = 400, _halted(str(missing)), {}
            else:
                status, body, headers = await _subrequest(request, sub.method, url, body)
                results[sub.reference_id] = body
        failed = failed or status >= 400
        responses.append(
            {
                "body": body,
                "httpHeaders": headers,
                "httpStatusCode": status,
                "referenceId": sub.reference_id,
            }
        )
    return responses


async def composite_batch(request: Request) -> tuple[int, Any]:
    """``POST .../composite/batch``: up to 25 independent subrequests (``haltOnError`` stops at
    the first failure)."""
    payload = await read_object(request)
    items = payload.get("batchRequests")
    if not isinstance(items, list) or not items:
        raise SalesforceError.bad_request("INVALID_INPUT", "batchRequests is required")
    if len(items) > MAX_SUBREQUESTS:
        raise SalesforceError.bad_request(
            "LIMIT_EXCEEDED", f"A batch can't have more than {MAX_SUBREQUESTS} subrequests"
        )
    halt = payload.get("haltOnError") is True
    results: list[dict[str, Any]] = []
    halted = False
    for item in items:
        if halted:
            results.append(
                {
                    "statusCode": 412,
                    "result": [
                        {
                            "errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request",
                        }
                    ],
                }
            )
            continue
        item = item if isinstance(item, dict) else {}
        # Batch URLs start at the version: "v62.0/sobjects/Account/001...".
        url = "/services/data/" + str(item.get("url") or "").lstrip("/")
        status, body, _ = await _subrequest(
            request, str(item.get("method") or "GET"), url, item.get("richInput")
        )
        results.append({"statusCode": status, "result": body})
        halted = halt and status >= 400
    return 200, {"hasErrors": any(r["statusCode"] >= 400 for r in results), "results": results}


def _tree_records(
    sandbox: SalesforceSandbox, object_name: str, records: Any, depth: int, count: list[int]
) -> list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]]:
    """Validate a level of a tree: ``(referenceId, fields, [(relationship field, child object,
    children)])`` per record."""
    if not isinstance(records, list):
        raise SalesforceError.json_parser("records must be a list")
    if depth > MAX_TREE_DEPTH:
        raise SalesforceError.bad_request(
            "INVALID_INPUT", f"A tree can be at most {MAX_TREE_DEPTH} levels deep"
        )
    schema = sandbox.store_for(object_name).schema
    level = []
    for record in records:
        count[0] += 1
        if count[0] > MAX_TREE_RECORDS:
            raise SalesforceError.bad_request(
                "LIMIT_EXCEEDED", f"A tree can hold at most {MAX_TREE_RECORDS} records"
            )
        if not isinstance(record, dict):
            raise SalesforceError.json_parser("Each record must be a JSON object")
        attributes = record.get("attributes") or {}
        if str(attributes.get("type", "")).lower() != schema.name.lower():
            raise SalesforceError.bad_request(
                "INVALID_INPUT", f"Each record must have attributes.type {schema.name}"
            )
        reference_id = str(attributes.get("referenceId") or "")
        fields: dict[str, Any] = {}
        children = []
        for key, value in record.items():
            child = schema.child(key) if key != "attributes" else None
            if child is not None and isinstance(value, dict):
                children.append((child.field, child.child, value.get("records")))
            elif key != "attributes":
                fields[key] = value
        level.append((reference_id, fields, children))
    return level


async def composite_tree(request: Request) -> tuple[int, Any]:
    """``POST .../composite/tree/{sobject}``: records and their children, created together or
    not at all."""
    sandbox = _sandbox(request)
    org = sandbox.org
    payload = await read_object(request)
    count = [0]
    pending = [
        (request.path_params["sobject"], item, None)
        for item in _tree_records(
            sandbox, request.path_params["sobject"], payload.get("records"), 1, count
        )
    ]
    org.begin()
    try:
        results, errors = await _plant(sandbox, pending, count)
    except BaseException:
        org.rollback()
        raise
    if errors:
        org.rollback()
        return 400, {"hasErrors": True, "results": errors}
    org.commit()
    return 201, {"hasErrors": False, "results": results}


async def _plant(
    sandbox: SalesforceSandbox, pending: list[Any], count: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Create a tree level by level, each child with its parent's id; results and errors."""
    org = sandbox.org
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    now = now_string()
    depth = 1
    while pending:
        following = []
        for object_name, (reference_id, fields, children), parent in pending:
            store = sandbox.store_for(object_name)
            try:
                values = org.parse_values(store, fields)
            except SalesforceError as refused:
                error = RecordError(refused.error_code, refused.message, refused.fields or [])
                result = SaveResult(None, error)
            else:
                if parent is not None:
                    values[parent[0]] = parent[1]
                [result] = org.save(
                    store, [(None, values)], creating=True, all_or_none=True, now=now
                )
            if result.error is not None:
                errors.append({"referenceId": reference_id, "errors": [result.error.as_dict()]})
                continue
            results.append({"referenceId": reference_id, "id": result.id})
            for field, child_object, records in children:
                for item in _tree_records(sandbox, child_object, records, depth + 1, count):
                    following.append((child_object, item, (field, result.id)))
        pending, depth = following, depth + 1
    return results, errors


COMPOSITE_ROUTES: Final[tuple[tuple[str, str, ApiHandler], ...]] = (
    ("POST", f"{DATA}/composite", composite),
    ("POST", f"{DATA}/composite/batch", composite_batch),
    ("POST", f"{DATA}/composite/tree/{{sobject}}", composite_tree),
)
