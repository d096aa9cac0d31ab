"""Serving the fakes: the in-process runner and ``run_sandbox``, and sync throughput through it."""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx
from hubspot import HubSpot
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput

from connectors.sandbox.common.server import start_server
from connectors.sandbox.hubspot import create_app
from connectors.sandbox.serve import run_sandbox


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_server_listens_on_a_free_port_until_stopped() -> None:
    server = start_server(create_app())
    try:
        assert httpx.get(f"{server.url}/_sandbox/stats").status_code == 200
    finally:
        server.stop()

    assert not server.thread.is_alive()


def test_run_sandbox_serves_both_crms_at_their_ports_with_its_token_and_seed(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("ICP_SYNC_DATA_DIR", str(tmp_path))
    port = _free_port()
    while not _is_free(port + 1):  # Salesforce is served at port + 1
        port = _free_port()
    stop, ready = threading.Event(), threading.Event()
    urls: list[str] = []

    def on_ready(running: list[Any]) -> None:
        urls.extend(server.url for _, server in running)
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
    try:
        assert ready.wait(30)
        client = HubSpot(access_token="tok", host=f"http://127.0.0.1:{port}")
        assert urls == [f"http://127.0.0.1:{port}", f"https://127.0.0.1:{port + 1}"]
        assert (tmp_path / "sandbox-ca.pem").exists()
        assert len(client.crm.companies.basic_api.get_page(limit=100).results) == 25
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def test_paging_and_batch_updates_through_the_official_client_reach_every_company() -> None:
    count = 2_000
    properties = [
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "annualrevenue",
        "country",
        "web_technologies",
    ]
    with start_server(create_app(companies=count, rate_limit_per_10s=0)) as server:
        api = HubSpot(access_token="sandbox-token", host=server.url).crm.companies
        seen, after, first_id = 0, None, None
        while True:
            page = api.basic_api.get_page(limit=100, after=after, properties=properties)
            api.batch_api.update(
                BatchInputSimplePublicObjectBatchInput(
                    inputs=[
                        {"id": r.id, "properties": {"hs_ideal_customer_profile": "tier_2"}}
                        for r in page.results
                    ]
                )
            )
            seen += len(page.results)
            first_id = first_id or page.results[0].id
            if page.paging is None:
                break
            after = page.paging.next.after
        first = api.basic_api.get_by_id(first_id, properties=["hs_ideal_customer_profile"])

    assert seen == count
    assert first.properties["hs_ideal_customer_profile"] == "tier_2"
