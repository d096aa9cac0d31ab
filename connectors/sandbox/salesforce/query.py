"""Running queries: the matching ids are computed once per query and kept behind a query locator,
so ``queryMore`` is a slice, never a scan. Also the replication resources (updated / deleted).

As in Salesforce, a batch holds up to 2,000 rows (``Sforce-Query-Options: batchSize=N``, 200 to
2,000), ``nextRecordsUrl`` is ``/services/data/vXX.X/query/<locator>-<offset>``, a user keeps at
most 10 open locators (opening an 11th releases the oldest, whose next fetch is answered
``INVALID_QUERY_LOCATOR``), and a locator is released once its last batch is fetched.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, Final

from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.fields import format_datetime, parse_datetime
from connectors.sandbox.salesforce.ids import IdFactory
from connectors.sandbox.salesforce.soql import (
    Aggregate,
    Column,
    OrderKey,
    Query,
    Subquery,
    parse_query,
    plain_value,
)
from connectors.sandbox.salesforce.store import ObjectStore, Org

__all__ = [
    "QueryEngine",
    "batch_size_from",
    "deleted_since",
    "matching",
    "render_record",
    "render_rows",
    "sort_items",
    "updated_since",
]

DEFAULT_BATCH: Final = 2000
MIN_BATCH: Final = 200
MAX_OPEN_CURSORS: Final = 10
SortKey = Callable[[Any], Any]  # a sort key of a record id, a row, ...
_ABSENT: Final = object()
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
    query: Query
    ids: list[str]
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
        query = parse_query(text, self.org.stores)
        ids = matching(query, query.store.order, all_rows=all_rows)
        if query.count_only:
            return {"totalSize": len(ids), "done": True, "records": []}
        if query.is_aggregate:
            # Aggregate queries are answered in one batch: they have no queryMore.
            rows = aggregate_rows(query, ids)
            return {"totalSize": len(rows), "done": True, "records": rows}
        cursor = _Cursor(query, ids, all_rows)
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

    def rows(
        self, query: Query, ids: list[str], version: str, *, all_rows: bool
    ) -> list[dict[str, Any]]:
        """The query's rows for these ids of its object: fields, parents' fields, children."""
        fields = query.fields
        if fields:
            return render_rows(query.store, ids, fields, version)
        records = query.store.records
        return [
            self._row(records[i], query.columns, query.store.name, version, all_rows=all_rows)
            for i in ids
        ]

    def _row(
        self,
        record: dict[str, Any],
        columns: list[Column | Subquery],
        object_name: str,
        version: str,
        *,
        all_rows: bool,
    ) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/"
        row: dict[str, Any] = {
            "attributes": {"type": object_name, "url": f"{base}{object_name}/{record['Id']}"}
        }
        for column in columns:
            if isinstance(column, Subquery):
                row[column.relationship.name] = self._children(
                    column, record["Id"], version, all_rows=all_rows
                )
            elif not column.path:
                row[column.spec.name] = column.value(record)
            else:
                _put_path(row, record, column, base)
        return row

    def _children(
        self, subquery: Subquery, parent_id: str, version: str, *, all_rows: bool
    ) -> dict[str, Any] | None:
        relationship, query = subquery.relationship, subquery.query
        candidates = self.org.children_of(relationship.child, relationship.field, parent_id)
        ids = matching(query, candidates, all_rows=all_rows) if candidates else []
        if not ids:
            return None
        rows = self.rows(query, ids, version, all_rows=all_rows)
        return {"totalSize": len(rows), "done": True, "records": rows}

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
        body["records"] = self.rows(cursor.query, ids[start:end], version, all_rows=cursor.all_rows)
        return body

    def _open(self, cursor: _Cursor) -> str:
        cursor_id = self._locators.next()
        self._cursors[cursor_id] = cursor
        while len(self._cursors) > MAX_OPEN_CURSORS:
            self._cursors.popitem(last=False)
        return cursor_id


def _put_path(row: dict[str, Any], record: dict[str, Any], column: Column, base: str) -> None:
    """A parent's field into the row, nested under each relationship of its path (a null
    relationship renders as null)."""
    target, current = row, record
    for step in column.path:
        node = target.get(step.relationship, _ABSENT)
        if node is None:
            return
        parent_id = current[step.field]
        parent = step.store.records.get(parent_id) if parent_id else None
        if parent is None:
            target[step.relationship] = None
            return
        if node is _ABSENT:
            url = f"{base}{step.store.name}/{parent_id}"
            node = {"attributes": {"type": step.store.name, "url": url}}
            target[step.relationship] = node
        target, current = node, parent
    target[column.spec.name] = column.value(current)


def _by_id(records: dict[str, Any], key: OrderKey) -> SortKey:
    if key.name is not None:  # a stored field of the record itself: one lookup, no call
        name = key.name
        return lambda record_id: records[record_id][name]
    get = key.get
    return lambda record_id: get(records[record_id])


def _nth(part: int, position: int) -> SortKey:
    return lambda row: row[part][position]


def _lowered(key: SortKey) -> SortKey:
    return lambda item: key(item).lower()


def sort_items(items: list[Any], keys: list[tuple[SortKey, bool, bool, bool]]) -> list[Any]:
    """``items`` ordered by ``(key, text, descending, nulls_first)`` keys, first key first
    (sorting by the later keys first, as the sort is stable)."""
    # No tuples per item: allocating 100,000 of them sets off the cyclic GC over the whole org.
    for key, text, descending, nulls_first in reversed(keys):
        present = [item for item in items if key(item) is not None]
        absent = [item for item in items if key(item) is None]
        if text:
            present.sort(key=_lowered(key), reverse=descending)
        else:
            present.sort(key=key, reverse=descending)
        items = absent + present if nulls_first else present + absent
    return items


def matching(query: Query, candidates: list[str], *, all_rows: bool) -> list[str]:
    """The ids among ``candidates`` the query selects, in its order, cut to its LIMIT and
    OFFSET (an aggregate query's groups are ordered and cut later)."""
    records = query.store.records
    if query.id_candidates is not None:
        ids: list[str] = sorted(i for i in query.id_candidates if i in records)
        if candidates is not query.store.order:
            allowed = set(candidates)
            ids = [i for i in ids if i in allowed]
    else:
        ids = candidates
    where = query.where
    if where is None:
        matched = ids if all_rows else [i for i in ids if not records[i]["IsDeleted"]]
    elif all_rows:
        matched = [i for i in ids if where(records[i])]
    else:
        matched = [i for i in ids if not (r := records[i])["IsDeleted"] and where(r)]
    if query.is_aggregate:
        return matched
    if query.order:
        matched = sort_items(
            matched,
            [
                (_by_id(records, key), key.text, key.descending, key.nulls_first)
                for key in query.order
            ],
        )
    if query.offset or query.limit is not None:
        end = None if query.limit is None else query.offset + query.limit
        matched = matched[query.offset : end]
    elif matched is candidates:
        matched = list(matched)
    return matched


def _aggregate(aggregate: Aggregate, members: list[dict[str, Any]]) -> Any:
    if aggregate.column is None:
        return len(members)
    get = aggregate.column.get
    values = [v for v in map(get, members) if v is not None]
    function = aggregate.function
    if function == "COUNT":
        return len(values)
    if function == "COUNT_DISTINCT":
        return len({v.lower() if isinstance(v, str) else v for v in values})
    if not values:
        return None
    if function == "SUM":
        return float(sum(values))
    if function == "AVG":
        return sum(values) / len(values)
    return min(values) if function == "MIN" else max(values)


def aggregate_rows(query: Query, ids: list[str]) -> list[dict[str, Any]]:
    """An aggregate query's AggregateResult rows: one per group (one in all without GROUP BY)."""
    records = query.store.records
    getters = [column.get for column in query.group_by]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record_id in ids:
        record = records[record_id]
        groups.setdefault(tuple(get(record) for get in getters), []).append(record)
    if not getters and not groups:
        groups[()] = []
    results = [
        (key, [_aggregate(a, members) for a in query.aggregates]) for key, members in groups.items()
    ]
    if query.having is not None:
        having = query.having
        results = [row for row in results if having(row)]  # type: ignore[arg-type]
    if query.order:
        keys: list[tuple[SortKey, bool, bool, bool]] = []
        for order in query.order:
            # A group row is (group values, aggregate values): order by one of either.
            if order.aggregate is not None:
                get = _nth(1, order.aggregate)
            else:
                positions = [n for n, c in enumerate(query.group_by) if c.dotted == order.path]
                if not positions:
                    raise SalesforceError.bad_request(
                        "MALFORMED_QUERY", "Ordered field must be grouped or aggregated"
                    )
                get = _nth(0, positions[0])
            keys.append((get, order.text, order.descending, order.nulls_first))
        results = sort_items(results, keys)
    if query.offset or query.limit is not None:
        end = None if query.limit is None else query.offset + query.limit
        results = results[query.offset : end]
    rows = []
    for key, values in results:
        row: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for column, value in zip(query.group_by, key, strict=True):
            row[column.spec.name] = value
        for aggregate, value in zip(query.aggregates, values, strict=True):
            if aggregate.key:  # ORDER BY's own aggregates are not rendered
                row[aggregate.key] = value
        rows.append(row)
    return rows


def render_rows(
    store: ObjectStore, ids: list[str], fields: list[str], version: str
) -> list[dict[str, Any]]:
    """Records as query rows: ``attributes`` first, then the selected fields in order."""
    records = store.records
    object_name = store.name
    url = f"/services/data/v{version}/sobjects/{object_name}/"
    keys = ("attributes", *fields)
    specs = store.schema.fields
    if any(specs[name].type == "address" for name in fields):
        compound = [(name, plain_value(specs[name])) for name in fields]
        return [
            {
                "attributes": {"type": object_name, "url": url + i},
                **{name: value(records[i]) for name, value in compound},
            }
            for i in ids
        ]
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
    # History rows are only ever created: their creation is their last change.
    stamp = "SystemModstamp" if store.stamped else "CreatedDate"
    ids = [i for i in store.order if not (r := records[i])["IsDeleted"] and low <= r[stamp] < high]
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
