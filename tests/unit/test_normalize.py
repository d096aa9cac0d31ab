"""Value normalisation at the CRM edge: what CRMs send, and what we make of it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.normalize import norm_enum, to_bool, to_country, to_float, to_int, to_str_list


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (42, 42),
        (42.0, 42),
        ("42", 42),
        (" 42 ", 42),
        ("1,200", 1200),
        ("-7", -7),
        ("+7", 7),
        ("1e3", 1000),
        ("42.0", 42),
        ("9223372036854775807", 2**63 - 1),
        (Decimal("12"), 12),
    ],
)
def test_to_int_reads_numbers_and_numeric_strings(raw, expected):
    assert to_int(raw) == expected
    assert type(to_int(raw)) is int


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_to_int_maps_nothing_to_none(raw):
    assert to_int(raw) is None


@pytest.mark.parametrize("raw", ["abc", "12 staff", True, False, 3.5, "3.5", [1], float("nan")])
def test_to_int_refuses_garbage_booleans_and_fractions(raw):
    with pytest.raises(ValueError, match="expected a"):
        to_int(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, 3.0),
        (3.25, 3.25),
        ("3.5e6", 3_500_000.0),
        ("1,200", 1200.0),
        ("1,234,567.89", 1_234_567.89),
        (" 42 ", 42.0),
        ("-0.5", -0.5),
        (Decimal("2.5"), 2.5),
    ],
)
def test_to_float_reads_numbers_and_numeric_strings(raw, expected):
    assert to_float(raw) == expected
    assert type(to_float(raw)) is float


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_to_float_maps_nothing_to_none(raw):
    assert to_float(raw) is None


@pytest.mark.parametrize(
    "raw", ["n/a", "$3M", True, "inf", "nan", float("inf"), {"a": 1}, ["1"], "1.2.3"]
)
def test_to_float_refuses_garbage_booleans_and_non_finite_values(raw):
    with pytest.raises(ValueError, match="expected a"):
        to_float(raw)


def test_to_float_error_names_the_value():
    with pytest.raises(ValueError, match="'lots'"):
        to_float("lots")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("TRUE", True),
        (" True ", True),
        ("yes", True),
        ("Yes", True),
        ("1", True),
        (1, True),
        ("false", False),
        ("False", False),
        ("no", False),
        ("NO", False),
        ("0", False),
        (0, False),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_to_bool_reads_crm_spellings(raw, expected):
    assert to_bool(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", 2, 1.0, [True]])
def test_to_bool_refuses_garbage(raw):
    with pytest.raises(ValueError, match="expected a boolean"):
        to_bool(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("US", "US"),
        ("us", "US"),
        (" us ", "US"),
        ("USA", "US"),
        ("usa", "US"),
        ("United States", "US"),
        ("united states", "US"),
        ("United States of America", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("GB", "GB"),
        ("GBR", "GB"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("Great Britain", "GB"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("DEU", "DE"),
        ("France", "FR"),
        ("French Republic", "FR"),  # official name
        ("South Korea", "KR"),  # common name
        ("Czechia", "CZ"),
        ("Russia", "RU"),
        ("The Netherlands", "NL"),
        (840, "US"),  # ISO numeric code
    ],
)
def test_to_country_reads_names_codes_and_common_aliases(raw, expected):
    assert to_country(raw) == expected


def test_to_country_returns_unknown_values_trimmed_and_upper_cased():
    assert to_country("  Atlantis ") == "ATLANTIS"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_to_country_maps_nothing_to_none(raw):
    assert to_country(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a;b;c", ["a", "b", "c"]),
        (" Sitecore ; WordPress ;; ", ["Sitecore", "WordPress"]),
        (["Sitecore", " React ", "", None], ["Sitecore", "React"]),
        (("a", "b"), ["a", "b"]),
        ({"b", "a"}, ["a", "b"]),
        ("single", ["single"]),
        (7, ["7"]),
        ("", None),
        (";;", None),
        ([], None),
        (None, None),
    ],
)
def test_to_str_list_splits_on_semicolons_trims_and_drops_empties(raw, expected):
    assert to_str_list(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Online Media ", "online media"), ("SERIES_A", "series_a"), ("Straße", "strasse")],
)
def test_norm_enum_trims_and_casefolds(raw, expected):
    assert norm_enum(raw) == expected


@pytest.mark.parametrize(
    "raw", ["9223372036854775808", "-9223372036854775809", "9" * 5000, 2**70, 1e30]
)
def test_to_int_refuses_whole_numbers_beyond_64_bits(raw):
    """JSON storage carries 64 bits; no CRM count comes near it; 5,000 digits cost no time."""
    with pytest.raises(ValueError, match="64 bits"):
        to_int(raw)


def test_without_nul_strips_nul_from_every_string_in_lists_and_mappings():
    from connectors.normalize import without_nul

    assert without_nul({"a\x00": ["x\x00y", 3, {"k": "\x00"}], "b": None}) == {
        "a": ["xy", 3, {"k": ""}],
        "b": None,
    }
    clean = "no nul here"
    assert without_nul(clean) is clean
    flat = {"name": "Acme", "employees": 12, "customer": True, "revenue": 1.5, "region": None}
    assert without_nul(flat) is flat
    assert without_nul({"name": "Ac\x00me", "employees": 12}) == {"name": "Acme", "employees": 12}
    assert without_nul({"tags": ["a\x00"], "n": 1}) == {"tags": ["a"], "n": 1}


def test_without_nul_returns_a_nested_record_holding_no_nul_as_it_is():
    """A Salesforce row nests ``attributes`` and related records: with no NUL anywhere it
    comes back untouched (nothing rebuilt); a NUL at any depth is still found."""
    from connectors.normalize import without_nul

    row = {
        "Id": "006A",
        "attributes": {"type": "Opportunity", "url": "/services/data/v59.0/x"},
        "Amount": 1200.0,
        "OpportunityContactRoles": {"totalSize": 1, "records": [{"Role": "Decision Maker"}]},
        "Tags": ["a", 1, None, True],
    }
    assert without_nul(row) is row
    deep = {**row, "OpportunityContactRoles": {"records": [{"Role": "Deci\x00sion"}]}}
    assert without_nul(deep)["OpportunityContactRoles"] == {"records": [{"Role": "Decision"}]}
    assert without_nul([["x", ["y\x00"]]]) == [["x", ["y"]]]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=30,
    )
)
def test_without_nul_leaves_no_nul_and_changes_nothing_else(value):
    import json

    from connectors.normalize import without_nul

    cleaned = without_nul(value)
    assert "\\u0000" not in json.dumps(cleaned)
    if "\\u0000" not in json.dumps(value):
        assert cleaned is value
