"""Bulk API 1.0 query jobs: through simple-salesforce's ``sf.bulk`` (JSON jobs) and as
singer-io tap-salesforce drives them (CSV jobs, batches listed in XML)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import SANDBOX_TOKEN, SandboxServer

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"
Sessions = Callable[[], requests.Session]


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """Forty accounts with two contacts each."""
    return {"daily_max": 15000, "seed": 7, "accounts": 40, "contacts_per_company": 2}


def test_sf_bulk_query_reads_json_records_with_dates_as_epoch_milliseconds(
    sf: Salesforce,
) -> None:
    rows = sf.bulk.Contact.query("SELECT Id, Email, Account.Name, CreatedDate FROM Contact")

    assert len(rows) == 80
    assert rows[0]["attributes"]["type"] == "Contact"
    assert isinstance(rows[0]["CreatedDate"], int)
    assert all(r["Account"]["Name"] for r in rows)


def test_sf_bulk_query_all_includes_deleted_accounts(sf: Salesforce) -> None:
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    sf.Account.delete(account_id)

    live = sf.bulk.Account.query("SELECT Id FROM Account")
    everything = sf.bulk.Account.query_all("SELECT Id, IsDeleted FROM Account")

    assert len(live) == 39
    assert len(everything) == 40
    assert account_id not in {r["Id"] for r in live}


def _bulk(server: SandboxServer, sessions: Sessions) -> tuple[requests.Session, str]:
    session = sessions()
    session.headers.update({"X-SFDC-Session": SANDBOX_TOKEN, "Content-Type": "application/json"})
    return session, f"{server.url}/services/async/61.0"


def test_a_csv_job_runs_as_tap_salesforce_drives_it(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sf_sessions: Sessions
) -> None:
    session, base = _bulk(salesforce_server, sf_sessions)

    job = session.post(
        f"{base}/job", json={"operation": "queryAll", "object": "Account", "contentType": "CSV"}
    ).json()
    added = session.post(
        f"{base}/job/{job['id']}/batch",
        data="SELECT Id, Name, Owner.Email FROM Account WHERE SystemModstamp >= "
        "2000-01-01T00:00:00Z ORDER BY SystemModstamp ASC",
        headers={"Content-Type": "text/csv"},
    )
    batch_id = ET.fromstring(added.text).findtext(f"{NS}id")
    session.post(f"{base}/job/{job['id']}", json={"state": "Closed"})
    batch = ET.fromstring(session.get(f"{base}/job/{job['id']}/batch/{batch_id}").text)
    listed = ET.fromstring(session.get(f"{base}/job/{job['id']}/batch/{batch_id}/result").text)
    [result_id] = [r.text for r in listed]
    result = session.get(f"{base}/job/{job['id']}/batch/{batch_id}/result/{result_id}")

    assert job["state"] == "Open" and job["id"].startswith("750")
    assert batch.findtext(f"{NS}state") == "Completed"
    assert batch.findtext(f"{NS}numberRecordsProcessed") == "40"
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert result.text.startswith('"Id","Name","Owner.Email"')
    assert len(rows) == 40
    assert all(r["Owner.Email"].endswith("@demo-crm.test") for r in rows)


def test_a_batch_bulk_query_cannot_run_fails_with_its_reason(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sf_sessions: Sessions
) -> None:
    session, base = _bulk(salesforce_server, sf_sessions)
    job = session.post(f"{base}/job", json={"operation": "query", "object": "Account"}).json()

    added = session.post(
        f"{base}/job/{job['id']}/batch",
        data="SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        headers={"Content-Type": "text/csv"},
    )

    batch = ET.fromstring(added.text)
    assert batch.findtext(f"{NS}state") == "Failed"
    assert "Aggregate Relationship is not supported" in (batch.findtext(f"{NS}stateMessage") or "")


def test_bulk_v1_errors_and_sessions_in_its_own_shape(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sf_sessions: Sessions
) -> None:
    session, base = _bulk(salesforce_server, sf_sessions)

    unknown = session.get(f"{base}/job/750000000000000AAA")
    session.headers["X-SFDC-Session"] = "nope"
    refused = session.get(f"{base}/job/750000000000000AAA")

    assert unknown.status_code == 400
    assert unknown.json()["exceptionCode"] == "InvalidJob"
    assert refused.status_code == 401
    assert ET.fromstring(refused.text).findtext(f"{NS}exceptionCode") == "InvalidSessionId"
