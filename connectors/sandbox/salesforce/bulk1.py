"""Bulk API 1.0 query jobs: ``/services/async/XX.X/job`` (what singer-io tap-salesforce uses with
``api_type: BULK``).

The session comes in the ``X-SFDC-Session`` header. A job (``query`` or ``queryAll`` of one
object) is created and closed in JSON or XML, whichever the request is written in; its batches
and results are listed in JSON for a ``JSON`` job (simple-salesforce's ``sf.bulk``) and in XML
for a ``CSV`` one. Results are CSV, or JSON records with dates as epoch milliseconds, a quirk of
the Bulk API's JSON. A batch's query runs when the
batch is added (``Queued`` in that answer, ``Completed`` from the first poll on) into one result
file; a query Bulk Query refuses (aggregates, subqueries, compound fields) or that does not
parse fails the batch with its reason, as Salesforce does. Refusals of the call itself are
``{"exceptionCode", "exceptionMessage"}`` (or ``<error>`` in XML).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final
from xml.sax.saxutils import escape

import orjson
from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.salesforce.bulk import bulk_refusal, csv_results
from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.fields import parse_datetime
from connectors.sandbox.salesforce.ids import USER_ID, IdFactory
from connectors.sandbox.salesforce.query import QueryEngine, matching
from connectors.sandbox.salesforce.soql import Column, Query, parse_query
from connectors.sandbox.salesforce.store import Org, now_string

__all__ = ["ASYNC_ROUTES", "BulkJobs", "async_error"]

NAMESPACE: Final = "http://www.force.com/2009/06/asyncapi/dataload"
_XML: Final = "application/xml"
_JSON: Final = "application/json"


class BulkError(Exception):
    """A Bulk API 1.0 call refused: its exception code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_PROLOG: Final = '<?xml version="1.0" encoding="UTF-8"?>'


