"""Running queries: the matching ids are computed once per query and kept behind a query locator,
so ``queryMore`` is a slice, never a scan. Also the replication resources (updated / deleted).

As in Salesforce, a batch holds up to 2,000 rows (``Sforce-Query-Options: batchSize=N``, 200 to
2,000), ``nextRecordsUrl`` is ``/services/data/vXX.X/query/<locator>-<offset>``, a user keeps at
most 10 open locators (opening an 11th releases the oldest, whose next fetch is answered
``INVALID_QUERY_LOCATOR``), and a locator is released once its last batch is fetched.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, Final

from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.fields import format_datetime, parse_datetime
from connectors.sandbox.salesforce.ids import IdFactory
from connectors.sandbox.salesforce.soql import Query, parse_query
from connectors.sandbox.salesforce.store import ObjectStore, Org

__all__ = ["QueryEngine", "batch_size_from", "deleted_since", "updated_since"]

DEFAULT_BATCH: Final = 2000
MIN_BATCH: Final = 200
MAX_OPEN_CURSORS: Final = 10
UPDATED_WINDOW_DAYS: Final = 30
DELETED_WINDOW_DAYS: Final = 15


def batch_size_from(header: str | None) -> int | None:
    """The ``batchSize`` of a ``Sforce-Query-Options`` header, clamped to 200..2000."""
    if not header:
        return None
    for option in header.split(","):
        key, _, value = option.partition("=")
        if key.strip().lower() == "batchsize":
            try:
                size = int(value.strip())
            except ValueError:
                return None
            return max(MIN_BATCH, min(DEFAULT_BATCH, size))
    return None


@dataclass
class _Cursor:
    store: ObjectStore
    ids: list[str]
    fields: list[str]
    all_rows: bool


class QueryEngine:
    """Runs SOQL against an org and keeps the open query locators."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._locators = IdFactory("01g")

    def reset(self) -> None:
        """Release every query locator."""
        self._cursors.clear()
        self._locators.reset()

    def run(
        self, text: str, *, all_rows: bool, batch_size: int | None, version: str
    ) -> dict[str, Any]:
        """``GET query/?q=`` (or ``queryAll/``): the first batch, and a locator if there is more."""
        query = parse_query(text, self.org.schema)
        store = self.org.stores[query.object_name]
        ids = self._matching(query, store, all_rows=all_rows)
        if query.count_only:
            return {"totalSize": len(ids), "done": True, "records": []}
        cursor = _Cursor(store, ids, query.fields, all_rows)
        return self._batch(cursor, None, 0, batch_size or DEFAULT_BATCH, version)

    def more(
        self, locator: str, *, all_rows: bool, batch_size: int | None, version: str
    ) -> dict[str, Any]:
        """``GET query/<locator>-<offset>``: the batch starting at that offset."""
        cursor_id, _, raw_offset = locator.rpartition("-")
        cursor = self._cursors.get(cursor_id)
        if (
            cursor is None
            or not (raw_offset.isascii() and raw_offset.isdigit())
            or int(raw_offset) > len(cursor.ids)
        ):
            raise SalesforceError.bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
        self._cursors.move_to_end(cursor_id)
        return self._batch(cursor, cursor_id, int(raw_offset), batch_size or DEFAULT_BATCH, version)

    def _matching(self, query: Query, store: ObjectStore, *, all_rows: bool) -> list[str]:
        records = store.records
        if query.id_candidates is not None:
            ids: list[str] = sorted(i for i in query.id_candidates if i in records)
        else:
            ids = store.order
        where = query.where
        if where is None:
            matched = ids if all_rows else [i for i in ids if not records[i]["IsDeleted"]]
        elif all_rows:
            matched = [i for i in ids if where(records[i])]
        else:
            matched = [i for i in ids if not (r := records[i])["IsDeleted"] and where(r)]
        for key in reversed(query.order):
            name = key.field.name
            present = [i for i in matched if records[i][name] is not None]
            absent = [i for i in matched if records[i][name] is None]
            if key.field.is_text:
                present.sort(key=lambda i: records[i][name].lower(), reverse=key.descending)
            else:
                present.sort(key=lambda i: records[i][name], reverse=key.descending)
            matched = absent + present if key.nulls_first else present + absent
        if query.offset or query.limit is not None:
            end = None if query.limit is None else query.offset + query.limit
            matched = matched[query.offset : end]
        elif matched is store.order:
            matched = list(matched)
        return matched

    def _batch(
        self, cursor: _Cursor, cursor_id: str | None, start: int, size: int, version: str
    ) -> dict[str, Any]:
        end = start + size
        ids = cursor.ids
        body: dict[str, Any] = {"totalSize": len(ids), "done": end >= len(ids)}
        if end < len(ids):
            if cursor_id is None:
                cursor_id = self._open(cursor)
            endpoint = "queryAll" if cursor.all_rows else "query"
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor_id}-{end}"
        elif cursor_id is not None:
            self._cursors.pop(cursor_id, None)
        body["records"] = render_rows(cursor.store, ids[start:end], cursor.fields, version)
        return body

    def _open(self, cursor: _Cursor) -> str:
        cursor_id = self._locators.next()
        self._cursors[cursor_id] = cursor
        while len(self._cursors) > MAX_OPEN_CURSORS:
            self._cursors.popitem(last=False)
        return cursor_id


