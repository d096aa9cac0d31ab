"""Compile an ICP once into per-field predicates, then score accounts fast (DESIGN §3.3).

Why it is fast: each condition becomes a predicate closure over pre-normalised values that
returns a status code (matched, missed, unknown); one generated function reads an account's
fields and calls the predicates, reducing the account to a tuple of codes; and everything a
result holds (score, tier, flags, coverage, reasons, breakdown) depends only on that tuple, so
results are memoised per tuple and shared (they are immutable).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from app.scoring.definition import (
    ATTRIBUTE_PREFIX,
    LIST_OPS,
    NUMERIC_KINDS,
    NUMERIC_OPS,
    PRESENCE_OPS,
    Condition,
    IcpDefinition,
    field_kind,
)
from app.scoring.reasons import format_reasons
from connectors.normalize import norm_enum, to_bool, to_country, to_float

MISSED: Final = 0
MATCHED: Final = 1
UNKNOWN: Final = 2
STATUS_NAMES: Final = ("missed", "matched", "unknown")
DEFAULT_MEMO_SIZE: Final = 100_000

Predicate = Callable[[Any], int]


@dataclass(frozen=True, slots=True)
class CriterionOutcome:
    """One criterion's (or exclusion's) verdict on one account."""

    id: str
    label: str
    status: str
    points: int

    def as_dict(self) -> dict[str, Any]:
        """``{id, label, status, points}``."""
        return {"id": self.id, "label": self.label, "status": self.status, "points": self.points}


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """An ICP's full verdict on one account; instances are shared, never mutate them."""

    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    excluded: bool
    coverage: float
    reasons: str
    criteria: tuple[CriterionOutcome, ...]
    exclusions: tuple[CriterionOutcome, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The what-if result shape of DESIGN §5 (a fresh dict on every call)."""
        return {
            "score": self.score,
            "tier": self.tier,
            "is_mql": self.is_mql,
            "is_sql": self.is_sql,
            "excluded": self.excluded,
            "coverage": self.coverage,
            "reasons": self.reasons,
            "criteria": [outcome.as_dict() for outcome in self.criteria],
            "exclusions": [outcome.as_dict() for outcome in self.exclusions],
        }


class CompiledIcp:
    """An ICP ready to score: compiled once per version, reused for every account."""

    __slots__ = ("_build", "_memo", "_statuses", "definition", "memo_size", "read_fields", "score")

    def __init__(self, definition: IcpDefinition, *, memo_size: int = DEFAULT_MEMO_SIZE) -> None:
        self.definition = definition
        self.memo_size = memo_size
        self._memo: dict[tuple[int, ...], ScoreResult] = {}
        conditions = _conditions(definition)
        fields = [c.field for c in conditions]
        # The top-level account keys scoring reads: a caller may fetch only these.
        self.read_fields: frozenset[str] = frozenset(
            "attributes" if field.startswith(ATTRIBUTE_PREFIX) else field for field in fields
        )
        predicates = [_compile_predicate(c) for c in conditions]
        self._build = _result_builder(definition)
        self._statuses: Callable[[Mapping[str, Any]], tuple[int, ...]] = _generate(
            fields, predicates
        )
        if memo_size > 0:
            self.score: Callable[[Mapping[str, Any]], ScoreResult] = _generate(
                fields, predicates, lookup=self._memo.get, miss=self._remember
            )
        else:
            build, statuses = self._build, self._statuses
            self.score = lambda account: build(statuses(account))

    def _remember(self, key: tuple[int, ...]) -> ScoreResult:
        if len(self._memo) >= self.memo_size:
            self._memo.clear()
        result = self._memo[key] = self._build(key)
        return result


def compile_icp(definition: IcpDefinition, *, memo_size: int = DEFAULT_MEMO_SIZE) -> CompiledIcp:
    """Compile a validated definition into a :class:`CompiledIcp` (``memo_size=0``: no memo)."""
    return CompiledIcp(definition, memo_size=memo_size)


def score_account(compiled: CompiledIcp, account: Mapping[str, Any]) -> ScoreResult:
    """Score one canonical account (a plain mapping; raw CRM strings are coerced)."""
    return compiled.score(account)


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (towards +∞), in exact integer arithmetic."""
    return (2 * numerator + denominator) // (2 * denominator)


# --- gathering statuses -----------------------------------------------------------------------


def _conditions(definition: IcpDefinition) -> list[Condition]:
    """Every condition in status-tuple order: criteria, exclusions, MQL then SQL requirements."""
    qualification = definition.qualification
    mql = qualification.mql.require if qualification else []
    sql = qualification.sql.require if qualification and qualification.sql else []
    return [*definition.criteria, *definition.exclusions, *mql, *sql]


def _attribute_getter(attributes: Any) -> Callable[[str], Any]:
    return attributes.get if isinstance(attributes, Mapping) else _NO_ATTRIBUTES.get


_NO_ATTRIBUTES: dict[str, Any] = {}


def _generate(
    fields: list[str],
    predicates: list[Predicate],
    *,
    lookup: Callable[[tuple[int, ...]], ScoreResult | None] | None = None,
    miss: Callable[[tuple[int, ...]], ScoreResult] | None = None,
) -> Callable[[Mapping[str, Any]], Any]:
    """Generate ``account -> status tuple``, or with ``lookup``/``miss``, ``account -> result``.

    Generated like ``dataclasses`` generates ``__init__``: one tuple display of direct calls
    is about twice as fast as any loop over the predicates, and this is the hot path of every sync.
    Only ``repr()`` of field names (string literals) and fixed identifiers enter the source.
    """
    calls = []
    for index, field in enumerate(fields):
        if field.startswith(ATTRIBUTE_PREFIX):
            calls.append(f"p{index}(aget({field[len(ATTRIBUTE_PREFIX) :]!r}))")
        else:
            calls.append(f"p{index}(get({field!r}))")
    lines = ["def generated(account):", "    get = account.get"]
    if any(field.startswith(ATTRIBUTE_PREFIX) for field in fields):
        lines += [
            "    attributes = get('attributes')",
            "    aget = attributes.get if type(attributes) is dict"
            " else attribute_getter(attributes)",
        ]
    lines.append(f"    key = ({', '.join(calls)},)")
    if lookup is None:
        lines.append("    return key")
    else:
        lines += [
            "    result = lookup(key)",
            "    if result is None:",
            "        result = miss(key)",
            "    return result",
        ]
    namespace: dict[str, Any] = {f"p{index}": p for index, p in enumerate(predicates)}
    namespace.update(attribute_getter=_attribute_getter, lookup=lookup, miss=miss)
    exec("\n".join(lines), namespace)  # trusted source: see the docstring
    generated: Callable[[Mapping[str, Any]], Any] = namespace["generated"]
    return generated


# --- building results -------------------------------------------------------------------------


def _result_builder(definition: IcpDefinition) -> Callable[[tuple[int, ...]], ScoreResult]:
    """``status tuple -> ScoreResult``; the tuple is in :func:`_conditions` order."""
    criteria = definition.criteria
    labels = [c.label or c.id for c in criteria]
    weights = [c.weight for c in criteria]
    positive_total = sum(w for w in weights if w > 0)
    absolute_total = sum(abs(w) for w in weights)
    # Outcomes are immutable: build the three possible ones per criterion once.
    criterion_outcomes = [
        tuple(
            CriterionOutcome(c.id, label, name, c.weight if status == MATCHED else 0)
            for status, name in enumerate(STATUS_NAMES)
        )
        for c, label in zip(criteria, labels, strict=True)
    ]
    exclusion_labels = [e.label or e.id for e in definition.exclusions]
    exclusion_outcomes = [
        tuple(CriterionOutcome(e.id, label, name, 0) for name in STATUS_NAMES)
        for e, label in zip(definition.exclusions, exclusion_labels, strict=True)
    ]
    tiers = definition.tiers
    thresholds = (("A", tiers.A), ("B", tiers.B), ("C", tiers.C))
    qualification = definition.qualification
    mql_min = qualification.mql.min_score if qualification else None
    sql_min = qualification.sql.min_score if qualification and qualification.sql else None
    n_criteria, n_exclusions = len(criteria), len(definition.exclusions)
    n_mql = len(qualification.mql.require) if qualification else 0
    exclusions_end = n_criteria + n_exclusions
    pairs = list(zip(labels, weights, strict=True))
    absolute = [abs(w) for w in weights]

    def build(key: tuple[int, ...]) -> ScoreResult:
        matched: list[tuple[str, int]] = []
        unknown: list[tuple[str, int]] = []
        outcomes = []
        matched_points = known = 0
        for index, status in enumerate(key[:n_criteria]):
            outcomes.append(criterion_outcomes[index][status])
            if status == UNKNOWN:
                unknown.append(pairs[index])
                continue
            known += absolute[index]
            if status == MATCHED:
                matched.append(pairs[index])
                matched_points += weights[index]
        exclusion_statuses = key[n_criteria:exclusions_end]
        excluded_by = [
            label
            for label, status in zip(exclusion_labels, exclusion_statuses, strict=True)
            if status == MATCHED
        ]
        if excluded_by:
            score, tier, is_mql, is_sql = 0, "D", False, False
        else:
            score = min(100, max(0, round_half_up(100 * matched_points, positive_total)))
            tier = next((name for name, floor in thresholds if score >= floor), "D")
            is_mql = (
                mql_min is not None
                and score >= mql_min
                and all(s == MATCHED for s in key[exclusions_end : exclusions_end + n_mql])
            )
            is_sql = (
                is_mql
                and sql_min is not None
                and score >= sql_min
                and all(s == MATCHED for s in key[exclusions_end + n_mql :])
            )
        return ScoreResult(
            score=score,
            tier=tier,
            is_mql=is_mql,
            is_sql=is_sql,
            excluded=bool(excluded_by),
            coverage=known / absolute_total,
            reasons=format_reasons(
                tier=tier, score=score, matched=matched, unknown=unknown, excluded_by=excluded_by
            ),
            criteria=tuple(outcomes),
            exclusions=tuple(
                choices[status]
                for choices, status in zip(exclusion_outcomes, exclusion_statuses, strict=True)
            ),
        )

    return build


# --- value coercion ---------------------------------------------------------------------------
# Each coercer maps a raw account value to the comparable form of its domain, or None when the
# value is unknown (absent, blank) or cannot be read in that domain ("n/a" as a number). CRM
# strings repeat a lot ("Series A", "120", "true"), so each domain memoises its string inputs.

_ABSENT: Final = object()
_CACHE_LIMIT = 20_000
_CACHEABLE_LENGTH = 200
_SEPARATORS = re.compile(r"[\s_\-]+")


def _text_key(text: str) -> str:
    """Comparable form of a string: trimmed, casefolded, runs of spaces/_/- as one space."""
    return _SEPARATORS.sub(" ", norm_enum(text)).strip()


def coerce_text(value: Any) -> str | None:
    """A value as the text conditions compare (trimmed, case-folded), None when unknown."""
    if isinstance(value, str):
        return _text_key(value) or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, list | tuple | set | frozenset | dict):
        return None
    return _text_key(str(value)) or None


