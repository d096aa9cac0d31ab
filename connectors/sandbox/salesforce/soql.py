"""The SOQL the sandbox understands, parsed once and compiled into Python getters and predicates.

    SELECT item[, ...] FROM object
    [WHERE condition] [GROUP BY field[, ...] [HAVING condition]]
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST][, ...]] [LIMIT n] [OFFSET n]

An item is a field, a relationship path to a parent's field (``Account.Name``,
``Account.Owner.Email``), ``FIELDS(STANDARD|CUSTOM|ALL)``, a child subquery
(``(SELECT Id FROM Contacts WHERE … ORDER BY … LIMIT n)``), ``COUNT()``, or an aggregate
(``COUNT``, ``COUNT_DISTINCT``, ``SUM``, ``AVG``, ``MIN``, ``MAX`` of a field, optionally
aliased). A condition compares a field or path (``=  !=  <>  <  <=  >  >=``, ``[NOT] IN (...)``,
``LIKE``) with a literal: a quoted string or id, a number, ``TRUE``/``FALSE``, ``NULL``, a date
``2026-11-23``, a datetime ``2026-11-23T10:00:00Z``, or a date literal (``TODAY``,
``LAST_N_DAYS:30``, ``THIS_YEAR``, …, in UTC, the org's time zone); conditions combine with
``AND``, ``OR``, ``NOT`` and parentheses; an id may also be matched against a semi-join
(``Id [NOT] IN (SELECT AccountId FROM Contact WHERE …)``). As in SOQL, ``AND`` and ``OR``
cannot be mixed without parentheses, text compares case-insensitively, a literal must have its
field's type, ``!=`` matches nulls, and ``FIELDS(ALL)``/``FIELDS(CUSTOM)`` need a ``LIMIT`` of at
most 200. Anything else is a ``MALFORMED_QUERY``; an unknown field is ``INVALID_FIELD``, an
unknown object ``INVALID_TYPE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

from connectors.sandbox.salesforce.errors import SalesforceError, pointer_message
from connectors.sandbox.salesforce.fields import (
    NUMBER_TYPES,
    FieldSpec,
    format_datetime,
    parse_datetime,
)
from connectors.sandbox.salesforce.ids import to_18
from connectors.sandbox.salesforce.schema import ChildRelationship, ObjectSchema

if TYPE_CHECKING:
    from connectors.sandbox.salesforce.store import ObjectStore

__all__ = [
    "Aggregate",
    "Column",
    "Getter",
    "OrderKey",
    "Query",
    "Step",
    "Subquery",
    "address_value",
    "parse_query",
    "plain_value",
]

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
Getter = Callable[[Record], Any]

_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
    |(?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    """,
    re.VERBOSE,
)
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"',
                   "\\": "\\", "%": "\\%", "_": "\\_"}  # fmt: skip
