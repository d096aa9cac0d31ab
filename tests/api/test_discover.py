"""Discovery over stored accounts and deals: a candidate ICP that can be saved and backtested,
figures that recount, honest answers on small samples, clear 4xx on bad requests."""

from __future__ import annotations

import psycopg
import yaml

from app.core.db import libpq_conninfo
from app.science.discovery import OUTCOME_FIELDS
from app.scoring import compile_icp, parse_definition
from tests.api.test_backtest import _seed


def _sample(database_url, *, after=None) -> dict[int, tuple[bool, dict]]:
    """Per account with a closed deal (after ``after``): (won, stored data), counted directly."""
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            """
            SELECT a.id, bool_or(d.is_won), a.data
            FROM accounts a
            JOIN deal_accounts da ON da.account_external_id = a.external_id
            JOIN deals d ON d.id = da.deal_id AND d.is_closed
            WHERE %(after)s::timestamptz IS NULL OR d.closed_at >= %(after)s::timestamptz
            GROUP BY a.id
            """,
            {"after": after},
        ).fetchall()
    return {account_id: (won, data) for account_id, won, data in rows}


def _recount(trait: dict, sample: dict[int, tuple[bool, dict]]) -> tuple[int, int]:
    """(accounts, won) of the sample that the trait's condition matches, by the scoring core."""
    compiled = compile_icp(
        parse_definition(
            {
                "name": "one trait",
                "criteria": [
                    {
                        "id": "t",
                        "field": trait["field"],
                        "op": trait["op"],
                        "value": trait["value"],
                        "weight": 1,
                    }
                ],
            }
        )
    )
    matched = [
        won for won, data in sample.values() if compiled.score(data).criteria[0].status == "matched"
    ]
    return len(matched), sum(matched)


async def test_discovery_proposes_an_icp_that_saves_and_backtests_with_recountable_traits(
    app_client, read_headers, write_headers, database, database_url, example_icp_yaml
):
    await _seed(database, example_icp_yaml)
    sample = _sample(database_url)

    response = await app_client.post("/api/v1/insights/discover", headers=read_headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sample"]["accounts"] == len(sample)
    assert body["sample"]["won"] == sum(won for won, _ in sample.values())
    assert body["traits"] and not {t["field"] for t in body["traits"]} & OUTCOME_FIELDS
    for trait in body["traits"]:
        if trait["op"] in {"in", "between", "contains_any", "eq", "exists", "gte"}:
            assert (trait["accounts"], trait["won"]) == _recount(trait, sample), trait
    assert body["definition"] is not None and any(t["selected"] for t in body["traits"])
    assert yaml.safe_load(body["yaml"]) == body["definition"]
    assert body["validation"]["auc"] is not None and body["validation"]["method"]
    saved = await app_client.post("/api/v1/icps", json=body["definition"], headers=write_headers)
    assert saved.status_code == 201, saved.text
    backtest = await app_client.post(
        f"/api/v1/icps/{saved.json()['id']}/backtest", headers=read_headers
    )
    assert backtest.status_code == 200
    assert backtest.json()["sample"] == body["sample"]


async def test_discovery_on_fewer_than_30_wins_answers_descriptively_and_proposes_nothing(
    app_client, read_headers, database, database_url, example_icp_yaml
):
    await _seed(database, example_icp_yaml)
    after = "2026-10-15T00:00:00Z"
    sample = _sample(database_url, after=after)
    assert 0 < sum(won for won, _ in sample.values()) < 30  # the window this test needs

    response = await app_client.post(
        "/api/v1/insights/discover", json={"closed_after": after}, headers=read_headers
    )

    body = response.json()
    assert response.status_code == 200
    assert body["sample"]["won"] == sum(won for won, _ in sample.values())
    assert body["definition"] is None and body["yaml"] is None
    assert not any(t["selected"] for t in body["traits"])
    assert any("30" in warning for warning in body["warnings"])


async def test_discovery_with_no_closed_deals_says_so(app_client, read_headers):
    response = await app_client.post("/api/v1/insights/discover", headers=read_headers)

    body = response.json()
    assert response.status_code == 200
    assert body["sample"] == {"accounts": 0, "won": 0, "lost": 0, "base_rate": None}
    assert body["definition"] is None and body["warnings"]


async def test_discovery_looks_only_at_the_fields_asked_for(
    app_client, read_headers, database, example_icp_yaml
):
    await _seed(database, example_icp_yaml)

    response = await app_client.post(
        "/api/v1/insights/discover",
        json={"fields": ["industry", "employees"], "max_criteria": 2},
        headers=read_headers,
    )

    body = response.json()
    assert response.status_code == 200
    assert {t["field"] for t in body["traits"]} <= {"industry", "employees"}
    if body["definition"] is not None:
        assert len(body["definition"]["criteria"]) <= 2


async def test_bad_discovery_requests_are_4xx(app_client, read_headers):
    url = "/api/v1/insights/discover"

    unknown_field = await app_client.post(url, json={"fields": ["shoe_size"]}, headers=read_headers)
    no_criteria = await app_client.post(url, json={"max_criteria": 0}, headers=read_headers)
    too_many = await app_client.post(url, json={"max_criteria": 10**30}, headers=read_headers)
    unknown_key = await app_client.post(url, json={"since": "yesterday"}, headers=read_headers)
    nul_name = await app_client.post(url, json={"name": "a\x00b"}, headers=read_headers)
    not_json = await app_client.post(url, content=b"{", headers=read_headers)
    anonymous = await app_client.post(url)

    assert [r.status_code for r in (unknown_field, no_criteria, too_many, unknown_key)] == [
        422,
        422,
        422,
        422,
    ]
    assert "shoe_size" in unknown_field.text
    assert nul_name.status_code == 422
    assert not_json.status_code in (400, 422)
    assert anonymous.status_code == 401
