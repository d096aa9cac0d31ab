"""Classifying job titles over HTTP: read scope, input order, nothing stored, bad input 4xx."""

from __future__ import annotations


async def test_titles_are_classified_in_input_order(app_client, read_headers):
    titles = ["VP, Growth Marketing", None, "Sr. Software Engineer", "VP, Growth Marketing"]

    response = await app_client.post(
        "/api/v1/contacts/classify", json={"titles": titles}, headers=read_headers
    )

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"title": "VP, Growth Marketing", "seniority": "vp", "function": "marketing"},
            {"title": None, "seniority": None, "function": "other"},
            {
                "title": "Sr. Software Engineer",
                "seniority": "individual",
                "function": "engineering",
            },
            {"title": "VP, Growth Marketing", "seniority": "vp", "function": "marketing"},
        ]
    }


async def test_classify_needs_a_key_and_refuses_bad_bodies(app_client, read_headers):
    url = "/api/v1/contacts/classify"
    anonymous = await app_client.post(url, json={"titles": ["CEO"]})
    empty = await app_client.post(url, json={"titles": []}, headers=read_headers)
    too_many = await app_client.post(url, json={"titles": ["CEO"] * 10_001}, headers=read_headers)
    too_long = await app_client.post(url, json={"titles": ["x" * 1_001]}, headers=read_headers)
    not_text = await app_client.post(url, json={"titles": [{"a": 1}]}, headers=read_headers)
    unknown = await app_client.post(url, json={"titles": ["CEO"], "x": 1}, headers=read_headers)

    assert anonymous.status_code == 401
    assert [r.status_code for r in (empty, too_many, too_long, not_text, unknown)] == [422] * 5
    assert empty.json()["detail"][0]["path"].startswith("titles")
