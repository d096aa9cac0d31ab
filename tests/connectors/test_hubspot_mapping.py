"""The pure parts of the HubSpot mapping: write-back values, stage promotion, 429 waits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.hubspot.mapping import (
    PropertyDefinitions,
    PropertyInfo,
    parse_hubspot_datetime,
    writeback_properties,
)
from connectors.hubspot.retry import rate_limit_wait

STAGES = PropertyDefinitions(
    {
        "lifecyclestage": PropertyInfo(
            "enumeration",
            "radio",
            {
                "lead": "Lead",
                "marketingqualifiedlead": "Marketing Qualified Lead",
                "other": "Other",
            },
        )
    }
)


def _write(values: dict[str, Any], **settings: bool) -> dict[str, str]:
    return writeback_properties(
        values,
        ideal_customer_profile=settings.get("icp", False),
        promote_lifecycle=settings.get("promote", False),
        definitions=STAGES,
    )


def test_only_the_values_given_are_written_and_none_clears_one() -> None:
    assert _write({"score": 61.5, "reasons": None}) == {
        "icp_fit_score": "61.5",
        "icp_fit_reasons": "",
    }


def test_scored_at_is_written_as_utc_with_milliseconds() -> None:
    written = _write({"scored_at": "2025-01-02T03:04:05.678+02:00"})

    assert written == {"icp_scored_at": "2025-01-02T01:04:05.678Z"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tier": "Z"}, "icp_tier"),
        ({"score": -1}, "icp_fit_score"),
        ({"is_mql": "maybe"}, "icp_is_mql"),
        ({"scored_at": "yesterday"}, "icp_scored_at"),
    ],
)
def test_values_hubspot_would_refuse_are_refused_before_sending(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _write(values)


@pytest.mark.parametrize(
    ("current", "flags", "expected"),
    [
        ("Lead", {"is_mql": True}, "marketingqualifiedlead"),
        ("lead", {"is_mql": True, "is_sql": True}, "salesqualifiedlead"),
        ("", {"is_mql": True}, "marketingqualifiedlead"),
        ("Marketing Qualified Lead", {"is_mql": True}, None),
        ("customer", {"is_sql": True}, None),
        ("other", {"is_sql": True}, None),
        ("lead", {"is_mql": False, "is_sql": False}, None),
    ],
)
def test_lifecycle_promotion_never_moves_a_stage_backwards(
    current: str, flags: dict[str, bool], expected: str | None
) -> None:
    written = _write({**flags, "current_lifecycle_stage": current}, promote=True)

    assert written.get("lifecyclestage") == expected


def test_ideal_customer_profile_tiers_follow_icp_tiers_and_d_clears() -> None:
    assert [_write({"tier": t}, icp=True)["hs_ideal_customer_profile"] for t in "ABCD"] == [
        "tier_1",
        "tier_2",
        "tier_3",
        "",
    ]


def test_hubspot_datetimes_parse_from_iso_or_epoch_milliseconds() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

    assert parse_hubspot_datetime("2025-01-02T03:04:05.678Z") == moment
    assert parse_hubspot_datetime(str(int(moment.timestamp() * 1000))) == moment
    assert parse_hubspot_datetime("") is None


def test_a_429_waits_as_long_as_hubspot_says() -> None:
    window = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}

    assert rate_limit_wait({"Retry-After": "3", **window}, {}) == 3.0
    assert rate_limit_wait({**window, "X-HubSpot-RateLimit-Remaining": "0"}, {}) == 10.0
    assert rate_limit_wait({}, {"policyName": "SECONDLY"}) == 1.0
