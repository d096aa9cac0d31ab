"""Hostile and malformed input: every one a clear 4xx in the one error shape, never a 500."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from app.inbox.signatures import hubspot_v3_signature

CSV = {"Content-Type": "text/csv"}
YAML = {"Content-Type": "application/yaml"}


def _problems(response) -> list[dict[str, str]]:
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["detail"], list) and body["detail"], body
    assert all(set(p) == {"path", "message"} for p in body["detail"]), body
    return body["detail"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/accounts?q=a%00b", "/api/v1/accounts?tier=%00", "/api/v1/icps/a%00b"],
)
async def test_a_nul_in_the_url_is_400(app_client, read_headers, url):
    response = await app_client.get(url, headers=read_headers)
    assert response.status_code == 400
    assert "NUL" in _problems(response)[0]["message"]


@pytest.mark.parametrize("account_id", ["9223372036854775808", "-9223372036854775809", "0"])
async def test_an_account_id_beyond_bigint_is_422_not_500(app_client, read_headers, account_id):
    response = await app_client.get(f"/api/v1/accounts/{account_id}", headers=read_headers)
    assert response.status_code == 422
    assert _problems(response)[0]["path"] == "account_id"


async def test_an_icp_yaml_nested_a_thousand_deep_is_422_at_once(app_client, write_headers):
    source = b"name: deep\ncriteria: " + b"[" * 1000 + b"]" * 1000 + b"\n"
    started = time.perf_counter()
    response = await app_client.post("/api/v1/icps", content=source, headers=write_headers | YAML)
    assert response.status_code == 422
    assert "nested deeper" in _problems(response)[0]["message"]
    assert time.perf_counter() - started < 2


async def test_an_icp_yaml_mapping_with_a_list_as_key_is_422(app_client, write_headers):
    source = b"name: odd\n? [1, 2]\n: value\n"
    response = await app_client.post("/api/v1/icps", content=source, headers=write_headers | YAML)
    assert response.status_code == 422
    assert "plain value" in _problems(response)[0]["message"]


async def test_a_value_the_database_cannot_store_is_400(
    app_client, write_headers, example_icp_yaml
):
    """A JSON string may carry \\u0000; PostgreSQL's jsonb cannot."""
    definition = {
        "name": "nul\u0000name",
        "criteria": [{"id": "us", "field": "country", "op": "eq", "value": "US", "weight": 10}],
        "tiers": {"A": 10, "B": 5, "C": 1},
    }
    response = await app_client.post("/api/v1/icps", json=definition, headers=write_headers)
    assert response.status_code in (400, 422), response.text
    _problems(response)


