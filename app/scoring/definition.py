"""The ICP definition (ICP-as-code): its schema, its parsing from YAML or JSON, its validation.

Validation reports every problem at once, each with a path such as ``criteria[2].weight``:
pydantic checks shapes and types, then :func:`_semantic_problems` checks what pydantic cannot
(value shape per op, known fields, unique ids, tier order) on the raw data, so that a broken
criterion does not hide the problems of the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, get_args

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from connectors.normalize import to_bool, to_country

CANONICAL_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "external_id": "str",
        "name": "str",
        "domain": "str",
        "industry": "str",
        "employees": "int",
        "annual_revenue": "float",
        "country": "country",
        "region": "str",
        "city": "str",
        "funding_stage": "str",
        "total_funding": "float",
        "founded_year": "int",
        "tech_stack": "list",
        "lifecycle_stage": "str",
        "is_customer": "bool",
        "open_deals": "int",
        # Roll-ups of the account's synced deals and contacts (DESIGN §8).
        "won_deals": "int",
        "lost_deals": "int",
        "won_amount": "float",
        "last_won_at": "datetime",
        "contacts": "int",
        "lifetime_value": "float",
        "nps": "int",
        "attributes": "dict",
        "crm_updated_at": "datetime",
        "archived": "bool",
    }
)
ATTRIBUTE_PREFIX: Final = "attributes."
PERSONA_PREFIX: Final = "personas."
# The canonical fields rolled up from synced deals, and from synced contacts (with
# ``personas.<id>``), DESIGN §8.
DEAL_ROLLUP_FIELDS: Final = frozenset(
    {"won_deals", "lost_deals", "open_deals", "won_amount", "last_won_at"}
)
CONTACT_ROLLUP_FIELDS: Final = frozenset({"contacts"})


def reads_rollups(fields: frozenset[str] | set[str]) -> tuple[bool, bool]:
    """Whether fields an ICP reads include deal roll-ups, and contact roll-ups (personas)."""
    deals = not fields.isdisjoint(DEAL_ROLLUP_FIELDS)
    people = not fields.isdisjoint(CONTACT_ROLLUP_FIELDS) or any(
        f.startswith(PERSONA_PREFIX) for f in fields
    )
    return deals, people


Op = Literal[
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains_any",
    "contains_all",
    "exists",
    "missing",
    "text_contains",
]
OPS: Final[tuple[str, ...]] = get_args(Op)
SCALAR_OPS: Final = frozenset({"eq", "neq"})
SET_OPS: Final = frozenset({"in", "not_in"})
NUMERIC_OPS: Final = frozenset({"gt", "gte", "lt", "lte", "between"})
LIST_OPS: Final = frozenset({"contains_any", "contains_all"})
PRESENCE_OPS: Final = frozenset({"exists", "missing"})
NUMERIC_KINDS: Final = frozenset({"int", "float"})

_ID = re.compile(r"^[a-z0-9_]+$")
_WORDS = re.compile(r"\w")
_TOP_LEVEL_ORDER = (
    "name",
    "description",
    "personas",
    "criteria",
    "exclusions",
    "tiers",
    "qualification",
)

StrictInt = Annotated[int, Strict()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """A test on one account field: ``{field, op, value}``."""

    field: str
    op: Op
    value: Any = None


Seniority = Literal["c_level", "vp", "director", "manager", "individual"]
Function = Literal[
    "executive",
    "engineering",
    "it",
    "product",
    "design",
    "data",
    "marketing",
    "sales",
    "customer_success",
    "finance",
    "operations",
    "hr",
    "legal",
    "other",
]


class Persona(_Model):
    """A buyer persona: the people an account should have (DESIGN §8). A contact matches when
    every condition given holds; ``personas.<id>`` counts an account's matching contacts."""

    id: str
    label: str | None = None
    seniority: list[Seniority] | None = Field(default=None, min_length=1)
    functions: list[Function] | None = Field(default=None, min_length=1)
    title_keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1
    )


class Criterion(Condition):
    """A weighted criterion; a negative weight is an anti-fit signal."""

    id: str
    label: str | None = None
    weight: StrictInt


class Exclusion(Condition):
    """A condition that, when matched, rules the account out whatever its score."""

    id: str
    label: str | None = None


class Tiers(_Model):
    """Score thresholds, strictly decreasing; below C is D."""

    A: StrictInt = 80
    B: StrictInt = 60
    C: StrictInt = 40


class QualificationRule(_Model):
    """A minimum score plus conditions that must all match."""

    min_score: StrictInt
    require: list[Condition] = Field(default_factory=list)


class Qualification(_Model):
    """MQL and (optionally) SQL rules; SQL implies MQL."""

    mql: QualificationRule
    sql: QualificationRule | None = None