def render_rows(
    store: ObjectStore, ids: list[str], fields: list[str], version: str
) -> list[dict[str, Any]]:
    """Records as query rows: ``attributes`` first, then the selected fields in order."""
    records = store.records
    object_name = store.name
    url = f"/services/data/v{version}/sobjects/{object_name}/"
    keys = ("attributes", *fields)
    if not fields:
        return [{"attributes": {"type": object_name, "url": url + i}} for i in ids]
    if len(fields) == 1:
        only = fields[0]
        return [
            {"attributes": {"type": object_name, "url": url + i}, only: records[i][only]}
            for i in ids
        ]
    values = itemgetter(*fields)
    return [
        dict(zip(keys, ({"type": object_name, "url": url + i}, *values(records[i])), strict=True))
        for i in ids
    ]


def render_record(
    store: ObjectStore, record: dict[str, Any], version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """One record as ``GET sobjects/<object>/<id>`` returns it (every field unless ``fields``)."""
    names = fields if fields is not None else list(store.schema.fields)
    return render_rows(store, [record["Id"]], names, version)[0]


def _window(
    start_raw: str | None, end_raw: str | None, *, days: int, now: datetime
) -> tuple[str, str, str]:
    def moment(raw: str | None, name: str) -> datetime:
        # An unencoded "+" in a query string arrives as a space.
        parsed = parse_datetime((raw or "").replace(" ", "+"))
        if parsed is None:
            raise SalesforceError.bad_request(
                "INVALID_REPLICATION_DATE", f"{name} must be a valid dateTime, was {raw!r}"
            )
        return parsed.replace(second=0, microsecond=0)

    start, end = moment(start_raw, "start"), moment(end_raw, "end")
    if end < start:
        raise SalesforceError.bad_request("INVALID_REPLICATION_DATE", "EndDate before StartDate")
    if start < now - timedelta(days=days):
        raise SalesforceError.bad_request(
            "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago"
        )
    covered = min(end, now.replace(second=0, microsecond=0))
    return format_datetime(start), format_datetime(covered), format_datetime(covered)


def updated_since(store: ObjectStore, start: str | None, end: str | None) -> dict[str, Any]:
    """``sobjects/<object>/updated/?start=&end=``: live records saved in the window."""
    low, high, covered = _window(start, end, days=UPDATED_WINDOW_DAYS, now=datetime.now(UTC))
    records = store.records
    ids = [
        i
        for i in store.order
        if not (r := records[i])["IsDeleted"] and low <= r["SystemModstamp"] < high
    ]
    return {"ids": ids, "latestDateCovered": covered}


def deleted_since(
    store: ObjectStore, start: str | None, end: str | None, *, earliest: datetime
) -> dict[str, Any]:
    """``sobjects/<object>/deleted/?start=&end=``: records deleted in the window."""
    low, high, covered = _window(start, end, days=DELETED_WINDOW_DAYS, now=datetime.now(UTC))
    return {
        "deletedRecords": [
            {"id": record_id, "deletedDate": when}
            for when, record_id in store.deletions
            if low <= when < high and store.records[record_id]["IsDeleted"]
        ],
        "earliestDateAvailable": format_datetime(earliest.replace(second=0, microsecond=0)),
        "latestDateCovered": covered,
    }
