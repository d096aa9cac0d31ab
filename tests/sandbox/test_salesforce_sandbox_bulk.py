"""Bulk API 2.0 query jobs, through simple-salesforce's ``bulk2`` and raw calls."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import SANDBOX_TOKEN, SandboxServer

Sessions = Callable[[], requests.Session]


def _rows(pages: Any) -> list[dict[str, str]]:
    return [row for page in pages for row in csv.DictReader(io.StringIO(page))]


def test_bulk2_query_reads_every_account_in_pages_of_max_records(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.reset(seed=7, companies=1200, contacts_per_company=0, deals_per_company=0)

    pages = list(sf.bulk2.Account.query("SELECT Id, Name FROM Account", max_records=500, wait=0))

    rows = _rows(pages)
    assert len(pages) == 3
    assert len(rows) == 1200
    assert len({r["Id"] for r in rows}) == 1200
    assert pages[0].splitlines()[0] == '"Id","Name"'


def test_bulk2_results_carry_locator_and_record_count_headers(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sf_sessions: Sessions
) -> None:
    session = sf_sessions()
    session.headers["Authorization"] = f"Bearer {SANDBOX_TOKEN}"
    jobs = f"{salesforce_server.url}/services/data/v62.0/jobs/query"

    created = session.post(
        jobs, json={"operation": "query", "query": "SELECT Id, Account.Name FROM Contact"}
    ).json()
    polled = session.get(f"{jobs}/{created['id']}").json()
    first = session.get(f"{jobs}/{created['id']}/results", params={"maxRecords": 100})
    second = session.get(
        f"{jobs}/{created['id']}/results",
        params={"maxRecords": 100, "locator": first.headers["Sforce-Locator"]},
    )

    assert created["state"] == "UploadComplete"
    assert created["id"].startswith("750")
    assert (created["object"], created["apiVersion"]) == ("Contact", 62.0)
    assert polled["state"] == "JobComplete"
    assert polled["numberRecordsProcessed"] == 0  # the default reset seeds no contacts
    assert first.headers["content-type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "0"
    assert first.headers["Sforce-Locator"] == "null"
    assert first.text.strip() == '"Id","Account.Name"'
    assert second.status_code == 400


def test_bulk2_query_all_brings_deleted_rows_back(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    sf.Account.delete(account_id)

    live = _rows(sf.bulk2.Account.query("SELECT Id FROM Account", wait=0))
    everything = _rows(sf.bulk2.Account.query_all("SELECT Id, IsDeleted FROM Account", wait=0))

    assert len(live) == 49
    assert len(everything) == 50
    assert {r["IsDeleted"] for r in everything} == {"true", "false"}


def test_bulk2_refuses_aggregates_and_subqueries(sf: Salesforce) -> None:
    for soql in (
        "SELECT COUNT(Id) FROM Account",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
    ):
        with pytest.raises(SalesforceMalformedRequest) as refused:
            next(iter(sf.bulk2.Account.query(soql, wait=0)))
        assert refused.value.content[0]["errorCode"] == "INVALIDJOB"


def test_a_bulk2_job_can_be_aborted_and_deleted(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sf_sessions: Sessions
) -> None:
    session = sf_sessions()
    session.headers["Authorization"] = f"Bearer {SANDBOX_TOKEN}"
    jobs = f"{salesforce_server.url}/services/data/v62.0/jobs/query"
    job_id = session.post(
        jobs, json={"operation": "query", "query": "SELECT Id FROM Account"}
    ).json()["id"]

    aborted = session.patch(f"{jobs}/{job_id}", json={"state": "Aborted"})
    results = session.get(f"{jobs}/{job_id}/results")
    deleted = session.delete(f"{jobs}/{job_id}")
    gone = session.get(f"{jobs}/{job_id}")

    assert aborted.json()["state"] == "Aborted"
    assert results.status_code == 412
    assert results.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    assert deleted.status_code == 204
    assert gone.status_code == 404