class IcpDefinition(_Model):
    """A whole ICP definition, as written in YAML or JSON (DESIGN §3.2)."""

    name: str
    description: str | None = None
    personas: list[Persona] = Field(default_factory=list)
    criteria: list[Criterion]
    exclusions: list[Exclusion] = Field(default_factory=list)
    tiers: Tiers = Field(default_factory=Tiers)
    qualification: Qualification | None = None


class IcpDefinitionError(Exception):
    """The definition is invalid; ``problems`` lists every problem as ``{path, message}``."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        summary = "; ".join(f"{p['path'] or '<root>'}: {p['message']}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"invalid ICP definition: {summary}{more}")


def parse_definition(
    source: str | bytes | Mapping[str, Any], *, content_type: str = "application/json"
) -> IcpDefinition:
    """Parse and validate a definition from YAML/JSON text or an already-parsed mapping."""
    data = source if isinstance(source, Mapping) else _load(source, content_type)
    if not isinstance(data, Mapping):
        raise IcpDefinitionError(
            [{"path": "", "message": "the definition must be a mapping (an object)"}]
        )
    problems: list[dict[str, str]] = []
    definition: IcpDefinition | None = None
    try:
        definition = IcpDefinition.model_validate(dict(data))
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))
    problems.extend(_semantic_problems(data))
    if problems:
        raise IcpDefinitionError(_dedupe_sorted(problems))
    assert definition is not None
    return definition


# The order an exported definition lists its keys in: what a reader looks for first, and the
# same every time, so ICP files diff cleanly in git.
_KEY_ORDER: dict[str, tuple[str, ...]] = {
    "definition": _TOP_LEVEL_ORDER,
    "persona": ("id", "label", "seniority", "functions", "title_keywords"),
    "criterion": ("id", "label", "field", "op", "value", "weight"),
    "condition": ("field", "op", "value"),
    "tiers": ("A", "B", "C"),
    "qualification": ("mql", "sql"),
    "rule": ("min_score", "require"),
}


def _ordered(mapping: Mapping[str, Any], kind: str) -> dict[str, Any]:
    order = _KEY_ORDER[kind]
    rank = {key: n for n, key in enumerate(order)}
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: (rank.get(k, len(order)), k))}


def ordered_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A stored definition with its keys in a stable, human order (name, description,
    criteria as id/label/field/op/value/weight, exclusions, tiers, qualification)."""
    out = _ordered(definition, "definition")
    if isinstance(out.get("personas"), list):
        out["personas"] = [_ordered(item, "persona") for item in out["personas"]]
    for section in ("criteria", "exclusions"):
        if isinstance(out.get(section), list):
            out[section] = [_ordered(item, "criterion") for item in out[section]]
    if isinstance(out.get("tiers"), Mapping):
        out["tiers"] = _ordered(out["tiers"], "tiers")
    if isinstance(out.get("qualification"), Mapping):
        qualification = _ordered(out["qualification"], "qualification")
        for name, rule in qualification.items():
            if isinstance(rule, Mapping):
                rule = _ordered(rule, "rule")
                if isinstance(rule.get("require"), list):
                    rule["require"] = [_ordered(c, "condition") for c in rule["require"]]
                qualification[name] = rule
        out["qualification"] = qualification
    return out


def field_kind(field: str) -> str | None:
    """The kind of a canonical field, ``"attribute"`` for ``attributes.<name>``, ``"int"`` for a
    persona count ``personas.<id>``, else None."""
    if field.startswith(ATTRIBUTE_PREFIX) and len(field) > len(ATTRIBUTE_PREFIX):
        return "attribute"
    if field.startswith(PERSONA_PREFIX) and len(field) > len(PERSONA_PREFIX):
        return "int"
    return CANONICAL_FIELDS.get(field)


# --- parsing ----------------------------------------------------------------------------------


# An ICP file is a few levels deep; PyYAML composes nodes recursively, so a hostile document
# nested a thousand levels would otherwise cost seconds and end in a RecursionError.
MAX_YAML_DEPTH = 32


class _StrictYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one, keys
    that are not plain values, and nesting deeper than MAX_YAML_DEPTH."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose as SafeLoader does, refusing documents nested too deep."""
        if self._depth >= MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"nested deeper than {MAX_YAML_DEPTH} levels",
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping as SafeLoader does, refusing duplicate and non-scalar keys."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool | None):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"a key must be a plain value, not a {type(key).__name__}",
                    key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load(source: str | bytes, content_type: str) -> Any:
    if "yaml" in content_type.lower():
        try:
            return yaml.load(source, Loader=_StrictYamlLoader)
        except yaml.YAMLError as exc:
            raise IcpDefinitionError([{"path": "", "message": _yaml_message(exc)}]) from exc
    try:
        return orjson.loads(source)
    except orjson.JSONDecodeError as exc:
        raise IcpDefinitionError([{"path": "", "message": f"invalid JSON: {exc}"}]) from exc


