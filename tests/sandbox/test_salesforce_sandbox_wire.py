"""The Salesforce fake on the wire: header names spelled as Salesforce spells them."""

from __future__ import annotations

import http.client
import ssl
from pathlib import Path

from connectors.sandbox.common.server import start_server
from connectors.sandbox.salesforce import create_app, tls_files
from connectors.sandbox.salesforce.headers import canonical


def test_header_names_take_salesforces_spelling() -> None:
    assert canonical(b"content-type") == b"Content-Type"
    assert canonical(b"sforce-limit-info") == b"Sforce-Limit-Info"
    assert canonical(b"sforce-numberofrecords") == b"Sforce-NumberOfRecords"


def test_a_bulk_result_page_answers_content_type_and_sforce_headers_in_that_spelling(
    tmp_path: Path,
) -> None:
    ca_file, cert_file, key_file = tls_files(tmp_path)
    with start_server(create_app(), ssl_certfile=cert_file, ssl_keyfile=key_file, http="h11") as s:
        context = ssl.create_default_context(cafile=ca_file)
        connection = http.client.HTTPSConnection("127.0.0.1", s.port, context=context)
        headers = {"Authorization": "Bearer sandbox-token", "Content-Type": "application/json"}
        connection.request(
            "POST",
            "/services/data/v62.0/jobs/query",
            body=b'{"operation": "query", "query": "SELECT Id FROM User"}',
            headers=headers,
        )
        created = connection.getresponse()
        job_id = created.read().split(b'"id":"')[1].split(b'"')[0].decode()
        connection.request("GET", f"/services/data/v62.0/jobs/query/{job_id}", headers=headers)
        connection.getresponse().read()
        connection.request(
            "GET", f"/services/data/v62.0/jobs/query/{job_id}/results", headers=headers
        )
        results = connection.getresponse()
        names = [name for name, _ in results.getheaders()]
        results.read()
        connection.close()

    assert {"Content-Type", "Sforce-Locator", "Sforce-NumberOfRecords", "Sforce-Limit-Info"} <= set(
        names
    )