def coerce_country(value: Any) -> str | None:
    """A value as an ISO country code, None when it names none."""
    if value is None or isinstance(value, bool | list | tuple | set | frozenset | dict):
        return None
    return to_country(value)


def coerce_number(value: Any) -> float | int | None:
    """A value as a number (numbers written as text too), None when it is none."""
    if type(value) is int:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool):
        return None
    try:
        return to_float(value)
    except (ValueError, TypeError):
        return None


def coerce_bool(value: Any) -> bool | None:
    """A value as a boolean (``"yes"``, ``"1"`` and the like too), None when it is none."""
    if isinstance(value, bool):
        return value
    try:
        return to_bool(value)
    except (ValueError, TypeError):
        return None


class _NoNativeType:
    """Text and countries always need normalising: no value is of this type."""


class _Domain:
    """How one kind of value is compared, with a memo of the strings already coerced."""

    __slots__ = ("cache", "cached", "convert", "native")

    def __init__(self, convert: Callable[[Any], Any], native: type) -> None:
        self.convert = convert
        self.native = native  # values of exactly this type are already comparable
        self.cache: dict[str, Any] = {}
        self.cached = self.cache.get

    def coerce(self, value: Any) -> Any:
        """The comparable form of ``value``, or None when unknown or unreadable."""
        if type(value) is not str:
            return self.convert(value)
        key = self.cached(value, _ABSENT)
        if key is _ABSENT:
            key = self.convert(value)
            if len(value) <= _CACHEABLE_LENGTH:
                if len(self.cache) >= _CACHE_LIMIT:
                    self.cache.clear()
                self.cache[value] = key
        return key