_CLAUSES: Final = ("WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET")
_UNSUPPORTED: Final = frozenset(
    {"WITH", "FOR", "USING", "TYPEOF", "INCLUDES", "EXCLUDES", "ROLLUP", "CUBE"}
)
_AGGREGATES: Final = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})
_MAX_OFFSET: Final = 2000
_MAX_FIELDS_LIMIT: Final = 200
_ADDRESS_PARTS: Final = (
    ("city", "City"),
    ("country", "Country"),
    ("geocodeAccuracy", "GeocodeAccuracy"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
    ("postalCode", "PostalCode"),
    ("state", "State"),
    ("street", "Street"),
)


@dataclass(frozen=True)
class _Token:
    kind: str  # datetime, date, number, string, name, op, punct, end
    text: str
    position: int

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


@dataclass(frozen=True)
class Step:
    """One hop of a relationship path: from a record's reference field to its parent."""

    relationship: str  # how the parent renders in a row (``Account``, ``Owner``)
    field: str  # the reference field holding the parent's id (``AccountId``)
    store: ObjectStore  # the parent's object


@dataclass(frozen=True)
class Column:
    """A field selected, filtered or sorted on: of the queried object or of a parent."""

    path: tuple[Step, ...]
    spec: FieldSpec
    value: Getter  # the field's value on the record that holds it (the last parent)
    get: Getter  # the value for a record of the queried object (None past a null parent)

    @property
    def dotted(self) -> str:
        """The field as a dotted path from the queried object (``Account.Owner.Email``)."""
        return ".".join([*(step.relationship for step in self.path), self.spec.name])

    @property
    def plain(self) -> bool:
        """A stored field of the queried object itself (rendered with the fast path)."""
        return not self.path and self.spec.type != "address"


@dataclass
class Subquery:
    """A child subquery: each row's children through a child relationship."""

    relationship: ChildRelationship
    query: Query


@dataclass(frozen=True)
class Aggregate:
    """An aggregate function of an aggregate query, and the key its value renders under."""

    function: str  # COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX
    column: Column | None  # None: COUNT() of rows
    key: str


@dataclass(frozen=True)
class OrderKey:
    """One ``ORDER BY`` item."""

    get: Getter
    text: bool  # compared case-insensitively
    descending: bool
    nulls_first: bool
    aggregate: int | None = None  # an aggregate query's order: the position of its aggregate
    path: str = ""  # the field as a dotted path (``Account.Industry``)
    name: str | None = None  # a stored field of the queried object itself: its name


@dataclass
class Query:
    """A parsed query: what to select from which object, and how to filter, group, order and
    cut."""

    store: ObjectStore
    columns: list[Column | Subquery]
    count_only: bool = False
    aggregates: list[Aggregate] = field(default_factory=list)
    group_by: list[Column] = field(default_factory=list)
    where: Predicate | None = None
    id_candidates: frozenset[str] | None = None  # the WHERE can only match these ids
    order: list[OrderKey] = field(default_factory=list)
    having: Predicate | None = None  # on group rows (group values, aggregate values)
    limit: int | None = None
    offset: int = 0
    via: ChildRelationship | None = None  # a subquery's relationship from its parent

    @property
    def object_name(self) -> str:
        """The queried object's API name."""
        return self.store.name

    @property
    def is_aggregate(self) -> bool:
        """Whether rows are AggregateResults (aggregate functions or GROUP BY)."""
        return bool(self.aggregates or self.group_by)

    @property
    def fields(self) -> list[str]:
        """The selected fields' names, when every item is a plain field (else empty)."""
        if all(isinstance(c, Column) and c.plain for c in self.columns):
            return [c.spec.name for c in self.columns if isinstance(c, Column)]
        return []


@dataclass(frozen=True)
class _DateRange:
    """A date literal: the instants (or days) from ``start`` up to, not including, ``end``."""

    start: str
    end: str


def address_value(prefix: str) -> Getter:
    """The compound address of ``<prefix>Street``, ``<prefix>City``, …: null when all are."""
    parts = [(key, prefix + suffix) for key, suffix in _ADDRESS_PARTS]

    def value(record: Record) -> Any:
        address = {key: record[name] for key, name in parts}
        return address if any(v is not None for v in address.values()) else None

    return value


def plain_value(spec: FieldSpec) -> Getter:
    """How a record of the field's own object holds its value (an address is assembled)."""
    if spec.type == "address":
        return address_value(spec.name.removesuffix("Address"))
    return itemgetter(spec.name)


def _through(path: tuple[Step, ...], value: Getter) -> Getter:
    if not path:
        return value

    def get(record: Record) -> Any:
        for step in path:
            parent_id = record[step.field]
            parent = step.store.records.get(parent_id) if parent_id else None
            if parent is None:
                return None
            record = parent
        return value(record)

    return get


def _part(part: int, position: int) -> Getter:
    def get(row: Any) -> Any:  # a group row: (group values, aggregate values)
        return row[part][position]

    return get


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SalesforceError.bad_request(
                "MALFORMED_QUERY",
                pointer_message(
                    text,
                    position,
                    f"line 1:{position} no viable alternative at character '{text[position]}'",
                ),
            )
        kind = match.lastgroup or "ws"
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "<EOF>", len(text)))
    return tokens


