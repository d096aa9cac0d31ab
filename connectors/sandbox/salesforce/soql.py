"""The SOQL subset the sandbox understands, parsed once and compiled into Python predicates.

    SELECT field[, ...] | COUNT() FROM object
    [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST][, ...]]
    [LIMIT n] [OFFSET n]

A condition compares a field (``=  !=  <>  <  <=  >  >=``, ``[NOT] IN (...)``, ``LIKE``) with a
literal: a quoted string or id, a number, ``TRUE``/``FALSE``, ``NULL``, a date ``2026-11-23``
or a datetime ``2026-11-23T10:00:00Z``; conditions combine with ``AND``, ``OR``, ``NOT`` and
parentheses. As in SOQL, ``AND`` and ``OR`` cannot be mixed without parentheses, text compares
case-insensitively, a literal must have its field's type, and ``!=`` matches nulls. Anything
else is a ``MALFORMED_QUERY``; an unknown field is ``INVALID_FIELD``, an unknown object
``INVALID_TYPE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from connectors.sandbox.salesforce.errors import SalesforceError, pointer_message
from connectors.sandbox.salesforce.fields import (
    NUMBER_TYPES,
    FieldSpec,
    format_datetime,
    parse_datetime,
)
from connectors.sandbox.salesforce.ids import to_18
from connectors.sandbox.salesforce.schema import ObjectSchema

__all__ = ["OrderKey", "Query", "parse_query"]

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
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
_CLAUSES: Final = ("WHERE", "ORDER", "LIMIT", "OFFSET")
_UNSUPPORTED: Final = frozenset(
    {"GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF", "INCLUDES", "EXCLUDES", "ROLLUP", "CUBE"}
)
_MAX_OFFSET: Final = 2000


@dataclass(frozen=True)
class _Token:
    kind: str  # datetime, date, number, string, name, op, punct, end
    text: str
    position: int

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


@dataclass(frozen=True)
class OrderKey:
    """One ``ORDER BY`` item."""

    field: FieldSpec
    descending: bool
    nulls_first: bool


@dataclass
class Query:
    """A parsed query: what to select from which object, and how to filter, order and cut."""

    object_name: str
    fields: list[str]
    count_only: bool = False
    where: Predicate | None = None
    id_candidates: frozenset[str] | None = None  # the WHERE can only match these ids
    order: list[OrderKey] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


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


class _Parser:
    def __init__(self, text: str, schemas: dict[str, ObjectSchema]) -> None:
        self.text = text
        self.schemas = {name.lower(): schema for name, schema in schemas.items()}
        self.tokens = _tokens(text)
        self.index = 0
        self.schema: ObjectSchema | None = None

    # -- token helpers -------------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

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

    def resolve(self, token: _Token) -> FieldSpec:
        assert self.schema is not None
        name = token.text
        if "." in name:
            raise SalesforceError.bad_request(
                "INVALID_FIELD",
                pointer_message(
                    self.text,
                    token.position,
                    f"Didn't understand relationship '{name.split('.')[0]}' in field path. "
                    "Relationship queries are not in the sandbox's SOQL subset.",
                ),
            )
        spec = self.schema.resolve(name)
        if spec is None:
            raise SalesforceError.bad_request(
                "INVALID_FIELD",
                pointer_message(
                    self.text,
                    token.position,
                    f"No such column '{name}' on entity '{self.schema.name}'. If you are "
                    "attempting to use a custom field, be sure to append the '__c' after the "
                    "custom field name. Please reference your WSDL or the describe call for the "
                    "appropriate names.",
                ),
            )
        return spec

    # -- query -----------------------------------------------------------------------------------

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        count_only = False
        field_tokens: list[_Token] = []
        if self.token.keyword == "COUNT" and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.advance()
            self.expect_punct(")")
            count_only = True
        else:
            while True:
                token = self.token
                if token.kind != "name" or token.keyword in ("FROM", *_CLAUSES):
                    raise self.malformed(token)
                self.advance()
                if self.token.text == "(":
                    raise self.malformed(
                        token,
                        f"unexpected token: {token.text} (functions and subqueries are "
                        "not in the sandbox's SOQL subset)",
                    )
                field_tokens.append(token)
                if self.token.text != ",":
                    break
                self.advance()
        self.expect_keyword("FROM")
        object_token = self.token
        if object_token.kind != "name":
            raise self.malformed(object_token)
        self.advance()
        self.schema = self.schemas.get(object_token.text.lower())
        if self.schema is None:
            raise SalesforceError.bad_request(
                "INVALID_TYPE",
                pointer_message(
                    self.text,
                    object_token.position,
                    f"sObject type '{object_token.text}' is not supported. If you are attempting "
                    "to use a custom object, be sure to append the '__c' after the entity name. "
                    "Please reference your WSDL or the describe call for the appropriate names.",
                ),
            )
        names: list[str] = []
        for token in field_tokens:
            spec = self.resolve(token)
            if spec.name in names:
                raise self.malformed(token, f"duplicate field selected: {spec.name}")
            names.append(spec.name)
        query = Query(self.schema.name, names, count_only=count_only)
        if self.accept_keyword("WHERE"):
            query.where, query.id_candidates = self.condition()
        if self.token.keyword == "ORDER":
            self.advance()
            self.expect_keyword("BY")
            query.order = self.order_by()
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
        if self.token.kind != "end":
            raise self.malformed(self.token)
        return query

    def integer(self) -> int:
        token = self.token
        if token.kind != "number" or not (token.text.isascii() and token.text.isdigit()):
            raise self.malformed(token)
        self.advance()
        return int(token.text)

    def order_by(self) -> list[OrderKey]:
        keys = []
        while True:
            token = self.token
            if token.kind != "name":
                raise self.malformed(token)
            self.advance()
            spec = self.resolve(token)
            if spec.type in ("textarea", "multipicklist") and not spec.describe()["sortable"]:
                raise self.malformed(
                    token, f"field '{spec.name}' can not be sorted in a query call"
                )
            descending = False
            if self.token.keyword in ("ASC", "DESC"):
                descending = self.advance().keyword == "DESC"
            nulls_first = not descending
            if self.accept_keyword("NULLS"):
                nulls_first = self.expect_keyword("FIRST", "LAST").keyword == "FIRST"
            keys.append(OrderKey(spec, descending, nulls_first))
            if self.token.text != ",":
                return keys
            self.advance()

    # -- conditions ------------------------------------------------------------------------------

    def condition(self) -> tuple[Predicate, frozenset[str] | None]:
        """Terms joined by one of AND / OR; mixing them needs parentheses."""
        predicate, candidates = self.unary()
        joiner: str | None = None
        parts = [(predicate, candidates)]
        while self.token.keyword in ("AND", "OR"):
            if joiner is not None and self.token.keyword != joiner:
                raise self.malformed(self.token)
            joiner = self.advance().keyword
            parts.append(self.unary())
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

    def unary(self) -> tuple[Predicate, frozenset[str] | None]:
        if self.accept_keyword("NOT"):
            inner, _ = self.unary()
            return (lambda r: not inner(r)), None
        if self.token.text == "(":
            self.advance()
            result = self.condition()
            self.expect_punct(")")
            return result
        return self.comparison()

    def comparison(self) -> tuple[Predicate, frozenset[str] | None]:
        token = self.token
        if token.kind != "name" or token.keyword in ("AND", "OR", "NOT", *_CLAUSES):
            raise self.malformed(token)
        self.advance()
        spec = self.resolve(token)
        operator = self.token
        if operator.kind == "op":
            self.advance()
            value = self.literal(spec)
            return self.compare(spec, operator, value)
        negate = False
        if operator.keyword == "NOT" and self.tokens[self.index + 1].keyword == "IN":
            self.advance()
            negate = True
        if self.token.keyword == "IN":
            self.advance()
            self.expect_punct("(")
            values = [self.literal(spec)]
            while self.token.text == ",":
                self.advance()
                values.append(self.literal(spec))
            self.expect_punct(")")
            return self.membership(spec, values, negate=negate)
        if operator.keyword == "LIKE":
            self.advance()
            literal = self.token
            if literal.kind != "string" or not spec.is_text:
                raise self.malformed(literal, "invalid LIKE pattern or field for LIKE")
            self.advance()
            pattern = _like_pattern(literal.text[1:-1])
            name = spec.name
            return (lambda r: (v := r[name]) is not None and bool(pattern.fullmatch(v))), None
        raise self.malformed(self.token)

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
            if kind == "name" and token.keyword not in ("TRUE", "FALSE"):
                raise self.malformed(
                    token,
                    f"unexpected token: {token.text} (date literals are not in the "
                    "sandbox's SOQL subset)",
                )
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
        return SalesforceError.bad_request(
            "INVALID_FIELD",
            pointer_message(
                self.text,
                token.position,
                f"value of filter criterion for field '{spec.name}' must be of type {kind} "
                f"and {how}",
            ),
        )

    def compare(
        self, spec: FieldSpec, operator: _Token, value: Any
    ) -> tuple[Predicate, frozenset[str] | None]:
        name, op = spec.name, operator.text
        if value is None:
            if op == "=":
                return (lambda r: r[name] is None), None
            if op in ("!=", "<>"):
                return (lambda r: r[name] is not None), None
            return (lambda r: False), None
        if spec.type == "boolean" and op not in ("=", "!=", "<>"):
            raise self.malformed(operator, f"invalid operator on boolean field: {op}")
        if spec.is_text:
            key = str.lower
            if op == "=":
                return (lambda r: (v := r[name]) is not None and key(v) == value), None
            if op in ("!=", "<>"):
                return (lambda r: (v := r[name]) is None or key(v) != value), None
            return self.ordered(name, op, value, key)
        if op == "=":
            candidates = frozenset((value,)) if spec.type == "id" else None
            return (lambda r: r[name] == value), candidates
        if op in ("!=", "<>"):
            return (lambda r: r[name] != value), None
        return self.ordered(name, op, value, None)

    @staticmethod
    def ordered(
        name: str, op: str, value: Any, key: Callable[[str], str] | None
    ) -> tuple[Predicate, frozenset[str] | None]:
        if key is not None:
            compare = {
                "<": lambda r: (v := r[name]) is not None and key(v) < value,
                "<=": lambda r: (v := r[name]) is not None and key(v) <= value,
                ">": lambda r: (v := r[name]) is not None and key(v) > value,
                ">=": lambda r: (v := r[name]) is not None and key(v) >= value,
            }
        else:
            compare = {
                "<": lambda r: (v := r[name]) is not None and v < value,
                "<=": lambda r: (v := r[name]) is not None and v <= value,
                ">": lambda r: (v := r[name]) is not None and v > value,
                ">=": lambda r: (v := r[name]) is not None and v >= value,
            }
        return compare[op], None

    @staticmethod
    def membership(
        spec: FieldSpec, values: list[Any], *, negate: bool
    ) -> tuple[Predicate, frozenset[str] | None]:
        name = spec.name
        wanted = frozenset(values)
        if spec.is_text:
            if negate:
                return (lambda r: (v := r[name]) is None or v.lower() not in wanted), None
            return (lambda r: (v := r[name]) is not None and v.lower() in wanted), None
        if negate:
            return (lambda r: r[name] not in wanted), None
        candidates = wanted - {None} if spec.type == "id" else None
        return (lambda r: r[name] in wanted), candidates


def parse_query(text: str, schemas: dict[str, ObjectSchema]) -> Query:
    """Parse and compile ``text`` against the org's objects, or raise the SOQL error."""
    if not text or not text.strip():
        raise SalesforceError.bad_request("MALFORMED_QUERY", "A query string has to be specified")
    return _Parser(text, schemas).parse()
