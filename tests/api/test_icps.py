"""ICP endpoints: versions, validation, activation, what-if scoring."""

from __future__ import annotations

import json

import yaml

YAML = {"Content-Type": "application/yaml"}


async def test_yaml_icp_is_saved_as_version_1_inactive(app_client, write_headers, example_icp_yaml):
    response = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "US new media, post-Series A"
    assert body["version"] == 1
    assert body["status"] == "inactive"
    assert [c["id"] for c in body["definition"]["criteria"]][:2] == ["us_based", "new_media"]


async def test_saving_the_same_name_again_increments_the_version(
    app_client, write_headers, example_icp_yaml
):
    for expected in (1, 2, 3):
        response = await app_client.post(
            "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
        )
        assert response.json()["version"] == expected


async def test_json_and_yaml_bodies_store_the_same_definition(
    app_client, write_headers, example_icp_yaml
):
    as_yaml = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
    )
    as_json = await app_client.post(
        "/api/v1/icps", json=yaml.safe_load(example_icp_yaml), headers=write_headers
    )
    assert as_json.status_code == 201
    assert as_json.json()["definition"] == as_yaml.json()["definition"]


async def test_invalid_icp_is_refused_with_every_problem_listed(app_client, write_headers):
    definition = {
        "name": "broken",
        "criteria": [
            {
                "id": "Bad Id",
                "label": "x",
                "field": "country",
                "op": "in",
                "value": ["US"],
                "weight": 10,
            },
            {
                "id": "zero",
                "label": "x",
                "field": "employees",
                "op": "gte",
                "value": 5,
                "weight": 0,
            },
            {
                "id": "nofield",
                "label": "x",
                "field": "shoe_size",
                "op": "eq",
                "value": 1,
                "weight": 5,
            },
        ],
        "tiers": {"A": 40, "B": 60, "C": 80},
    }
    response = await app_client.post("/api/v1/icps", json=definition, headers=write_headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ValidationFailed"
    paths = {p["path"] for p in body["detail"]}
    assert {"criteria[0].id", "criteria[1].weight", "criteria[2].field"} <= paths, body
    assert any(p.startswith("tiers") for p in paths), body
    listed = await app_client.get("/api/v1/icps", headers=write_headers)
    assert listed.json()["items"] == []


async def test_malformed_yaml_is_a_clear_client_error(app_client, write_headers):
    response = await app_client.post(
        "/api/v1/icps", content=b"name: [unclosed\ncriteria: {", headers=write_headers | YAML
    )
    assert response.status_code in (400, 422)
    assert response.json()["error"] in ("BadRequest", "ValidationFailed")


async def test_malformed_json_is_a_clear_client_error(app_client, write_headers):
    response = await app_client.post(
        "/api/v1/icps",
        content=b'{"name": "x", "criteria": [',
        headers=write_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.json()["error"] in ("BadRequest", "ValidationFailed")


async def test_unknown_content_type_is_415(app_client, write_headers):
    response = await app_client.post(
        "/api/v1/icps", content=b"<icp/>", headers=write_headers | {"Content-Type": "text/xml"}
    )
    assert response.status_code == 415
    assert response.json()["error"] == "UnsupportedMediaType"


async def test_activation_retires_the_previous_active_version(
    app_client, write_headers, example_icp_yaml
):
    first = (
        await app_client.post(
            "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
        )
    ).json()
    second = (
        await app_client.post(
            "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
        )
    ).json()
    assert (
        await app_client.post(f"/api/v1/icps/{first['id']}/activate", headers=write_headers)
    ).json()["status"] == "active"
    activated = await app_client.post(
        f"/api/v1/icps/{second['id']}/activate", headers=write_headers
    )
    assert activated.status_code == 200
    assert activated.json()["status"] == "active"
    assert (await app_client.get(f"/api/v1/icps/{first['id']}", headers=write_headers)).json()[
        "status"
    ] == "retired"
    active = await app_client.get("/api/v1/icps/active", headers=write_headers)
    assert active.json()["id"] == second["id"]


async def test_no_active_icp_is_a_404_that_says_what_to_do(app_client, read_headers):
    response = await app_client.get("/api/v1/icps/active", headers=read_headers)
    assert response.status_code == 404
    assert "activate" in response.json()["detail"][0]["message"]


async def test_unknown_icp_id_is_404_and_a_malformed_id_is_422(app_client, read_headers):
    missing = await app_client.get(
        "/api/v1/icps/00000000-0000-0000-0000-000000000000", headers=read_headers
    )
    assert missing.status_code == 404
    malformed = await app_client.get("/api/v1/icps/not-a-uuid", headers=read_headers)
    assert malformed.status_code == 422


async def _activate_example(app_client, headers, example_icp_yaml) -> str:
    created = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=headers | YAML
    )
    icp_id = created.json()["id"]
    await app_client.post(f"/api/v1/icps/{icp_id}/activate", headers=headers)
    return icp_id


IDEAL = {
    "name": "Daily Planet Media",
    "country": "United States",
    "industry": "Online Media",
    "funding_stage": "series_b",
    "total_funding": "12000000",
    "employees": 240,
    "tech_stack": "Contentful;React",
    "attributes": {"has_inhouse_seo": "true"},
    "open_deals": 2,
}


async def test_what_if_scores_the_example_icp_with_reasons(
    app_client, write_headers, example_icp_yaml
):
    icp_id = await _activate_example(app_client, write_headers, example_icp_yaml)
    tiny_competitor = {"country": "US", "employees": 4, "attributes": {"is_competitor": True}}
    unknown = {"name": "Nothing known"}
    response = await app_client.post(
        "/api/v1/score", json={"accounts": [IDEAL, tiny_competitor, unknown]}, headers=write_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["icp_id"] == icp_id
    ideal, competitor, empty = body["results"]
    # 20 + 25 + 15 + 15 + 10 + 15 of 100 positive points; not tiny.
    assert ideal["score"] == 100
    assert ideal["tier"] == "A"
    assert ideal["is_mql"] and ideal["is_sql"]
    assert ideal["coverage"] == 1.0
    assert ideal["reasons"].startswith("A 100 · +25 New media · +20 Based in the US")
    assert {c["id"]: c["status"] for c in ideal["criteria"]}["tiny"] == "missed"
    assert competitor["excluded"] is True
    assert competitor["score"] == 0 and competitor["tier"] == "D"
    assert not competitor["is_mql"]
    assert empty["score"] == 0
    assert empty["coverage"] == 0.0
    assert all(c["status"] == "unknown" for c in empty["criteria"])


async def test_what_if_against_a_named_inactive_version(
    app_client, write_headers, example_icp_yaml
):
    created = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
    )
    response = await app_client.post(
        "/api/v1/score",
        json={"accounts": [IDEAL], "icp_id": created.json()["id"]},
        headers=write_headers,
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["tier"] == "A"


async def test_what_if_refuses_wrong_types_and_unknown_fields_with_paths(
    app_client, write_headers, example_icp_yaml
):
    await _activate_example(app_client, write_headers, example_icp_yaml)
    response = await app_client.post(
        "/api/v1/score",
        json={"accounts": [{"employees": "many"}, {"shoe_size": 9}]},
        headers=write_headers,
    )
    assert response.status_code == 422
    paths = [p["path"] for p in response.json()["detail"]]
    assert any(p.startswith("accounts[0].employees") for p in paths), paths
    assert any(p.startswith("accounts[1].shoe_size") for p in paths), paths


async def test_what_if_stores_nothing(app_client, write_headers, example_icp_yaml):
    await _activate_example(app_client, write_headers, example_icp_yaml)
    await app_client.post("/api/v1/score", json={"accounts": [IDEAL]}, headers=write_headers)
    listed = await app_client.get("/api/v1/accounts", headers=write_headers)
    assert listed.json()["items"] == []


async def test_a_body_over_5_mb_is_413(app_client, write_headers):
    big = json.dumps({"accounts": [{"name": "x" * 1000}] * 6000}).encode()
    assert len(big) > 5 * 1024 * 1024
    response = await app_client.post(
        "/api/v1/score",
        content=big,
        headers=write_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


async def test_what_if_with_malformed_json_is_400(app_client, read_headers):
    response = await app_client.post(
        "/api/v1/score",
        content=b'{"accounts": [{"name": "x"',
        headers=read_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"


async def test_activation_answers_with_the_rescore_job_which_the_jobs_api_follows(
    app_client, write_headers, read_headers, example_icp_yaml
):
    first = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
    )
    second = await app_client.post(
        "/api/v1/icps",
        content=example_icp_yaml.replace(b"name:", b"name: v2 of", 1),
        headers=write_headers | YAML,
    )

    activated = (
        await app_client.post(f"/api/v1/icps/{first.json()['id']}/activate", headers=write_headers)
    ).json()
    job = await app_client.get(f"/api/v1/jobs/{activated['rescore_job_id']}", headers=read_headers)
    # No worker runs here: the first rescore still waits, so the next activation joins it.
    joined = (
        await app_client.post(f"/api/v1/icps/{second.json()['id']}/activate", headers=write_headers)
    ).json()
    again = (
        await app_client.post(f"/api/v1/icps/{second.json()['id']}/activate", headers=write_headers)
    ).json()
    metrics = (await app_client.get("/metrics")).text

    assert activated["status"] == "active"
    assert job.status_code == 200
    assert job.json()["task"] == "accounts.rescore_all"
    assert job.json()["status"] == "todo"
    assert job.json()["attempts"] == 0
    assert job.json()["queued_at"] is not None
    assert job.json()["started_at"] is None and job.json()["finished_at"] is None
    assert joined["rescore_job_id"] == activated["rescore_job_id"]
    assert again["rescore_job_id"] is None  # already active: nothing to rescore
    assert 'icp_sync_job_queue_depth{task="accounts.rescore_all"} 1.0' in metrics


async def test_an_unknown_job_is_a_404_and_an_id_beyond_bigint_a_422(app_client, read_headers):
    missing = await app_client.get("/api/v1/jobs/987654321", headers=read_headers)
    beyond = await app_client.get("/api/v1/jobs/9223372036854775808", headers=read_headers)

    assert missing.status_code == 404
    assert "987654321" in missing.json()["detail"][0]["message"]
    assert beyond.status_code == 422