def _unquote(text: str) -> str:
    body, out, index = text[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(_ESCAPES.get(body[index + 1], body[index + 1]))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _like_pattern(pattern: str) -> re.Pattern[str]:
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def date_literal(name: str, today: date) -> tuple[date, date] | None:
    """The days ``[start, end)`` a SOQL date literal covers (``LAST_N_DAYS:7``), or None.

    Weeks start on Sunday and the fiscal year is the calendar year, a new org's defaults.
    """
    word, _, raw_n = name.upper().partition(":")
    n = int(raw_n) if raw_n.isdigit() else None
    day = timedelta(days=1)
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year = date(today.year, 1, 1)
    fixed: dict[str, tuple[date, date]] = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "THIS_WEEK": (week, week + 7 * day),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "LAST_MONTH": (_add_months(month, -1), month),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "LAST_QUARTER": (_add_months(quarter, -3), quarter),
        "THIS_QUARTER": (quarter, _add_months(quarter, 3)),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "LAST_YEAR": (year.replace(year=year.year - 1), year),
        "THIS_YEAR": (year, year.replace(year=year.year + 1)),
        "NEXT_YEAR": (year.replace(year=year.year + 1), year.replace(year=year.year + 2)),
    }
    for scope in ("QUARTER", "YEAR"):
        for when in ("LAST", "THIS", "NEXT"):
            fixed[f"{when}_FISCAL_{scope}"] = fixed[f"{when}_{scope}"]
    if n is None:
        return fixed.get(word) if not raw_n else None
    # The LAST_N_* literals include the current day (or week, month, ...); NEXT_N_* start after.
    ranges: dict[str, tuple[date, date]] = {
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week - 7 * n * day, week),
        "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (n + 1) * day),
        "N_WEEKS_AGO": (week - 7 * n * day, week - 7 * (n - 1) * day),
        "LAST_N_MONTHS": (_add_months(month, -n), month),
        "NEXT_N_MONTHS": (_add_months(month, 1), _add_months(month, n + 1)),
        "N_MONTHS_AGO": (_add_months(month, -n), _add_months(month, 1 - n)),
        "LAST_N_QUARTERS": (_add_months(quarter, -3 * n), quarter),
        "NEXT_N_QUARTERS": (_add_months(quarter, 3), _add_months(quarter, 3 * (n + 1))),
        "LAST_N_YEARS": (year.replace(year=year.year - n), year),
        "NEXT_N_YEARS": (year.replace(year=year.year + 1), year.replace(year=year.year + n + 1)),
        "N_YEARS_AGO": (year.replace(year=year.year - n), year.replace(year=year.year - n + 1)),
    }
    for scope in ("QUARTERS", "YEARS"):
        for when in ("LAST_N", "NEXT_N"):
            ranges[f"{when}_FISCAL_{scope}"] = ranges[f"{when}_{scope}"]
    return ranges.get(word)


