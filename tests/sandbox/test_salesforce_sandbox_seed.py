"""Seeding the Salesforce sandbox from the shared demo data, its TLS files, and serving it from
``run_sandbox`` at port + 1."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.demo_data import generate_companies
from connectors.sandbox.salesforce import tls_files, trusting_session
from connectors.sandbox.serve import run_sandbox

Row = dict[str, Any]
CONTENT = (
    "Id, Name, Website, Industry, NumberOfEmployees, AnnualRevenue, BillingCountry, "
    "BillingState, BillingCity, Type, Funding_Stage__c, Total_Funding__c, Has_Inhouse_SEO__c, "
    "Is_Competitor__c, NPS__c, Tech_Stack__c, Founded_Year__c"
)


def _accounts(sf: Salesforce) -> list[Row]:
    return sf.query_all(f"SELECT {CONTENT} FROM Account ORDER BY Id")["records"]


def _opportunities(sf: Salesforce) -> list[Row]:
    soql = "SELECT Id, AccountId, Name, StageName, Amount, IsWon, CloseDate FROM Opportunity"
    return sf.query_all(f"{soql} ORDER BY Id")["records"]


def test_the_same_seed_gives_the_same_accounts_opportunities_and_ids(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 11, "accounts": 40})
    first = (_accounts(sf), _opportunities(sf))
    sf_admin.post("reset", {"seed": 12, "accounts": 40})
    other = _accounts(sf)
    sf_admin.post("reset", {"seed": 11, "accounts": 40})

    again = (_accounts(sf), _opportunities(sf))

    assert again == first
    assert [r["Id"] for r in other] == [r["Id"] for r in first[0]]
    assert [r["Name"] for r in other] != [r["Name"] for r in first[0]]


def test_accounts_are_the_demo_companies_in_salesforce_shapes(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 5, "accounts": 60})
    companies = list(generate_companies(5, 60, today=datetime.now(UTC).date()))

    accounts = _accounts(sf)

    assert [a["Name"] for a in accounts] == [c["name"] for c in companies]
    for account, company in zip(accounts, companies, strict=True):
        assert company["domain"] in account["Website"]
        assert account["NumberOfEmployees"] == company["employees"]
        assert account["Has_Inhouse_SEO__c"] is bool(company["has_inhouse_seo"])
        won = any(d["outcome"] == "won" for d in company["deals"])
        assert (account["Type"] or "").startswith("Customer") is won
        if company["tech_stack"]:
            assert account["Tech_Stack__c"].split(";") == company["tech_stack"]
    countries = {a["BillingCountry"] for a in accounts}
    assert "United States" in countries
    assert not countries & {"US", "USA", "us", "UK", "GB", "DE"}
    assert {a["Funding_Stage__c"] for a in accounts} - {None} <= {
        "Bootstrapped", "Seed", "Series A", "Series B", "Series C", "Growth", "IPO"
    }  # fmt: skip


def test_every_account_has_its_opportunities_with_salesforce_stages(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 5, "accounts": 30, "opportunities_per_account": 3})

    opportunities = _opportunities(sf)

    per_account: dict[str, int] = {}
    for opportunity in opportunities:
        per_account[opportunity["AccountId"]] = per_account.get(opportunity["AccountId"], 0) + 1
    assert set(per_account.values()) == {3} and len(per_account) == 30
    stages = {o["StageName"] for o in opportunities}
    assert {"Closed Won", "Closed Lost"} <= stages
    assert all(o["IsWon"] is (o["StageName"] == "Closed Won") for o in opportunities)


def test_an_empty_reset_leaves_no_accounts(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    sf_admin.post("reset", {"seed": 1, "accounts": 0})

    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    users = sf.query("SELECT Username FROM User")["records"]
    assert [u["Username"] for u in users] == ["sandbox@example.com"]  # the API user alone
    for name in ("Contact", "Opportunity", "OpportunityContactRole", "AccountHistory"):
        assert sf.query(f"SELECT COUNT() FROM {name}")["totalSize"] == 0


def test_the_same_seed_gives_the_same_contacts_and_roles_and_exactly_the_count_asked(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    reset = {"seed": 11, "companies": 30, "contacts_per_company": 4, "deals_per_company": 3}
    people = "SELECT Id, AccountId, Name, Email, Title, Owner.Email FROM Contact ORDER BY Id"
    roles = "SELECT Id, OpportunityId, ContactId, Role, IsPrimary FROM OpportunityContactRole"
    sf_admin.reset(**reset)
    first = (sf.query_all(people)["records"], sf.query_all(roles)["records"])
    sf_admin.reset(**reset)

    again = (sf.query_all(people)["records"], sf.query_all(roles)["records"])

    assert again == first
    per_account = {r["AccountId"] for r in first[0]}
    assert len(first[0]) == 120 and len(per_account) == 30
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 90


def test_tls_files_are_made_once_and_reused(tmp_path: Path) -> None:
    first = tls_files(tmp_path / "data")
    contents = [Path(p).read_bytes() for p in first]

    again = tls_files(tmp_path / "data")

    assert again == first
    assert Path(first[0]).name == "sandbox-ca.pem"
    assert [Path(p).read_bytes() for p in again] == contents
    assert b"BEGIN CERTIFICATE" in contents[0] and b"PRIVATE KEY" in contents[2]
    assert Path(first[2]).stat().st_mode & 0o077 == 0


def _free_port_pair() -> int:
    """A port p with p + 1 free as well."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two consecutive free ports")


def test_run_sandbox_serves_salesforce_over_https_at_port_plus_one_with_the_ca_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ICP_SYNC_DATA_DIR", str(tmp_path))
    port, stop, ready = _free_port_pair(), threading.Event(), threading.Event()
    urls: dict[str, str] = {}

    def on_ready(running: list[Any]) -> None:
        urls.update({fake.name: server.url for fake, server in running})
        ready.set()

    thread = threading.Thread(
        target=run_sandbox,
        kwargs={
            "port": port,
            "token": "tok",
            "seed": 3,
            "companies": 25,
            "ready": on_ready,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    session = trusting_session(tmp_path / "sandbox-ca.pem")
    try:
        assert ready.wait(60)
        sf = Salesforce(instance_url=urls["Salesforce"], session_id="tok", session=session)
        assert urls["Salesforce"] == f"https://127.0.0.1:{port + 1}"
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 25
    finally:
        session.close()
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