def _yaml_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        what = exc.problem or exc.context or "syntax error"
        return f"invalid YAML: {what} at line {mark.line + 1}, column {mark.column + 1}"
    return f"invalid YAML: {exc}"


# --- problems ---------------------------------------------------------------------------------


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _pydantic_problems(exc: ValidationError) -> Iterator[dict[str, str]]:
    for error in exc.errors(include_url=False):
        message = error["msg"]
        if error["type"] == "literal_error" and error["loc"][-1:] == ("op",):
            message = f"unknown op {error['input']!r}; use one of: {', '.join(OPS)}"
        yield {"path": _path(error["loc"]), "message": message}


def _path_key(problem: dict[str, str]) -> tuple[tuple[int, int, str], ...]:
    key: list[tuple[int, int, str]] = []
    for token in re.findall(r"[^.\[\]]+", problem["path"]):
        if token.isascii() and token.isdigit():  # not "²": int() refuses it
            key.append((1, int(token), ""))
        elif not key and token in _TOP_LEVEL_ORDER:
            key.append((0, _TOP_LEVEL_ORDER.index(token), ""))
        else:
            key.append((2, 0, token))
    return tuple(key)


def _dedupe_sorted(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    unique = {(p["path"], p["message"]): p for p in problems}
    return sorted(unique.values(), key=_path_key)


def _semantic_problems(data: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """What pydantic's types cannot say; each check skips values whose type pydantic refuses."""
    name = data.get("name")
    if isinstance(name, str) and not name.strip():
        yield {"path": "name", "message": "name must not be empty"}

    personas = set(_persona_ids(data.get("personas")))
    yield from _persona_problems(data.get("personas"))

    criteria = data.get("criteria")
    if isinstance(criteria, list) and not criteria:
        yield {"path": "criteria", "message": "at least one criterion is needed"}
    ids: dict[str, str] = {}
    weights: list[int] = []
    for section in ("criteria", "exclusions"):
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            path = f"{section}[{index}]"
            if not isinstance(item, Mapping):
                continue
            yield from _id_problems(item.get("id"), path, ids)
            yield from _condition_problems(item, path, personas)
            weight = item.get("weight")
            if section == "criteria" and type(weight) is int:
                weights.append(weight)
                if weight == 0:
                    yield {"path": f"{path}.weight", "message": "weight must not be zero"}
    if weights and not any(w > 0 for w in weights):
        yield {"path": "criteria", "message": "at least one criterion needs a positive weight"}

    tiers = data.get("tiers")
    if isinstance(tiers, Mapping):
        yield from _tier_problems(tiers)

    qualification = data.get("qualification")
    if isinstance(qualification, Mapping):
        for level in ("mql", "sql"):
            rule = qualification.get(level)
            if not isinstance(rule, Mapping):
                continue
            path = f"qualification.{level}"
            min_score = rule.get("min_score")
            if type(min_score) is int and not 0 <= min_score <= 100:
                yield {"path": f"{path}.min_score", "message": "min_score must be within 0..100"}
            require = rule.get("require")
            if isinstance(require, list):
                for index, condition in enumerate(require):
                    if isinstance(condition, Mapping):
                        yield from _condition_problems(
                            condition, f"{path}.require[{index}]", personas
                        )


def _persona_ids(personas: Any) -> Iterator[str]:
    if isinstance(personas, list):
        for persona in personas:
            if isinstance(persona, Mapping) and isinstance(persona.get("id"), str):
                yield persona["id"]


def _persona_problems(personas: Any) -> Iterator[dict[str, str]]:
    """Unique ids, and at least one condition per persona (one without would match everyone)."""
    if not isinstance(personas, list):
        return
    ids: dict[str, str] = {}
    for index, persona in enumerate(personas):
        path = f"personas[{index}]"
        if not isinstance(persona, Mapping):
            continue
        yield from _id_problems(persona.get("id"), path, ids)
        if not any(persona.get(key) for key in ("seniority", "functions", "title_keywords")):
            yield {
                "path": path,
                "message": "a persona needs seniority, functions or title_keywords",
            }
        keywords = persona.get("title_keywords")
        if isinstance(keywords, list):
            for position, keyword in enumerate(keywords):
                if isinstance(keyword, str) and not _WORDS.search(keyword):
                    yield {
                        "path": f"{path}.title_keywords[{position}]",
                        "message": "a title keyword needs a letter or a digit",
                    }


def _id_problems(value: Any, path: str, ids: dict[str, str]) -> Iterator[dict[str, str]]:
    if not isinstance(value, str):
        return
    if not _ID.match(value):
        yield {"path": f"{path}.id", "message": f"id {value!r} must match [a-z0-9_]+"}
    elif value in ids:
        yield {"path": f"{path}.id", "message": f"id {value!r} is already used by {ids[value]}"}
    else:
        ids[value] = path


def _tier_problems(tiers: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    defaults = Tiers()
    thresholds: list[tuple[str, int]] = []
    for tier in ("A", "B", "C"):
        threshold = tiers.get(tier, getattr(defaults, tier))
        if type(threshold) is not int:
            return
        if not 0 <= threshold <= 100:
            yield {"path": f"tiers.{tier}", "message": "a tier threshold must be within 0..100"}
        thresholds.append((tier, threshold))
    for (upper, high), (lower, low) in pairwise(thresholds):
        if not high > low:
            yield {
                "path": "tiers",
                "message": f"thresholds must strictly decrease: {upper} ({high}) > {lower} ({low})",
            }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float)  # bool is an int


def _condition_problems(
    item: Mapping[str, Any], path: str, personas: set[str]
) -> Iterator[dict[str, str]]:
    field, op, value = item.get("field"), item.get("op"), item.get("value")
    kind: str | None = None
    if isinstance(field, str):
        kind = field_kind(field)
        if field == "attributes" or field == ATTRIBUTE_PREFIX:
            yield {"path": f"{path}.field", "message": "name the attribute: attributes.<name>"}
        elif field.startswith(PERSONA_PREFIX) and field[len(PERSONA_PREFIX) :] not in personas:
            yield {
                "path": f"{path}.field",
                "message": f"unknown persona {field[len(PERSONA_PREFIX) :]!r}: define it under "
                "personas",
            }
        elif kind is None:
            yield {
                "path": f"{path}.field",
                "message": f"unknown field {field!r}: use a canonical field or attributes.<name>",
            }
    if not isinstance(op, str) or op not in OPS:
        return  # pydantic reports the op; the value shape depends on it
    where = f"{path}.value"
    if op in PRESENCE_OPS:
        if value is not None:
            yield {"path": where, "message": f"{op} takes no value"}
        return
    if value is None:
        yield {"path": where, "message": f"{op} needs a value"}
        return
    if op in NUMERIC_OPS:
        if kind is not None and kind not in NUMERIC_KINDS and kind != "attribute":
            yield {
                "path": f"{path}.op",
                "message": f"{op} compares numbers but {field} is not numeric ({kind})",
            }
        if op == "between":
            if not (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))):
                yield {"path": where, "message": "between needs [lo, hi], two numbers"}
            elif value[0] > value[1]:
                yield {"path": where, "message": f"between needs lo <= hi, got {value}"}
        elif not _is_number(value):
            yield {"path": where, "message": f"{op} needs a number"}
        return
    if op == "text_contains":
        if not isinstance(value, str) or not value.strip():
            yield {"path": where, "message": "text_contains needs a non-empty string"}
        return
    if op in SCALAR_OPS:
        if not _is_scalar(value):
            message = f"{op} needs a single value (non-empty string, number or bool)"
            yield {"path": where, "message": message}
            return
        values = [value]
    else:  # in, not_in, contains_any, contains_all
        if not isinstance(value, list) or not value:
            yield {"path": where, "message": f"{op} needs a non-empty list"}
            return
        if not all(map(_is_scalar, value)):
            message = f"{op} needs a list of non-empty strings, numbers or bools"
            yield {"path": where, "message": message}
            return
        values = value
    if kind is not None:
        yield from _value_kind_problems(kind, field, values, where)