_DOMAINS: Final = {
    "text": _Domain(coerce_text, _NoNativeType),
    "country": _Domain(coerce_country, _NoNativeType),
    "number": _Domain(coerce_number, int),
    "bool": _Domain(coerce_bool, bool),
}


def clear_value_caches() -> None:
    """Forget every memoised string coercion (they are bounded anyway; for benchmarks)."""
    for domain in _DOMAINS.values():
        domain.cache.clear()


def list_items(value: Any) -> list[Any] | None:
    """A list-ish account value as its items: lists as they are, strings split on ``;``."""
    if type(value) is list:
        return value
    if isinstance(value, str):
        return value.split(";")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if value is None or isinstance(value, dict):
        return None
    return [value]


def is_known_value(value: Any) -> bool:
    """False for what §3.3 calls unknown: None, blank strings, empty (or all-blank) lists."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value) and not value.isspace()
    if isinstance(value, list | tuple | set | frozenset):
        return any(map(is_known_value, value))
    return True


# --- compiling one condition ------------------------------------------------------------------
# A predicate maps one raw field value to MATCHED, MISSED or UNKNOWN. Each starts with a fast path
# for the value types a typed account holds, then falls back to the domain's coercion.


def _domain_of(kind: str | None, values: list[Any]) -> _Domain:
    """How values of a field are compared: as numbers, booleans, countries or text."""
    if kind in NUMERIC_KINDS:
        return _DOMAINS["number"]
    if kind == "bool" or kind == "country":
        return _DOMAINS[kind]
    if kind == "attribute" and values:
        if all(isinstance(v, bool) for v in values):
            return _DOMAINS["bool"]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return _DOMAINS["number"]
    return _DOMAINS["text"]


def _compile_predicate(condition: Condition) -> Predicate:
    op, value = condition.op, condition.value
    if op in PRESENCE_OPS:
        return _presence(exists=op == "exists")
    if op in NUMERIC_OPS:
        if op == "between":
            return _between(float(value[0]), float(value[1]))
        return _comparison(_COMPARATORS[op], float(value))
    if op == "text_contains":
        return _text_contains(_text_key(value))
    values = list(value) if isinstance(value, list) else [value]
    domain = _domain_of(field_kind(condition.field), values)
    normalised = frozenset(map(domain.coerce, values)) - {None}
    if op in LIST_OPS:
        return _containment(domain, normalised, every=op == "contains_all")
    return _membership(domain, normalised, negate=op in ("neq", "not_in"))


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _presence(*, exists: bool) -> Predicate:
    present, absent = (MATCHED, MISSED) if exists else (MISSED, MATCHED)

    def predicate(value: Any) -> int:
        if value is None:
            return absent
        return present if is_known_value(value) else absent

    return predicate


def _comparison(compare: Callable[[Any, Any], bool], bound: float) -> Predicate:
    number_of = _DOMAINS["number"].coerce

    def predicate(value: Any) -> int:
        kind = type(value)
        if (kind is int or kind is float) and value == value:  # not NaN
            return MATCHED if compare(value, bound) else MISSED
        number = None if value is None else number_of(value)
        if number is None:
            return UNKNOWN
        return MATCHED if compare(number, bound) else MISSED

    return predicate


def _between(low: float, high: float) -> Predicate:
    number_of = _DOMAINS["number"].coerce

    def predicate(value: Any) -> int:
        kind = type(value)
        if (kind is int or kind is float) and value == value:  # not NaN
            return MATCHED if low <= value <= high else MISSED
        number = None if value is None else number_of(value)
        if number is None:
            return UNKNOWN
        return MATCHED if low <= number <= high else MISSED

    return predicate


def _text_contains(needle: str) -> Predicate:
    text_of = _DOMAINS["text"].coerce

    def predicate(value: Any) -> int:
        if isinstance(value, list | tuple):
            value = "; ".join(str(item) for item in value if item is not None)
        haystack = text_of(value)
        if not haystack:
            return UNKNOWN
        return MATCHED if needle in haystack else MISSED

    return predicate


def _containment(domain: _Domain, wanted: frozenset[Any], *, every: bool) -> Predicate:
    coerce = domain.coerce

    def evaluate(value: Any) -> int:
        items = list_items(value)
        if not items:
            return UNKNOWN
        present = set(map(coerce, items))
        present.discard(None)
        if not present:
            return UNKNOWN
        if every:
            return MATCHED if wanted <= present else MISSED
        return MISSED if wanted.isdisjoint(present) else MATCHED

    return _memoised_by_value(evaluate)


def _memoised_by_value(evaluate: Predicate) -> Predicate:
    """``evaluate`` with its verdict memoised per string or list value (lists as tuples).

    Lists such as a tech stack cost a set of coerced items each; the same stacks recur.
    """
    verdicts: dict[Any, int] = {}
    known = verdicts.get

    def predicate(value: Any) -> int:
        kind = type(value)
        if kind is not str and kind is not list:
            return UNKNOWN if value is None else evaluate(value)
        try:
            memo_key = value if kind is str else tuple(value)
            verdict = known(memo_key)
        except TypeError:  # an unhashable item
            return evaluate(value)
        if verdict is None:
            verdict = evaluate(value)
            if len(verdicts) >= _CACHE_LIMIT:
                verdicts.clear()
            verdicts[memo_key] = verdict
        return verdict

    return predicate


def _membership(domain: _Domain, accepted: frozenset[Any], *, negate: bool) -> Predicate:
    """eq/in (and, negated, neq/not_in); a list value matches when any of its items does."""
    hit, miss = (MISSED, MATCHED) if negate else (MATCHED, MISSED)
    coerce, cached, native = domain.coerce, domain.cached, domain.native

    def predicate(value: Any) -> int:
        kind = type(value)
        if kind is str:
            key = cached(value, _ABSENT)
            if key is _ABSENT:
                key = coerce(value)
        elif kind is native:
            key = value
        elif value is None:
            return UNKNOWN
        elif isinstance(value, list | tuple | set | frozenset):
            keys = set(map(coerce, value))
            keys.discard(None)
            if not keys:
                return UNKNOWN
            return miss if accepted.isdisjoint(keys) else hit
        else:
            key = coerce(value)
        if key is None:
            return UNKNOWN
        return hit if key in accepted else miss

    return predicate
