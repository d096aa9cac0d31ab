"""Bulk API 2.0 query jobs: ``/services/data/vXX.X/jobs/query``.

A job runs its query when it is created (the fake has no queue), so it is ``UploadComplete`` in
the creation answer and ``JobComplete`` from the first poll on. Results are CSV pages: every
value quoted, nulls empty, relationship fields named by their path (``Account.Name``); a page
holds ``maxRecords`` rows (all the rest if not given), its ``Sforce-NumberOfRecords`` header
says how many, and ``Sforce-Locator`` names the next page (``null`` after the last). As in
Bulk API 2.0, subqueries, aggregates, ``FIELDS()`` other than explicit fields, and compound
fields are refused when the job is created.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.salesforce.bodies import read_body
from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.ids import USER_ID, IdFactory
from connectors.sandbox.salesforce.query import matching
from connectors.sandbox.salesforce.soql import Column, Query, Subquery, parse_query
from connectors.sandbox.salesforce.store import Org, now_string

__all__ = ["BULK_ROUTES", "QueryJobs", "bulk_refusal", "csv_results"]

_DELIMITERS: Final = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_LINE_ENDINGS: Final = {"LF": "\n", "CRLF": "\r\n"}
_CSV: Final = "text/csv"


@dataclass
class _Job:
    """One query job and the ids its query matched when it ran."""

    info: dict[str, Any]
    query: Query
    ids: list[str]


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith("+0000") and "T" in value:
        return value[:-5] + "Z"  # Bulk results write datetimes in UTC with a Z
    return str(value)


def bulk_refusal(query: Query) -> str | None:
    """Why the Bulk APIs refuse a query (aggregates, subqueries, compound fields), or None."""
    if query.is_aggregate or query.count_only:
        return "Aggregate queries are not supported in Bulk Query"
    for column in query.columns:
        if isinstance(column, Subquery):
            return "Aggregate Relationship is not supported in Bulk Query"
        if column.spec.type == "address":
            return "Selecting compound data not supported in Bulk Query"
    return None


def csv_results(
    query: Query, ids: list[str], *, delimiter: str = ",", line_ending: str = "\n"
) -> str:
    """Rows of a bulk query as CSV: a header of field paths, every value quoted, nulls empty."""
    columns = [c for c in query.columns if isinstance(c, Column)]
    records = query.store.records
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL)
    writer.writerow([c.dotted for c in columns])
    getters = [c.get for c in columns]
    for record_id in ids:
        record = records[record_id]
        writer.writerow([_csv_value(get(record)) for get in getters])
    return out.getvalue()


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except ValueError:
        return None
    return int(text) if text.isascii() and text.isdigit() else None


class QueryJobs:
    """The org's Bulk API 2.0 query jobs."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, _Job] = {}
        self._ids = IdFactory("750")

    def reset(self) -> None:
        """Forget every job."""
        self.jobs.clear()
        self._ids.reset()

    def create(self, payload: Any, version: str) -> dict[str, Any]:
        """``POST jobs/query``: run the query; the job's info."""
        if not isinstance(payload, dict):
            raise SalesforceError.json_parser("The request body must be a JSON object")
        operation = payload.get("operation")
        if operation not in ("query", "queryAll"):
            raise SalesforceError.bad_request(
                "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}"
            )
        delimiter = payload.get("columnDelimiter", "COMMA")
        line_ending = payload.get("lineEnding", "LF")
        if delimiter not in _DELIMITERS or line_ending not in _LINE_ENDINGS:
            raise SalesforceError.bad_request(
                "INVALIDJOB", "InvalidJob : Invalid columnDelimiter or lineEnding"
            )
        if payload.get("contentType", "CSV") != "CSV":
            raise SalesforceError.bad_request(
                "INVALIDJOB", "InvalidJob : Invalid contentType: only CSV is supported"
            )
        query = parse_query(str(payload.get("query") or ""), self.org.stores)
        unsupported = (
            query.is_aggregate
            or query.count_only
            or any(isinstance(c, Subquery) or c.spec.type == "address" for c in query.columns)
        )
        if unsupported:
            raise SalesforceError.bad_request(
                "INVALIDJOB",
                "InvalidJob : Bulk API 2.0 query jobs do not support aggregate queries, "
                "subqueries or compound fields",
            )
        ids = matching(query, query.store.order, all_rows=operation == "queryAll")
        now = now_string()
        job_id = self._ids.next()
        info = {
            "id": job_id,
            "operation": operation,
            "object": query.store.name,
            "createdById": USER_ID,
            "createdDate": now,
            "systemModstamp": now,
            "state": "UploadComplete",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "lineEnding": line_ending,
            "columnDelimiter": delimiter,
        }
        self.jobs[job_id] = _Job(info, query, ids)
        return dict(info)

    def _job(self, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def info(self, job_id: str) -> dict[str, Any]:
        """``GET jobs/query/{id}``: the job, complete (or aborted)."""
        job = self._job(job_id)
        if job.info["state"] == "UploadComplete":
            job.info["state"] = "JobComplete"
            job.info["systemModstamp"] = now_string()
        return {
            **job.info,
            "jobType": "V2Query",
            "numberRecordsProcessed": len(job.ids) if job.info["state"] == "JobComplete" else 0,
            "retries": 0,
            "totalProcessingTime": 0,
            "isPkChunkingSupported": True,
        }

    def list(self) -> dict[str, Any]:
        """``GET jobs/query``: every job."""
        return {
            "done": True,
            "records": [self.info(job_id) for job_id in self.jobs],
            "nextRecordsUrl": None,
        }

    def abort(self, job_id: str, payload: Any) -> dict[str, Any]:
        """``PATCH jobs/query/{id}`` ``{"state": "Aborted"}``."""
        job = self._job(job_id)
        if not isinstance(payload, dict) or payload.get("state") != "Aborted":
            raise SalesforceError.bad_request(
                "INVALIDJOB", "InvalidJob : a query job can only be set to Aborted"
            )
        if job.info["state"] == "JobComplete":
            raise SalesforceError.bad_request(
                "INVALIDJOB", "InvalidJob : Job is already complete and cannot be aborted"
            )
        job.info["state"] = "Aborted"
        return self.info(job_id)

    def delete(self, job_id: str) -> None:
        """``DELETE jobs/query/{id}``."""
        self._job(job_id)
        del self.jobs[job_id]

    def results(
        self, job_id: str, locator: str | None, max_records: int | None
    ) -> tuple[str, int, str]:
        """One page of CSV results: ``(text, rows, next locator or "null")``."""
        job = self._job(job_id)
        if job.info["state"] != "JobComplete":
            state = "IN_PROGRESS" if job.info["state"] == "UploadComplete" else "ABORTED"
            raise SalesforceError(
                412,
                "JOB_NOT_COMPLETE",
                "can only download query results of successfully completed bulk job with "
                f"status: JOB_COMPLETE. Current status: {state}",
            )
        start = 0 if not locator else _offset(locator)
        if start is None or start > len(job.ids):
            raise SalesforceError.bad_request("INVALID_LOCATOR", f"Invalid locator: {locator}")
        end = len(job.ids) if not max_records else min(len(job.ids), start + max_records)
        text = csv_results(
            job.query,
            job.ids[start:end],
            delimiter=_DELIMITERS[job.info["columnDelimiter"]],
            line_ending=_LINE_ENDINGS[job.info["lineEnding"]],
        )
        next_locator = _locator(end) if end < len(job.ids) else "null"
        return text, end - start, next_locator


def _jobs(request: Request) -> QueryJobs:
    jobs: QueryJobs = request.app.state.sandbox.query_jobs
    return jobs


async def create_job(request: Request) -> tuple[int, Any]:
    """``POST .../jobs/query``."""
    return 200, _jobs(request).create(await read_body(request), request.path_params["version"])


async def list_jobs(request: Request) -> tuple[int, Any]:
    """``GET .../jobs/query``."""
    return 200, _jobs(request).list()


async def get_job(request: Request) -> tuple[int, Any]:
    """``GET .../jobs/query/{job_id}``."""
    return 200, _jobs(request).info(request.path_params["job_id"])


async def abort_job(request: Request) -> tuple[int, Any]:
    """``PATCH .../jobs/query/{job_id}``."""
    return 200, _jobs(request).abort(request.path_params["job_id"], await read_body(request))


async def delete_job(request: Request) -> tuple[int, Any]:
    """``DELETE .../jobs/query/{job_id}``."""
    _jobs(request).delete(request.path_params["job_id"])
    return 204, None


async def job_results(request: Request) -> tuple[int, Any]:
    """``GET .../jobs/query/{job_id}/results?locator=&maxRecords=``: CSV."""
    raw_max = request.query_params.get("maxRecords")
    if raw_max is not None and not (raw_max.isascii() and raw_max.isdigit() and int(raw_max)):
        raise SalesforceError.bad_request("INVALIDJOB", f"Invalid maxRecords: {raw_max}")
    text, rows, locator = _jobs(request).results(
        request.path_params["job_id"],
        request.query_params.get("locator"),
        int(raw_max) if raw_max else None,
    )
    headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(rows)}
    return 200, Response(text, 200, headers=headers, media_type=_CSV)


_JOBS: Final = "/services/data/v{version}/jobs/query"
BULK_ROUTES: Final = (
    ("POST", _JOBS, create_job),
    ("GET", _JOBS, list_jobs),
    ("GET", f"{_JOBS}/{{job_id}}", get_job),
    ("PATCH", f"{_JOBS}/{{job_id}}", abort_job),
    ("DELETE", f"{_JOBS}/{{job_id}}", delete_job),
    ("GET", f"{_JOBS}/{{job_id}}/results", job_results),
)