class _Parser:
    def __init__(self, text: str, stores: dict[str, ObjectStore], today: date) -> None:
        self.text = text
        self.stores = {name.lower(): store for name, store in stores.items()}
        self.tokens = _tokens(text)
        self.index = 0
        self.today = today
        # While a HAVING clause is read: its aggregate query (terms are then group rows').
        self.having: Query | None = None

    # -- token helpers -------------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def malformed(self, token: _Token, detail: str | None = None) -> SalesforceError:
        if detail is None:
            detail = f"unexpected token: {token.text}"
            if token.keyword in _UNSUPPORTED:
                detail += " (not in the sandbox's SOQL subset)"
        return SalesforceError.bad_request(
            "MALFORMED_QUERY", pointer_message(self.text, token.position, detail)
        )

    def invalid_field(self, token: _Token, detail: str) -> SalesforceError:
        return SalesforceError.bad_request(
            "INVALID_FIELD", pointer_message(self.text, token.position, detail)
        )

    def expect_keyword(self, *words: str) -> _Token:
        token = self.token
        if token.keyword not in words:
            raise self.malformed(token)
        return self.advance()

    def accept_keyword(self, *words: str) -> bool:
        if self.token.keyword in words:
            self.advance()
            return True
        return False

    def expect_punct(self, char: str) -> None:
        if self.token.text != char:
            raise self.malformed(self.token)
        self.advance()

    # -- fields ----------------------------------------------------------------------------------

    def column(self, token: _Token, schema: ObjectSchema) -> Column:
        """A field of ``schema`` or, through relationships, of a parent."""
        parts = token.text.split(".")
        own_name = len(parts) > 1 and parts[0].lower() == schema.name.lower()
        if own_name and schema.relationship(parts[0]) is None:
            parts = parts[1:]  # the object's own name as a prefix: Account.Name
        path: list[Step] = []
        current = schema
        for part in parts[:-1]:
            reference = current.relationship(part)
            target = self.stores.get(reference.reference_to[0].lower()) if reference else None
            if reference is None or target is None or reference.relationship_name is None:
                raise self.invalid_field(
                    token,
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            path.append(Step(reference.relationship_name, reference.name, target))
            current = target.schema
        spec = current.resolve(parts[-1])
        if spec is None:
            raise self.invalid_field(
                token,
                f"No such column '{parts[-1]}' on entity '{current.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the "
                "custom field name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        value = plain_value(spec)
        steps = tuple(path)
        return Column(steps, spec, value, _through(steps, value))

    # -- query -----------------------------------------------------------------------------------

    def parse(self) -> Query:
        query = self.select(parent=None)
        if self.token.kind != "end":
            raise self.malformed(self.token)
        return query

    def select(self, parent: ObjectSchema | None) -> Query:
        """``SELECT … FROM …`` and its clauses; ``parent``: the object of a child subquery."""
        self.expect_keyword("SELECT")
        items_start = self.index
        self.skip_items()
        self.expect_keyword("FROM")
        object_token = self.token
        if object_token.kind != "name":
            raise self.malformed(object_token)
        self.advance()
        store, via = self.from_object(object_token, parent)
        after_from = self.index
        self.index = items_start
        query = Query(store, [], via=via)
        fields_functions = self.items(query)
        self.index = after_from
        if self.accept_keyword("WHERE"):
            query.where, query.id_candidates = self.condition(store.schema)
        if self.token.keyword == "GROUP":
            self.advance()
            self.expect_keyword("BY")
            query.group_by = self.group_by(store.schema)
        self.check_grouping(query)
        if self.token.keyword == "HAVING" and query.is_aggregate:
            self.advance()
            self.having = query
            try:
                query.having, _ = self.condition(store.schema)
            finally:
                self.having = None
        if self.token.keyword == "ORDER":
            self.advance()
            self.expect_keyword("BY")
            query.order = self.order_by(query)
        if self.accept_keyword("LIMIT"):
            query.limit = self.integer()
        if self.token.keyword == "OFFSET":
            offset_token = self.advance()
            query.offset = self.integer()
            if query.offset > _MAX_OFFSET:
                raise SalesforceError.bad_request(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    pointer_message(
                        self.text,
                        offset_token.position,
                        f"Maximum SOQL offset allowed is {_MAX_OFFSET}",
                    ),
                )
        for token in fields_functions:
            if query.limit is None or query.limit > _MAX_FIELDS_LIMIT:
                raise self.malformed(
                    token,
                    f"The SOQL FIELDS function must have a LIMIT of at most {_MAX_FIELDS_LIMIT}",
                )
        return query

    def skip_items(self) -> None:
        """Move past the select list to its ``FROM`` (the list is read once the object is
        known)."""
        depth = 0
        while True:
            token = self.token
            if token.kind == "end":
                raise self.malformed(token)
            if depth == 0 and token.keyword == "FROM":
                return
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth < 0:
                    raise self.malformed(token)
            self.advance()

    def from_object(
        self, token: _Token, parent: ObjectSchema | None
    ) -> tuple[ObjectStore, ChildRelationship | None]:
        """The queried object (for a subquery: the child relationship's, and that)."""
        if parent is not None:
            child = parent.child(token.text)
            if child is None:
                raise SalesforceError.bad_request(
                    "INVALID_TYPE",
                    pointer_message(
                        self.text,
                        token.position,
                        f"Didn't understand relationship '{token.text}' in FROM part of query "
                        "call. If you are attempting to use a custom relationship, be sure to "
                        "append the '__r' after the custom relationship name. Please reference "
                        "your WSDL or the describe call for the appropriate names.",
                    ),
                )
            return self.stores[child.child.lower()], child
        store = self.stores.get(token.text.lower())
        if store is None:
            raise SalesforceError.bad_request(
                "INVALID_TYPE",
                pointer_message(
                    self.text,
                    token.position,
                    f"sObject type '{token.text}' is not supported. If you are attempting to "
                    "use a custom object, be sure to append the '__c' after the entity name. "
                    "Please reference your WSDL or the describe call for the appropriate names.",
                ),
            )
        return store, None

    def items(self, query: Query) -> list[_Token]:
        """The select list, into ``query``; the ``FIELDS(ALL|CUSTOM)`` tokens that need a
        LIMIT."""
        schema = query.store.schema
        seen: set[str] = set()
        needs_limit: list[_Token] = []
        expressions = 0
        while True:
            token = self.token
            if token.text == "(":
                query.columns.append(self.subquery(schema))
            elif token.kind != "name" or token.keyword in ("FROM", *_CLAUSES):
                raise self.malformed(token)
            elif self.peek().text == "(" and token.keyword == "FIELDS":
                self.advance()
                self.advance()
                scope = self.expect_keyword("STANDARD", "CUSTOM", "ALL").keyword
                self.expect_punct(")")
                if scope != "STANDARD":
                    needs_limit.append(token)
                # Fields also named on their own are selected once.
                for spec in schema.fields.values():
                    if spec.name.lower() not in seen and (
                        scope == "ALL" or spec.custom == (scope == "CUSTOM")
                    ):
                        seen.add(spec.name.lower())
                        query.columns.append(self.column(_Token("name", spec.name, 0), schema))
            elif self.peek().text == "(":
                if token.keyword not in _AGGREGATES:
                    raise self.malformed(token)
                self.advance()
                self.advance()
                if token.keyword == "COUNT" and self.token.text == ")":
                    self.advance()
                    if query.columns or query.aggregates or self.token.text == ",":
                        raise self.malformed(token, "COUNT() must be the only element")
                    query.count_only = True
                else:
                    argument = self.advance()
                    if argument.kind != "name":
                        raise self.malformed(argument)
                    column = self.column(argument, schema)
                    self.expect_punct(")")
                    self.check_aggregable(token.keyword, argument, column)
                    key = self.alias()
                    if key is None:
                        key, expressions = f"expr{expressions}", expressions + 1
                    query.aggregates.append(Aggregate(token.keyword, column, key))
            else:
                self.advance()
                column = self.column(token, schema)
                name = column.dotted
                if name.lower() in seen:
                    raise self.malformed(token, f"duplicate field selected: {name}")
                seen.add(name.lower())
                query.columns.append(column)
            if self.token.text != ",":
                return needs_limit
            self.advance()

    def alias(self) -> str | None:
        token = self.token
        if (
            token.kind == "name"
            and token.keyword not in ("FROM", *_CLAUSES)
            and "." not in token.text
        ):
            self.advance()
            return token.text
        return None

    def check_aggregable(self, function: str, token: _Token, column: Column) -> None:
        spec = column.spec
        numeric = spec.type in NUMBER_TYPES
        if function in ("SUM", "AVG") and not numeric:
            raise self.malformed(
                token, f"field {spec.name} does not support aggregate operator {function}"
            )
        if not spec.describe()["aggregatable"] and spec.type != "id":
            raise self.malformed(
                token, f"field {spec.name} does not support aggregate operator {function}"
            )

    def subquery(self, parent: ObjectSchema) -> Subquery:
        start = self.token
        self.expect_punct("(")
        query = self.select(parent)
        self.expect_punct(")")
        if query.is_aggregate or query.count_only or query.via is None:
            raise self.malformed(start, "aggregate functions are not allowed in subqueries")
        return Subquery(query.via, query)

    def group_by(self, schema: ObjectSchema) -> list[Column]:
        columns = []
        while True:
            token = self.token
            if token.kind != "name":
                raise self.malformed(token)
            self.advance()
            column = self.column(token, schema)
            if not column.spec.groupable:
                raise self.malformed(
                    token, f"field '{column.spec.name}' can not be grouped in a query call"
                )
            columns.append(column)
            if self.token.text != ",":
                return columns
            self.advance()

    def check_grouping(self, query: Query) -> None:
        if not query.is_aggregate:
            return
        grouped = {c.dotted for c in query.group_by}
        for item in query.columns:
            if isinstance(item, Subquery) or item.dotted not in grouped:
                name = "subquery" if isinstance(item, Subquery) else item.spec.name
                raise self.malformed(self.token, f"Field must be grouped or aggregated: {name}")

    def integer(self) -> int:
        token = self.token
        if token.kind != "number" or not (token.text.isascii() and token.text.isdigit()):
            raise self.malformed(token)
        self.advance()
        return int(token.text)

    def order_by(self, query: Query) -> list[OrderKey]:
        keys = []
        schema = query.store.schema
        while True:
            token = self.token
            if token.kind != "name":
                raise self.malformed(token)
            self.advance()
            aggregate: int | None = None
            if self.token.text == "(" and query.is_aggregate and token.keyword in _AGGREGATES:
                self.advance()
                argument = self.advance()
                self.expect_punct(")")
                column = self.column(argument, schema)
                aggregate = len(query.aggregates)
                query.aggregates.append(Aggregate(token.keyword, column, ""))  # not rendered
                get: Getter = itemgetter(aggregate)
                text, dotted, name = False, "", None
            else:
                column = self.column(token, schema)
                spec = column.spec
                if not spec.sortable:
                    raise self.malformed(
                        token, f"field '{spec.name}' can not be sorted in a query call"
                    )
                get, text, dotted = column.get, spec.is_text, column.dotted
                name = spec.name if column.plain else None
            descending = False
            if self.token.keyword in ("ASC", "DESC"):
                descending = self.advance().keyword == "DESC"
            nulls_first = not descending
            if self.accept_keyword("NULLS"):
                nulls_first = self.expect_keyword("FIRST", "LAST").keyword == "FIRST"
            keys.append(OrderKey(get, text, descending, nulls_first, aggregate, dotted, name))
            if self.token.text != ",":
                return keys
            self.advance()

    # -- conditions ------------------------------------------------------------------------------

    def condition(self, schema: ObjectSchema) -> tuple[Predicate, frozenset[str] | None]:
        """Terms joined by one of AND / OR; mixing them needs parentheses."""
        predicate, candidates = self.unary(schema)
        joiner: str | None = None
        parts = [(predicate, candidates)]
        while self.token.keyword in ("AND", "OR"):
            if joiner is not None and self.token.keyword != joiner:
                raise self.malformed(self.token)
            joiner = self.advance().keyword
            parts.append(self.unary(schema))
        if joiner is None:
            return predicate, candidates
        predicates = [p for p, _ in parts]
        if joiner == "AND":
            known = [c for _, c in parts if c is not None]
            narrowed = frozenset.intersection(*known) if known else None
            return (lambda r: all(p(r) for p in predicates)), narrowed
        any_open = any(c is None for _, c in parts)
        widened = None if any_open else frozenset().union(*(c for _, c in parts if c))
        return (lambda r: any(p(r) for p in predicates)), widened

    def unary(self, schema: ObjectSchema) -> tuple[Predicate, frozenset[str] | None]:
        if self.accept_keyword("NOT"):
            inner, _ = self.unary(schema)
            return (lambda r: not inner(r)), None
        if self.token.text == "(":
            self.advance()
            result = self.condition(schema)
            self.expect_punct(")")
            return result
        return self.comparison(schema)

    def comparison(self, schema: ObjectSchema) -> tuple[Predicate, frozenset[str] | None]:
        token = self.token
        if token.kind != "name" or token.keyword in ("AND", "OR", "NOT", *_CLAUSES):
            raise self.malformed(token)
        self.advance()
        column = self.column(token, schema) if self.having is None else self.group_term(token)
        spec = column.spec
        if not spec.filterable:
            raise self.invalid_field(
                token, f"field '{spec.name}' can not be filtered in a query call"
            )
        operator = self.token
        if operator.kind == "op":
            self.advance()
            value = self.literal(spec)
            return self.compare(column, operator, value)
        negate = False
        if operator.keyword == "NOT" and self.peek().keyword == "IN":
            self.advance()
            negate = True
        if self.token.keyword == "IN":
            self.advance()
            self.expect_punct("(")
            if self.token.keyword == "SELECT":
                return self.membership(column, self.semi_join(column), negate=negate)
            values = [self.literal(spec)]
            while self.token.text == ",":
                self.advance()
                values.append(self.literal(spec))
            self.expect_punct(")")
            if any(isinstance(v, _DateRange) for v in values):
                raise self.malformed(operator, "date literals cannot be used with IN")
            return self.membership(column, values, negate=negate)
        if operator.keyword == "LIKE":
            self.advance()
            literal = self.token
            if literal.kind != "string" or not spec.is_text:
                raise self.malformed(literal, "invalid LIKE pattern or field for LIKE")
            self.advance()
            pattern = _like_pattern(literal.text[1:-1])
            get = column.get
            return (lambda r: (v := get(r)) is not None and bool(pattern.fullmatch(v))), None
        raise self.malformed(self.token)

    def group_term(self, token: _Token) -> Column:
        """A HAVING term, read from a group row ``(group values, aggregate values)``: an
        aggregate function (computed for the clause if not selected) or a grouped field."""
        query = self.having
        assert query is not None
        if token.keyword in _AGGREGATES and self.token.text == "(":
            self.advance()
            argument = self.advance()
            self.expect_punct(")")
            if argument.kind != "name":
                raise self.malformed(argument)
            field = self.column(argument, query.store.schema)
            position = len(query.aggregates)
            query.aggregates.append(Aggregate(token.keyword, field, ""))  # not rendered
            kind = "int" if token.keyword.startswith("COUNT") else "double"
            spec = FieldSpec(f"{token.keyword}({field.dotted})", kind, token.text, digits=18)
            get: Getter = _part(1, position)
        else:
            field = self.column(token, query.store.schema)
            positions = [n for n, c in enumerate(query.group_by) if c.dotted == field.dotted]
            if not positions:
                raise self.malformed(token, f"Field must be grouped or aggregated: {token.text}")
            spec, get = field.spec, _part(0, positions[0])
        return Column((), spec, get, get)

    def semi_join(self, column: Column) -> list[Any]:
        """``Id IN (SELECT AccountId FROM Contact …)``: the ids the sub-select names."""
        start = self.token
        inner = self.select(parent=None)
        self.expect_punct(")")
        selected = inner.columns[0] if len(inner.columns) == 1 else None
        if (
            not isinstance(selected, Column)
            or selected.spec.type not in ("id", "reference")
            or column.spec.type not in ("id", "reference")
            or inner.is_aggregate
            or inner.count_only
        ):
            raise self.malformed(
                start, "semi join sub-selects must select one id field, compared with an id field"
            )
        records, where, get = inner.store.records, inner.where, selected.get
        return list(
            {
                value
                for i in inner.store.order
                if not (r := records[i])["IsDeleted"]
                and (where is None or where(r))
                and (value := get(r)) is not None
            }
        )

    def date_range(self, spec: FieldSpec, token: _Token) -> _DateRange | None:
        span = date_literal(token.text, self.today)
        if span is None:
            return None
        start, end = span
        if spec.type == "date":
            return _DateRange(start.isoformat(), end.isoformat())
        return _DateRange(
            format_datetime(datetime.combine(start, datetime.min.time(), UTC)),
            format_datetime(datetime.combine(end, datetime.min.time(), UTC)),
        )

    def literal(self, spec: FieldSpec) -> Any:
        token = self.advance()
        kind = token.kind
        if token.keyword == "NULL":
            return None
        wrong = self.wrong_type(spec, token)
        field_type = spec.type
        if field_type == "boolean":
            if token.keyword not in ("TRUE", "FALSE"):
                raise wrong
            return token.keyword == "TRUE"
        if field_type in NUMBER_TYPES:
            if kind != "number":
                raise wrong
            return (
                float(token.text) if field_type != "int" or "." in token.text else int(token.text)
            )
        if field_type in ("datetime", "date") and kind == "name":
            span = self.date_range(spec, token)
            if span is None:
                raise self.malformed(token, f"unexpected token: {token.text}")
            return span
        if field_type == "datetime":
            moment = parse_datetime(token.text) if kind == "datetime" else None
            if moment is None:
                raise wrong
            return format_datetime(moment)
        if field_type == "date":
            if kind != "date":
                raise wrong
            return date.fromisoformat(token.text).isoformat()
        if kind != "string":
            raise wrong
        value = _unquote(token.text)
        if field_type in ("id", "reference"):
            record_id = to_18(value)
            if record_id is None:
                raise SalesforceError.bad_request(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    pointer_message(self.text, token.position, f"invalid ID field: {value}"),
                )
            return record_id
        return value.lower()

    def wrong_type(self, spec: FieldSpec, token: _Token) -> SalesforceError:
        soap = {"int": "integer", "datetime": "dateTime"}.get(spec.type, spec.type)
        if spec.type in ("currency", "percent"):
            soap = "double"
        quoted = spec.is_text or spec.type in ("id", "reference")
        how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        kind = "string" if quoted else soap
        return self.invalid_field(
            token,
            f"value of filter criterion for field '{spec.name}' must be of type {kind} and {how}",
        )

    def compare(
        self, column: Column, operator: _Token, value: Any
    ) -> tuple[Predicate, frozenset[str] | None]:
        spec, get, op = column.spec, column.get, operator.text
        if value is None:
            if op == "=":
                return (lambda r: get(r) is None), None
            if op in ("!=", "<>"):
                return (lambda r: get(r) is not None), None
            return (lambda r: False), None
        if spec.type == "boolean" and op not in ("=", "!=", "<>"):
            raise self.malformed(operator, f"invalid operator on boolean field: {op}")
        if isinstance(value, _DateRange):
            start, end = value.start, value.end
            inside = {
                "=": lambda v: start <= v < end,
                "!=": lambda v: not start <= v < end,
                "<>": lambda v: not start <= v < end,
                "<": lambda v: v < start,
                "<=": lambda v: v < end,
                ">": lambda v: v >= end,
                ">=": lambda v: v >= start,
            }[op]
            if op in ("!=", "<>"):
                return (lambda r: (v := get(r)) is None or inside(v)), None
            return (lambda r: (v := get(r)) is not None and inside(v)), None
        if spec.is_text:
            key = str.lower
            if op == "=":
                return (lambda r: (v := get(r)) is not None and key(v) == value), None
            if op in ("!=", "<>"):
                return (lambda r: (v := get(r)) is None or key(v) != value), None
            return self.ordered(get, op, value, key)
        if op == "=":
            candidates = frozenset((value,)) if spec.type == "id" and not column.path else None
            return (lambda r: get(r) == value), candidates
        if op in ("!=", "<>"):
            return (lambda r: get(r) != value), None
        return self.ordered(get, op, value, None)

    @staticmethod
    def ordered(
        get: Getter, op: str, value: Any, key: Callable[[str], str] | None
    ) -> tuple[Predicate, frozenset[str] | None]:
        if key is not None:
            compare = {
                "<": lambda r: (v := get(r)) is not None and key(v) < value,
                "<=": lambda r: (v := get(r)) is not None and key(v) <= value,
                ">": lambda r: (v := get(r)) is not None and key(v) > value,
                ">=": lambda r: (v := get(r)) is not None and key(v) >= value,
            }
        else:
            compare = {
                "<": lambda r: (v := get(r)) is not None and v < value,
                "<=": lambda r: (v := get(r)) is not None and v <= value,
                ">": lambda r: (v := get(r)) is not None and v > value,
                ">=": lambda r: (v := get(r)) is not None and v >= value,
            }
        return compare[op], None

    @staticmethod
    def membership(
        column: Column, values: list[Any], *, negate: bool
    ) -> tuple[Predicate, frozenset[str] | None]:
        spec, get = column.spec, column.get
        wanted = frozenset(values)
        if spec.is_text:
            if negate:
                return (lambda r: (v := get(r)) is None or v.lower() not in wanted), None
            return (lambda r: (v := get(r)) is not None and v.lower() in wanted), None
        if negate:
            return (lambda r: get(r) not in wanted), None
        candidates = wanted - {None} if spec.type == "id" and not column.path else None
        return (lambda r: get(r) in wanted), candidates


def parse_query(text: str, stores: dict[str, ObjectStore], *, today: date | None = None) -> Query:
    """Parse and compile ``text`` against the org's objects, or raise the SOQL error."""
    if not text or not text.strip():
        raise SalesforceError.bad_request("MALFORMED_QUERY", "A query string has to be specified")
    return _Parser(text, stores, today or datetime.now(UTC).date()).parse()
