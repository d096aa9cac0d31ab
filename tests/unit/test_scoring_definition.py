"""The ICP definition: what is accepted, and every problem reported at once with its path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from app.scoring import CANONICAL_FIELDS, IcpDefinitionError, parse_definition

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "icp.yaml"


def minimal(**changes: Any) -> dict[str, Any]:
    """A valid one-criterion definition, with top-level keys replaced by ``changes``."""
    definition: dict[str, Any] = {
        "name": "Minimal",
        "criteria": [{"id": "us", "field": "country", "op": "eq", "value": "US", "weight": 10}],
    }
    definition.update(changes)
    return definition


def with_criterion(**criterion: Any) -> dict[str, Any]:
    """``minimal()`` plus one more criterion (weight 5 unless given)."""
    criterion.setdefault("id", "extra")
    criterion.setdefault("weight", 5)
    definition = minimal()
    definition["criteria"].append(criterion)
    return definition


def problems_of(source: Any, **kwargs: Any) -> list[dict[str, str]]:
    with pytest.raises(IcpDefinitionError) as caught:
        parse_definition(source, **kwargs)
    return caught.value.problems


def paths_of(source: Any, **kwargs: Any) -> list[str]:
    return [problem["path"] for problem in problems_of(source, **kwargs)]


# --- accepted -----------------------------------------------------------------------------------


def test_the_design_example_parses_from_yaml():
    definition = parse_definition(EXAMPLE.read_text(), content_type="application/yaml")
    assert definition.name == "US new media, post-Series A"
    assert [c.id for c in definition.criteria] == [
        "us_based",
        "new_media",
        "series_a_plus",
        "funded_3m",
        "inhouse_seo",
        "enterprise_cms",
        "tiny",
    ]
    assert definition.criteria[-1].weight == -20
    assert definition.exclusions[0].field == "attributes.is_competitor"
    assert (definition.tiers.A, definition.tiers.B, definition.tiers.C) == (80, 60, 40)
    assert definition.qualification is not None
    assert definition.qualification.sql is not None
    assert definition.qualification.sql.require[0].field == "open_deals"


def test_the_same_definition_parses_from_json_bytes_and_from_a_mapping():
    data = yaml.safe_load(EXAMPLE.read_text())
    from_yaml = parse_definition(EXAMPLE.read_bytes(), content_type="application/yaml")
    assert parse_definition(orjson.dumps(data)) == from_yaml
    assert parse_definition(json.dumps(data)) == from_yaml
    assert parse_definition(data) == from_yaml


def test_model_dump_round_trips_with_and_without_nones():
    definition = parse_definition(EXAMPLE.read_bytes(), content_type="application/yaml")
    assert parse_definition(definition.model_dump(mode="json")) == definition
    assert parse_definition(definition.model_dump(mode="json", exclude_none=True)) == definition


def test_tiers_exclusions_qualification_and_labels_are_optional():
    definition = parse_definition(minimal())
    assert (definition.tiers.A, definition.tiers.B, definition.tiers.C) == (80, 60, 40)
    assert definition.exclusions == []
    assert definition.qualification is None
    assert definition.criteria[0].label is None


def test_parsing_does_not_mutate_the_callers_mapping():
    data = minimal()
    snapshot = copy.deepcopy(data)
    parse_definition(data)
    assert data == snapshot


@pytest.mark.parametrize(
    "criterion",
    [
        {"field": "industry", "op": "neq", "value": "retail"},
        {"field": "industry", "op": "not_in", "value": ["retail", "banking"]},
        {"field": "employees", "op": "gt", "value": 10},
        {"field": "annual_revenue", "op": "lte", "value": 1.5e6},
        {"field": "founded_year", "op": "between", "value": [2000, 2020]},
        {"field": "employees", "op": "between", "value": [10, 10]},
        {"field": "tech_stack", "op": "contains_all", "value": ["react", "sitecore"]},
        {"field": "domain", "op": "exists"},
        {"field": "domain", "op": "missing", "value": None},
        {"field": "name", "op": "text_contains", "value": "media"},
        {"field": "is_customer", "op": "eq", "value": False},
        {"field": "attributes.plan", "op": "in", "value": ["gold", 3, True]},
        {"field": "attributes.seats", "op": "gte", "value": 50},
        {"field": "country", "op": "in", "value": ["United Kingdom", "usa", "DE"]},
        {"field": "employees", "op": "in", "value": [1, 2.5]},
    ],
)
def test_every_op_is_accepted_with_its_value_shape(criterion):
    parse_definition(with_criterion(**criterion))


def test_canonical_fields_cover_design_sections_3_1_and_8():
    assert set(CANONICAL_FIELDS) == {
        "external_id",
        "name",
        "domain",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "region",
        "city",
        "funding_stage",
        "total_funding",
        "founded_year",
        "tech_stack",
        "lifecycle_stage",
        "is_customer",
        "open_deals",
        "won_deals",
        "lost_deals",
        "won_amount",
        "last_won_at",
        "contacts",
        "lifetime_value",
        "nps",
        "attributes",
        "crm_updated_at",
        "archived",
    }
    assert set(CANONICAL_FIELDS.values()) <= {
        "str",
        "int",
        "float",
        "bool",
        "list",
        "datetime",
        "dict",
        "country",
    }
    assert CANONICAL_FIELDS["country"] == "country"
    assert CANONICAL_FIELDS["tech_stack"] == "list"


# --- refused, one problem at a time -----------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "path", "fragment"),
    [
        (minimal(name=""), "name", "must not be empty"),
        (minimal(name="   "), "name", "must not be empty"),
        ({"criteria": minimal()["criteria"]}, "name", "required"),
        (minimal(criteria=[]), "criteria", "at least one criterion"),
        ({"name": "x"}, "criteria", "required"),
        (with_criterion(id="Bad-Id", field="city", op="exists"), "criteria[1].id", "[a-z0-9_]+"),
        (with_criterion(id="us", field="city", op="exists"), "criteria[1].id", "already used"),
        (with_criterion(field="city", op="exists", weight=0), "criteria[1].weight", "zero"),
        (with_criterion(field="city", op="exists", weight=1.5), "criteria[1].weight", "integer"),
        (with_criterion(field="city", op="exists", weight=True), "criteria[1].weight", "integer"),
        (with_criterion(field="city", op="equals", value="x"), "criteria[1].op", "unknown op"),
        (with_criterion(field="colour", op="exists"), "criteria[1].field", "unknown field"),
        (with_criterion(field="attributes", op="exists"), "criteria[1].field", "attributes.<"),
        (with_criterion(field="attributes.", op="exists"), "criteria[1].field", "attributes.<"),
        (with_criterion(field="city", op="exists", colour=1), "criteria[1].colour", "Extra"),
        (with_criterion(field="city", op="exists", value="x"), "criteria[1].value", "no value"),
        (with_criterion(field="city", op="missing", value=[]), "criteria[1].value", "no value"),
        (with_criterion(field="city", op="eq"), "criteria[1].value", "needs a value"),
        (with_criterion(field="city", op="eq", value=["a"]), "criteria[1].value", "single"),
        (with_criterion(field="city", op="eq", value=" "), "criteria[1].value", "single"),
        (with_criterion(field="city", op="in", value=[]), "criteria[1].value", "non-empty list"),
        (with_criterion(field="city", op="in", value="a"), "criteria[1].value", "non-empty list"),
        (with_criterion(field="city", op="in", value=[["a"]]), "criteria[1].value", "list of"),
        (
            with_criterion(field="tech_stack", op="contains_any", value=[]),
            "criteria[1].value",
            "non-empty list",
        ),
        (
            with_criterion(field="tech_stack", op="contains_all", value="react"),
            "criteria[1].value",
            "non-empty list",
        ),
        (with_criterion(field="employees", op="gt", value="10"), "criteria[1].value", "number"),
        (with_criterion(field="employees", op="lt", value=True), "criteria[1].value", "number"),
        (
            with_criterion(field="employees", op="between", value=[1]),
            "criteria[1].value",
            "[lo, hi]",
        ),
        (
            with_criterion(field="employees", op="between", value=[1, "9"]),
            "criteria[1].value",
            "[lo, hi]",
        ),
        (
            with_criterion(field="employees", op="between", value=[9, 1]),
            "criteria[1].value",
            "lo <= hi",
        ),
        (with_criterion(field="industry", op="gte", value=3), "criteria[1].op", "not numeric"),
        (with_criterion(field="tech_stack", op="lt", value=3), "criteria[1].op", "not numeric"),
        (with_criterion(field="crm_updated_at", op="gt", value=3), "criteria[1].op", "not numeric"),
        (with_criterion(field="name", op="text_contains", value=""), "criteria[1].value", "string"),
        (with_criterion(field="name", op="text_contains", value=3), "criteria[1].value", "string"),
        (with_criterion(field="employees", op="eq", value="ten"), "criteria[1].value", "numbers"),
        (
            with_criterion(field="is_customer", op="eq", value="maybe"),
            "criteria[1].value",
            "boolean",
        ),
        (
            with_criterion(field="country", op="in", value=["Atlantis"]),
            "criteria[1].value",
            "unknown country",
        ),
        (
            with_criterion(field="country", op="in", value=["SE", False]),
            "criteria[1].value",
            "quote NO",
        ),
        (with_criterion(field="industry", op="eq", value=True), "criteria[1].value", "strings"),
        (
            minimal(criteria=[{"id": "x", "field": "city", "op": "exists", "weight": -5}]),
            "criteria",
            "positive weight",
        ),
        (minimal(tiers={"A": 60, "B": 60, "C": 40}), "tiers", "strictly decrease"),
        (minimal(tiers={"A": 80, "B": 30, "C": 40}), "tiers", "strictly decrease"),
        (minimal(tiers={"A": 30}), "tiers", "strictly decrease"),
        (minimal(tiers={"A": 101, "B": 60, "C": 40}), "tiers.A", "0..100"),
        (minimal(tiers={"A": 80, "B": 60, "C": -1}), "tiers.C", "0..100"),
        (minimal(tiers={"A": 80, "B": 60, "D": 10}), "tiers.D", "Extra"),
        (
            minimal(qualification={"mql": {"min_score": 101}}),
            "qualification.mql.min_score",
            "0..100",
        ),
        (
            minimal(qualification={"mql": {"min_score": 10}, "sql": {"min_score": -5}}),
            "qualification.sql.min_score",
            "0..100",
        ),
        (minimal(qualification={"sql": {"min_score": 80}}), "qualification.mql", "required"),
        (
            minimal(
                qualification={"mql": {"min_score": 60, "require": [{"field": "nps", "op": "gt"}]}}
            ),
            "qualification.mql.require[0].value",
            "needs a value",
        ),
        (
            minimal(
                qualification={
                    "mql": {"min_score": 60, "require": [{"field": "x", "op": "exists"}]}
                }
            ),
            "qualification.mql.require[0].field",
            "unknown field",
        ),
        (
            minimal(
                exclusions=[{"id": "us", "field": "name", "op": "text_contains", "value": "x"}]
            ),
            "exclusions[0].id",
            "already used",
        ),
        (
            minimal(exclusions=[{"id": "e", "field": "name", "op": "exists", "weight": 5}]),
            "exclusions[0].weight",
            "Extra",
        ),
        (minimal(colour="blue"), "colour", "Extra"),
    ],
)
def test_each_invalid_definition_names_the_path_and_the_problem(definition, path, fragment):
    problems = problems_of(definition)
    assert any(p["path"] == path and fragment in p["message"] for p in problems), problems


def test_every_problem_is_listed_not_just_the_first():
    definition = {
        "name": "",
        "criteria": [
            {"id": "ok", "field": "country", "op": "in", "value": ["US"], "weight": 10},
            {"id": "ok", "field": "colour", "op": "eq", "value": "red", "weight": 0},
            {"id": "b", "field": "employees", "op": "between", "value": [9, 1], "weight": "x"},
            {"id": "c", "field": "industry", "op": "nearly", "value": "media", "weight": 5},
        ],
        "exclusions": [{"id": "Bad", "field": "name", "op": "exists"}],
        "tiers": {"A": 50, "B": 60, "C": 40},
        "qualification": {"mql": {"min_score": 200}},
    }
    assert paths_of(definition) == [
        "name",
        "criteria[1].field",
        "criteria[1].id",
        "criteria[1].weight",
        "criteria[2].value",
        "criteria[2].weight",
        "criteria[3].op",
        "exclusions[0].id",
        "tiers",
        "qualification.mql.min_score",
    ]


def test_problems_are_ordered_by_position_not_alphabetically():
    criteria = [
        {"id": f"c{i}", "field": "city", "op": "exists", "weight": 0 if i in (2, 10) else 1}
        for i in range(12)
    ]
    assert paths_of(minimal(criteria=criteria)) == ["criteria[2].weight", "criteria[10].weight"]


def test_the_error_message_summarises_the_problems():
    with pytest.raises(IcpDefinitionError, match=r"name: name must not be empty"):
        parse_definition(minimal(name=""))


def test_a_definition_that_is_not_a_mapping_is_refused():
    assert problems_of("- a\n- b\n", content_type="application/yaml") == [
        {"path": "", "message": "the definition must be a mapping (an object)"}
    ]
    assert paths_of(b"[1, 2]") == [""]


# --- syntax errors ----------------------------------------------------------------------------


def test_a_yaml_syntax_error_is_a_definition_error_with_line_and_column():
    source = "name: broken\ncriteria:\n  - {id: a, field: city, op: exists\n"
    [problem] = problems_of(source, content_type="application/yaml")
    assert problem["path"] == ""
    assert problem["message"].startswith("invalid YAML: ")
    assert "line 4, column 1" in problem["message"]


def test_a_json_syntax_error_is_a_definition_error_with_line_and_column():
    [problem] = problems_of('{\n  "name": "x",\n  "criteria": [,]\n}')
    assert problem["path"] == ""
    assert problem["message"].startswith("invalid JSON: ")
    assert "line 3" in problem["message"]


def test_yaml_duplicate_keys_are_refused_rather_than_silently_overwritten():
    source = "name: a\nname: b\ncriteria: []\n"
    [problem] = problems_of(source, content_type="application/yaml")
    assert "duplicate key 'name'" in problem["message"]
    assert "line 2" in problem["message"]


def test_yaml_reads_a_bare_no_as_false_so_country_lists_must_be_quoted():
    source = (
        "name: Nordics\ncriteria:\n"
        "  - {id: nordic, field: country, op: in, value: [SE, NO, DK], weight: 10}\n"
    )
    problems = problems_of(source, content_type="application/yaml")
    assert problems[0]["path"] == "criteria[0].value"
    assert "quote NO" in problems[0]["message"]
    quoted = source.replace("NO,", "'NO',")
    assert parse_definition(quoted, content_type="application/yaml").criteria[0].value == [
        "SE",
        "NO",
        "DK",
    ]


def test_invalid_utf8_json_is_a_definition_error():
    assert paths_of(b'{"name": "\xff"}') == [""]


def test_the_model_forbids_extra_keys_everywhere():
    definition = parse_definition(EXAMPLE.read_bytes(), content_type="application/yaml")
    assert definition.qualification is not None
    for part in (
        definition,
        definition.criteria[0],
        definition.exclusions[0],
        definition.tiers,
        definition.qualification,
        definition.qualification.mql,
    ):
        assert part.model_config.get("extra") == "forbid"


PERSONA_ICP = {
    "name": "With personas",
    "personas": [
        {
            "id": "economic_buyer",
            "label": "Economic buyer",
            "seniority": ["c_level", "vp"],
            "functions": ["marketing", "executive"],
        },
        {"id": "seo_champion", "title_keywords": ["seo", "organic search"]},
    ],
    "criteria": [
        {"id": "buyer", "field": "personas.economic_buyer", "op": "gte", "value": 1, "weight": 15},
        {"id": "won", "field": "won_deals", "op": "gte", "value": 1, "weight": 10},
    ],
    "qualification": {
        "mql": {"min_score": 10},
        "sql": {
            "min_score": 20,
            "require": [{"field": "personas.seo_champion", "op": "gte", "value": 1}],
        },
    },
}


def test_personas_and_deal_roll_ups_are_fields_a_criterion_can_use():
    definition = parse_definition(PERSONA_ICP)

    assert [p.id for p in definition.personas] == ["economic_buyer", "seo_champion"]
    assert definition.personas[0].seniority == ["c_level", "vp"]
    assert definition.criteria[0].field == "personas.economic_buyer"


def test_persona_mistakes_are_each_reported_with_their_path():
    broken = {
        **PERSONA_ICP,
        "personas": [
            {"id": "economic_buyer", "seniority": ["boss"]},
            {"id": "economic_buyer", "functions": ["marketing"]},
            {"id": "nobody"},
            {"id": "blank", "title_keywords": ["--"]},
        ],
        "criteria": [
            {"id": "x", "field": "personas.ghost", "op": "gte", "value": 1, "weight": 5},
            {
                "id": "y",
                "field": "personas.economic_buyer",
                "op": "eq",
                "value": "many",
                "weight": 5,
            },
        ],
    }

    with pytest.raises(IcpDefinitionError) as error:
        parse_definition(broken)

    problems = {(p["path"], p["message"].split(":")[0]) for p in error.value.problems}
    paths = {path for path, _ in problems}
    assert "personas[0].seniority[0]" in paths
    assert ("personas[1].id", "id 'economic_buyer' is already used by personas[0]") in problems
    assert ("personas[2]", "a persona needs seniority, functions or title_keywords") in problems
    assert "personas[3].title_keywords[0]" in paths
    assert ("criteria[0].field", "unknown persona 'ghost'") in problems
    assert "criteria[1].value" in paths


def test_an_exported_definition_lists_personas_between_description_and_criteria():
    from app.scoring import ordered_definition

    exported = ordered_definition(
        {"criteria": [], "personas": [{"title_keywords": ["seo"], "id": "s"}], "name": "n"}
    )

    assert list(exported) == ["name", "personas", "criteria"]
    assert list(exported["personas"][0]) == ["id", "title_keywords"]
