"""SOSL ``search?q=``: the part of it the fake can answer.

    FIND {terms} [IN ALL|NAME|EMAIL|PHONE FIELDS]
    [RETURNING Object[(fields [WHERE …] [ORDER BY …] [LIMIT n])][, …]] [LIMIT n]

Terms are words (all must match, case-insensitively, as whole words of the searched fields),
``"quoted phrases"``, ``*`` and ``?`` wildcards, and ``OR`` between alternatives. Each
object's list is a SOQL query of its own (fields, parents' fields, WHERE, ORDER BY, LIMIT)
restricted to the records the terms match; without RETURNING every searchable object answers
with ids. Results are in id order (the fake has no relevance ranking), 2,000 at most.
"""

from __future__ import annotations

import re
from typing import Any, Final

from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.fields import FieldSpec
from connectors.sandbox.salesforce.query import QueryEngine, matching
from connectors.sandbox.salesforce.soql import parse_query
from connectors.sandbox.salesforce.store import ObjectStore, Org

__all__ = ["search"]

MAX_RESULTS: Final = 2000
SEARCHABLE: Final = ("Account", "Contact", "Opportunity", "User")
_FIND: Final = re.compile(
    r"\s*FIND\s*\{(?P<terms>(?:[^}\\]|\\.)*)\}"
    r"(?:\s+IN\s+(?P<group>ALL|NAME|EMAIL|PHONE)\s+FIELDS)?"
    r"(?:\s+RETURNING\s+(?P<returning>.*?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OBJECT: Final = re.compile(
    r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\((?P<inside>.*)\))?\s*$", re.DOTALL
)
_CLAUSE: Final = re.compile(r"\b(WHERE|ORDER\s+BY|LIMIT|OFFSET)\b", re.IGNORECASE)
_TEXT_TYPES: Final = frozenset({"string", "textarea", "email", "phone", "url"})


def _malformed(message: str) -> SalesforceError:
    return SalesforceError.bad_request("MALFORMED_SEARCH", message)


def _pattern(word: str) -> re.Pattern[str]:
    body = "".join(
        r"\w*" if char == "*" else r"\w" if char == "?" else re.escape(char) for char in word
    )
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _alternatives(terms: str) -> list[list[re.Pattern[str]]]:
    """Each ``OR`` alternative as the patterns that must all match."""
    text = re.sub(r"\\(.)", r"\1", terms).strip()
    if len(text.replace("*", "").replace("?", "").strip()) < 2:
        raise SalesforceError.bad_request(
            "INVALID_SEARCH", "search term must be longer than one character"
        )
    alternatives = []
    for alternative in re.split(r"\s+OR\s+", text):
        words = re.findall(r'"([^"]+)"|(\S+)', alternative)
        patterns = [
            _pattern(phrase) if phrase else _pattern(word)
            for phrase, word in words
            if (phrase or word).upper() != "AND"
        ]
        if patterns:
            alternatives.append(patterns)
    return alternatives


def _searched(store: ObjectStore, group: str) -> list[FieldSpec]:
    fields = store.schema.fields.values()
    if group == "NAME":
        return [f for f in fields if f.name_field or f.name in ("FirstName", "LastName")]
    if group == "EMAIL":
        return [f for f in fields if f.type == "email"]
    if group == "PHONE":
        return [f for f in fields if f.type == "phone"]
    return [f for f in fields if f.type in _TEXT_TYPES]


def _split_returning(text: str) -> list[str]:
    parts, depth, start, quoted = [], 0, 0, False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _soql(spec: str) -> str:
    """A RETURNING item as the SOQL query it stands for."""
    match = _OBJECT.fullmatch(spec)
    if match is None:
        raise _malformed(f"unexpected token in RETURNING: {spec.strip()}")
    name, inside = match.group("name"), (match.group("inside") or "Id").strip()
    clause = _CLAUSE.search(inside)
    fields, rest = (inside[: clause.start()], inside[clause.start() :]) if clause else (inside, "")
    return f"SELECT {fields.strip() or 'Id'} FROM {name} {rest}".strip()


def search(org: Org, queries: QueryEngine, text: str | None, version: str) -> dict[str, Any]:
    """``GET search/?q=``: the matching records of each object asked for."""
    if not text:
        raise _malformed("A search string has to be specified")
    found = _FIND.fullmatch(text)
    if found is None:
        raise _malformed(f"unexpected token: {text.split()[0] if text.split() else text}")
    alternatives = _alternatives(found.group("terms"))
    group = (found.group("group") or "ALL").upper()
    limit = min(MAX_RESULTS, int(found.group("limit") or MAX_RESULTS))
    returning = found.group("returning")
    specs = _split_returning(returning) if returning else list(SEARCHABLE)
    records: list[dict[str, Any]] = []
    for spec in specs:
        query = parse_query(_soql(spec), org.stores)
        store = query.store
        if store.name not in SEARCHABLE:
            raise SalesforceError.bad_request(
                "INVALID_TYPE", f"entity type {store.name} does not support search"
            )
        searched = [f.name for f in _searched(store, group)]
        hits = [
            record_id
            for record_id in store.order
            if not (record := store.records[record_id])["IsDeleted"]
            and _matches(record, searched, alternatives)
        ]
        ids = matching(query, hits, all_rows=False)
        records.extend(queries.rows(query, ids, version, all_rows=False))
    return {"searchRecords": records[:limit]}


def _matches(
    record: dict[str, Any], fields: list[str], alternatives: list[list[re.Pattern[str]]]
) -> bool:
    values = [v for v in (record[name] for name in fields) if isinstance(v, str)]
    return any(all(any(p.search(v) for v in values) for p in patterns) for patterns in alternatives)