def _element(root: str, values: dict[str, Any], *, namespace: bool = True) -> str:
    def text(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else escape(str(value))

    body = "".join(f"<{k}>{text(v)}</{k}>" for k, v in values.items() if v is not None)
    xmlns = f' xmlns="{NAMESPACE}"' if namespace else ""
    return f"<{root}{xmlns}>{body}</{root}>"


def _xml(root: str, values: dict[str, Any]) -> str:
    return _PROLOG + _element(root, values)


def async_error(code: str, message: str, *, xml: bool, status: int) -> Response:
    """The Bulk API 1.0 error body, in the request's format."""
    if xml:
        content = _xml("error", {"exceptionCode": code, "exceptionMessage": message})
        return Response(content, status, media_type=_XML)
    body = orjson.dumps({"exceptionCode": code, "exceptionMessage": message})
    return Response(body, status, media_type=_JSON)


@dataclass
class _Batch:
    id: str
    created: str
    query: Query | None
    ids: list[str]
    failure: str | None
    result_id: str
    polled: bool = False

    def info(self, job_id: str) -> dict[str, Any]:
        state = "Failed" if self.failure else "Completed" if self.polled else "Queued"
        return {
            "id": self.id,
            "jobId": job_id,
            "state": state,
            "stateMessage": self.failure,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "numberRecordsProcessed": len(self.ids) if state == "Completed" else 0,
            "numberRecordsFailed": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }


@dataclass
class _Job:
    info: dict[str, Any]
    batches: dict[str, _Batch] = field(default_factory=dict)


class BulkJobs:
    """The org's Bulk API 1.0 jobs."""

    def __init__(self, org: Org, queries: QueryEngine) -> None:
        self.org = org
        self.queries = queries
        self.jobs: dict[str, _Job] = {}
        self._job_ids = IdFactory("750")
        self._batch_ids = IdFactory("751")
        self._result_ids = IdFactory("752")

    def reset(self) -> None:
        """Forget every job."""
        self.jobs.clear()
        for ids in (self._job_ids, self._batch_ids, self._result_ids):
            ids.reset()

    def _job(self, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise BulkError(400, "InvalidJob", f"Invalid job id: {job_id}")
        return job

    def _batch(self, job_id: str, batch_id: str) -> _Batch:
        batch = self._job(job_id).batches.get(batch_id)
        if batch is None:
            raise BulkError(400, "InvalidBatch", f"Invalid batch id: {batch_id}")
        return batch

    def job_info(self, job_id: str) -> dict[str, Any]:
        """A job's jobInfo, its batch counts up to date."""
        job = self._job(job_id)
        states = [b.info(job_id)["state"] for b in job.batches.values()]
        processed = sum(len(b.ids) for b in job.batches.values() if b.polled and not b.failure)
        return {
            **job.info,
            "numberBatchesQueued": states.count("Queued"),
            "numberBatchesInProgress": 0,
            "numberBatchesCompleted": states.count("Completed"),
            "numberBatchesFailed": states.count("Failed"),
            "numberBatchesTotal": len(states),
            "numberRecordsProcessed": processed,
            "numberRetries": 0,
            "apiVersion": job.info["apiVersion"],
            "numberRecordsFailed": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }

    def create(self, values: dict[str, Any], version: str) -> dict[str, Any]:
        """A new job from a jobInfo's ``operation``, ``object`` and ``contentType``."""
        operation = values.get("operation")
        if operation not in ("query", "queryAll"):
            raise BulkError(
                400, "InvalidJob", f"The sandbox's Bulk API 1.0 runs query jobs, not {operation}"
            )
        store = self.org.store(str(values.get("object") or ""))
        if store is None:
            raise BulkError(400, "InvalidJob", f"Unable to find object: {values.get('object')}")
        content_type = values.get("contentType", "CSV")
        if content_type not in ("CSV", "JSON"):
            raise BulkError(400, "InvalidJob", f"Query jobs return CSV or JSON, not {content_type}")
        now = now_string()
        job_id = self._job_ids.next()
        self.jobs[job_id] = _Job(
            {
                "id": job_id,
                "operation": operation,
                "object": store.name,
                "createdById": USER_ID,
                "createdDate": now,
                "systemModstamp": now,
                "state": "Open",
                "concurrencyMode": "Parallel",
                "contentType": content_type,
                "apiVersion": float(version),
            }
        )
        return self.job_info(job_id)

    def set_state(self, job_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """Close or abort a job."""
        job = self._job(job_id)
        state = values.get("state")
        if state not in ("Closed", "Aborted"):
            raise BulkError(400, "InvalidJob", f"Invalid state: {state}")
        if job.info["state"] != "Open":
            raise BulkError(400, "InvalidJobState", f"Job is {job.info['state']}, not Open")
        job.info["state"] = state
        job.info["systemModstamp"] = now_string()
        return self.job_info(job_id)

    def add_batch(self, job_id: str, soql: str) -> dict[str, Any]:
        """Run a batch's query; its batchInfo (``Queued``, or ``Failed`` with the reason)."""
        job = self._job(job_id)
        if job.info["state"] != "Open":
            raise BulkError(400, "InvalidJobState", f"Job is {job.info['state']}, not Open")
        query: Query | None = None
        ids: list[str] = []
        failure: str | None = None
        try:
            query = parse_query(soql, self.org.stores)
        except SalesforceError as refused:
            failure = f"{refused.error_code}: {refused.message.strip()}"
        if query is not None:
            refusal = bulk_refusal(query)
            if query.store.name != job.info["object"]:
                refusal = f"The query is on {query.store.name}, the job on {job.info['object']}"
            if refusal is not None:
                failure = f"FUNCTIONALITY_NOT_ENABLED: {refusal}"
            else:
                operation = job.info["operation"]
                ids = matching(query, query.store.order, all_rows=operation == "queryAll")
        batch = _Batch(
            self._batch_ids.next(),
            now_string(),
            query,
            ids,
            None if failure is None else f"InvalidBatch : Failed to process query: {failure}",
            self._result_ids.next(),
        )
        job.batches[batch.id] = batch
        return batch.info(job_id)

    def batch_info(self, job_id: str, batch_id: str) -> dict[str, Any]:
        """A batch's batchInfo; polling it finds it complete."""
        batch = self._batch(job_id, batch_id)
        batch.polled = True
        return batch.info(job_id)

    def batch_infos(self, job_id: str) -> list[dict[str, Any]]:
        """Every batch of a job."""
        return [self.batch_info(job_id, batch_id) for batch_id in self._job(job_id).batches]

    def result_ids(self, job_id: str, batch_id: str) -> list[str]:
        """The result files of a completed batch (one in the sandbox)."""
        batch = self._batch(job_id, batch_id)
        if batch.failure or not batch.polled:
            raise BulkError(400, "InvalidBatch", "Batch not completed")
        return [batch.result_id]

    def speaks_json(self, job_id: str) -> bool:
        """Whether the job's batches and results are JSON (else XML and CSV)."""
        return bool(self._job(job_id).info["contentType"] == "JSON")

    def result(self, job_id: str, batch_id: str, result_id: str) -> str | list[dict[str, Any]]:
        """A result file: the batch's rows as CSV, or as JSON records."""
        batch = self._batch(job_id, batch_id)
        if result_id not in self.result_ids(job_id, batch_id) or batch.query is None:
            raise BulkError(400, "InvalidBatch", f"Invalid result id: {result_id}")
        if not self.speaks_json(job_id):
            return csv_results(batch.query, batch.ids)
        version = str(self._job(job_id).info["apiVersion"])
        rows = self.queries.rows(batch.query, batch.ids, version, all_rows=True)
        dated = [c for c in batch.query.columns if isinstance(c, Column) and c.spec.type in _DATED]
        for row in rows:
            for column in dated:
                _to_epoch_ms(row, column)
        return rows


_DATED: Final = frozenset({"date", "datetime"})


def _to_epoch_ms(row: dict[str, Any], column: Column) -> None:
    """A date or datetime of a JSON result row as epoch milliseconds, in place."""
    target: dict[str, Any] | None = row
    for step in column.path:
        target = target.get(step.relationship) if target is not None else None
    if target is None or target.get(column.spec.name) is None:
        return
    value = target[column.spec.name]
    moment = parse_datetime(value if "T" in value else f"{value}T00:00:00+00:00")
    if moment is not None:
        target[column.spec.name] = int(moment.timestamp() * 1000)


def _jobs(request: Request) -> BulkJobs:
    jobs: BulkJobs = request.app.state.sandbox.bulk_jobs
    return jobs


def _speaks_xml(request: Request) -> bool:
    return "json" not in request.headers.get("content-type", "").lower()


async def _job_values(request: Request) -> dict[str, Any]:
    """A jobInfo body, JSON or XML, as a dict of its elements."""
    raw = await request.body()
    try:
        if not _speaks_xml(request):
            values = orjson.loads(raw or b"{}")
            if not isinstance(values, dict):
                raise ValueError("not an object")
            return values
        root = ET.fromstring(raw)
    except (ValueError, ET.ParseError) as exc:
        raise BulkError(400, "InvalidJob", f"Unable to parse the job: {exc}") from None
    return {child.tag.rsplit("}", 1)[-1]: child.text for child in root}


def _answer(request: Request, root: str, values: dict[str, Any], status: int = 200) -> Response:
    if _speaks_xml(request):
        return Response(_xml(root, values), status, media_type=_XML)
    return Response(orjson.dumps(values), status, media_type=_JSON)


AsyncHandler = Callable[[Request], Awaitable[Response]]


def _served(handler: AsyncHandler) -> Callable[[Request], Awaitable[tuple[int, Any]]]:
    """A Bulk 1.0 handler for the API pipeline, its refusals in Bulk 1.0's error shape."""

    async def serve(request: Request) -> tuple[int, Any]:
        try:
            response = await handler(request)
        except BulkError as refused:
            response = async_error(
                refused.code, refused.message, xml=_speaks_xml(request), status=refused.status
            )
        return response.status_code, response

    serve.__doc__ = handler.__doc__
    return serve


async def create_job(request: Request) -> Response:
    """``POST /services/async/XX.X/job``."""
    info = _jobs(request).create(await _job_values(request), request.path_params["version"])
    return _answer(request, "jobInfo", info, 201)


async def job_info(request: Request) -> Response:
    """``GET .../job/{job_id}``."""
    return _answer(request, "jobInfo", _jobs(request).job_info(request.path_params["job_id"]))


async def update_job(request: Request) -> Response:
    """``POST .../job/{job_id}``: ``{"state": "Closed" | "Aborted"}``."""
    jobs, job_id = _jobs(request), request.path_params["job_id"]
    return _answer(request, "jobInfo", jobs.set_state(job_id, await _job_values(request)))


def _batch_answer(
    request: Request, root: str, values: dict[str, Any], status: int = 200
) -> Response:
    """A batch-level answer: JSON for a JSON job, XML for a CSV one."""
    if _jobs(request).speaks_json(request.path_params["job_id"]):
        return Response(orjson.dumps(values), status, media_type=_JSON)
    return Response(_xml(root, values), status, media_type=_XML)


async def add_batch(request: Request) -> Response:
    """``POST .../job/{job_id}/batch``: the body is the SOQL query."""
    soql = (await request.body()).decode("utf-8", "replace")
    info = _jobs(request).add_batch(request.path_params["job_id"], soql)
    return _batch_answer(request, "batchInfo", info, 201)


async def list_batches(request: Request) -> Response:
    """``GET .../job/{job_id}/batch``."""
    jobs, job_id = _jobs(request), request.path_params["job_id"]
    infos = jobs.batch_infos(job_id)
    if jobs.speaks_json(job_id):
        return Response(orjson.dumps({"batchInfo": infos}), media_type=_JSON)
    items = "".join(_element("batchInfo", info, namespace=False) for info in infos)
    body = f'{_PROLOG}<batchInfoList xmlns="{NAMESPACE}">{items}</batchInfoList>'
    return Response(body, media_type=_XML)


async def batch_info(request: Request) -> Response:
    """``GET .../job/{job_id}/batch/{batch_id}``."""
    params = request.path_params
    info = _jobs(request).batch_info(params["job_id"], params["batch_id"])
    return _batch_answer(request, "batchInfo", info)


async def batch_results(request: Request) -> Response:
    """``GET .../job/{job_id}/batch/{batch_id}/result``: the result ids."""
    params = request.path_params
    jobs = _jobs(request)
    ids = jobs.result_ids(params["job_id"], params["batch_id"])
    if jobs.speaks_json(params["job_id"]):
        return Response(orjson.dumps(ids), media_type=_JSON)
    items = "".join(f"<result>{i}</result>" for i in ids)
    body = f'{_PROLOG}<result-list xmlns="{NAMESPACE}">{items}</result-list>'
    return Response(body, media_type=_XML)


async def batch_result(request: Request) -> Response:
    """``GET .../job/{job_id}/batch/{batch_id}/result/{result_id}``: CSV."""
    params = request.path_params
    result = _jobs(request).result(params["job_id"], params["batch_id"], params["result_id"])
    if isinstance(result, str):
        return Response(result, media_type="text/csv")
    return Response(orjson.dumps(result), media_type=_JSON)


_JOB: Final = "/services/async/{version}/job"
ASYNC_ROUTES: Final = (
    ("POST", _JOB, _served(create_job)),
    ("GET", f"{_JOB}/{{job_id}}", _served(job_info)),
    ("POST", f"{_JOB}/{{job_id}}", _served(update_job)),
    ("POST", f"{_JOB}/{{job_id}}/batch", _served(add_batch)),
    ("GET", f"{_JOB}/{{job_id}}/batch", _served(list_batches)),
    ("GET", f"{_JOB}/{{job_id}}/batch/{{batch_id}}", _served(batch_info)),
    ("GET", f"{_JOB}/{{job_id}}/batch/{{batch_id}}/result", _served(batch_results)),
    ("GET", f"{_JOB}/{{job_id}}/batch/{{batch_id}}/result/{{result_id}}", _served(batch_result)),
)