async def test_a_csv_integer_beyond_64_bits_is_a_reported_row_failure(app_client, write_headers):
    content = b"external_id,name,employees\nbig,Big Co,99999999999999999999999\nok,Ok Co,12\n"
    response = await app_client.post(
        "/api/v1/accounts/import", content=content, headers=write_headers | CSV
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    [failure] = body["failed"]
    assert failure["line"] == 2 and "64 bits" in failure["errors"][0]


async def test_a_csv_quote_left_open_is_refused_naming_its_line(app_client, write_headers):
    content = b'external_id,name\na,Alpha\nb,"Beta\nc,Gamma\nd,Delta\n'
    response = await app_client.post(
        "/api/v1/accounts/import", content=content, headers=write_headers | CSV
    )
    assert response.status_code == 400
    assert "line 3" in _problems(response)[0]["message"]
    listed = await app_client.get("/api/v1/accounts", headers=write_headers)
    assert listed.json()["items"] == []  # nothing half-imported


async def test_a_chunked_json_body_over_the_limit_is_413(app_client, write_headers, settings):
    chunk = b" " * 1024 * 1024

    async def body():
        yield b'{"name": "x", "padding": "'
        for _ in range(settings.max_body_bytes // len(chunk) + 2):
            yield chunk
        yield b'"}'

    response = await app_client.post(
        "/api/v1/icps", content=body(), headers=write_headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert _problems(response)[0]["message"].startswith("request body is over")


def test_a_client_that_sends_its_whole_body_first_reads_the_413(
    service_url, settings, admin_headers
):
    """Python's urllib writes the whole body before reading: it must get the 413, not a
    connection reset."""
    body = b'{"padding": "' + b" " * (settings.max_body_bytes + 1024) + b'"}'
    request = urllib.request.Request(
        f"{service_url}/api/v1/icps",
        data=body,
        headers=admin_headers | {"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["error"] == "PayloadTooLarge"


async def test_a_hubspot_timestamp_of_5000_digits_is_401_not_500(app_client, admin_headers):
    created = await app_client.post(
        "/api/v1/connections",
        json={
            "kind": "hubspot",
            "name": "hubspot",
            "credentials": {"access_token": "t", "client_secret": "s"},
            "base_url": "http://127.0.0.1:9",
        },
        headers=admin_headers,
    )
    url = f"http://test/webhooks/hubspot/{created.json()['id']}"
    body = b"[]"
    timestamp = "9" * 5000
    headers = {
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature-v3": hubspot_v3_signature("s", "POST", url, body, timestamp),
        "Content-Type": "application/json",
    }
    response = await app_client.post(url, content=body, headers=headers)
    assert response.status_code == 401
    assert "timestamp" in _problems(response)[0]["message"]


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("base_url", "http://169.254.169.254/latest/meta-data"),
        ("base_url", "http://[fe80::1]:8080"),
        ("base_url", "http://0.0.0.0:80"),
        ("base_url", "ftp://crm.example.com"),
        ("credentials.instance_url", "https://169.254.169.254"),
    ],
)
async def test_a_crm_url_at_a_link_local_or_reserved_address_is_refused(
    app_client, admin_headers, field, url
):
    base = {"kind": "salesforce", "name": "sf", "settings": {}}
    credentials = {"instance_url": "https://127.0.0.1:9", "access_token": "t"}
    if field == "base_url":
        body = base | {"credentials": credentials, "base_url": url}
    else:
        body = base | {"credentials": credentials | {"instance_url": url}}
    response = await app_client.post("/api/v1/connections", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert any(p["path"] == field for p in _problems(response)), response.json()


async def test_a_crm_at_a_loopback_or_private_address_is_accepted(app_client, admin_headers):
    for n, url in enumerate(["http://127.0.0.1:8900", "https://10.1.2.3", "http://[::1]:8900"]):
        response = await app_client.post(
            "/api/v1/connections",
            json={
                "kind": "hubspot",
                "name": f"crm {n}",
                "credentials": {"access_token": "t"},
                "base_url": url,
            },
            headers=admin_headers,
        )
        assert response.status_code == 201, (url, response.text)


async def test_every_error_carries_a_list_of_problems(app_client):
    responses = await asyncio.gather(
        app_client.get("/api/v1/accounts"),  # 401
        app_client.get("/api/v1/nowhere"),  # 404
        app_client.post("/api/v1/icps", content=b"{", headers={"Authorization": "Bearer x"}),
    )
    for response in responses:
        assert response.status_code >= 400
        _problems(response)


async def test_the_openapi_documents_our_error_shape_and_the_bearer_scheme(app_client):
    spec = (await app_client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An icp-sync API key (`icps_...`)",
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    operation = spec["paths"]["/api/v1/accounts"]["get"]
    assert operation["security"] == [{"apiKey": []}]
    for status in ("400", "401", "403", "404", "409", "413", "415", "422", "503"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}


async def test_the_docs_pages_load_only_assets_the_app_serves_itself(app_client):
    for page in ("/docs", "/redoc"):
        html = (await app_client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, html
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            if asset.startswith("/static/"):
                assert (await app_client.get(asset)).status_code == 200, asset
        assert "cdn.jsdelivr" not in html and "fonts.googleapis" not in html


@pytest.mark.parametrize(
    "url", ["https://\U000f6b1b", "https://a\u0000b.example", "https://-x-.\u2028", "https://]0"]
)
async def test_a_url_whose_host_is_no_host_name_is_422_not_500(app_client, admin_headers, url):
    """Found by schemathesis: resolving such a name raised UnicodeError, not OSError."""
    for path, body in (
        ("/api/v1/webhook-endpoints", {"url": url, "events": ["account.tier_changed"]}),
        (
            "/api/v1/connections",
            {"kind": "hubspot", "name": "x", "credentials": {"access_token": "t"}, "base_url": url},
        ),
    ):
        response = await app_client.post(path, json=body, headers=admin_headers)
        assert response.status_code in (400, 422), (path, response.text)