def _value_kind_problems(
    kind: str, field: Any, values: list[Any], where: str
) -> Iterator[dict[str, str]]:
    if kind in NUMERIC_KINDS and not all(map(_is_number, values)):
        yield {"path": where, "message": f"{field} is numeric: compare it with numbers"}
    elif kind == "bool" and not all(_is_boolish(v) for v in values):
        yield {"path": where, "message": f"{field} is a boolean: compare it with true or false"}
    elif kind == "country":
        for value in values:
            if not isinstance(value, str):
                # YAML 1.1 reads a bare NO (Norway) as false.
                message = f"country {value!r} must be a string (in YAML, quote NO for Norway)"
                yield {"path": where, "message": message}
            elif not _is_country(value):
                yield {"path": where, "message": f"unknown country {value!r}"}
    elif kind in {"str", "list", "datetime"} and any(isinstance(v, bool) for v in values):
        yield {"path": where, "message": f"{field} holds text: compare it with strings"}


def _is_boolish(value: Any) -> bool:
    try:
        return to_bool(value) is not None
    except ValueError:
        return False


def _is_country(value: str) -> bool:
    # Known names and aliases resolve to two letters; unknown text comes back as it was.
    code = to_country(value)
    return code is not None and len(code) == 2 and code.isascii() and code.isalpha()
