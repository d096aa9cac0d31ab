"""Serve every CRM fake at once: ``icp-sync sandbox`` and ``python -m connectors.sandbox``.

The fakes are imported here at module level, so a missing sandbox-only dependency (the
``sandbox`` extra) shows as an ImportError when this module is imported, before anything
starts listening.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.sandbox.common.server import ASGIApp, RunningServer, start_server
from connectors.sandbox.hubspot import create_app as create_hubspot_app
from connectors.sandbox.salesforce import create_app as create_salesforce_app
from connectors.sandbox.salesforce import tls_files

__all__ = ["SandboxFake", "run_sandbox"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxFake:
    """One CRM fake that ``run_sandbox`` serves, at ``port + port_offset``."""

    name: str
    port_offset: int
    app: ASGIApp
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    notes: list[str] = field(default_factory=list)


def _hubspot_fake(
    *, token: str, client_secret: str, seed: int, companies: int, contacts_per_company: int
) -> SandboxFake:
    app = create_hubspot_app(
        token=token,
        client_secret=client_secret,
        seed=seed,
        companies=companies,
        contacts_per_company=contacts_per_company,
    )
    return SandboxFake(name="HubSpot", port_offset=0, app=app)


def _salesforce_fake(
    *, token: str, client_secret: str, seed: int, companies: int, contacts_per_company: int
) -> SandboxFake:
    # Read directly: connectors do not import the app's settings (same default as the app).
    data_dir = os.environ.get("ICP_SYNC_DATA_DIR") or ".icp-sync"
    ca_file, cert_file, key_file = tls_files(data_dir)
    app = create_salesforce_app(
        token=token,
        client_secret=client_secret,
        seed=seed,
        accounts=companies,
        contacts_per_account=contacts_per_company,
    )
    return SandboxFake(
        name="Salesforce",
        port_offset=1,
        app=app,
        ssl_certfile=cert_file,
        ssl_keyfile=key_file,
        notes=[f"trust the sandbox CA: {os.path.abspath(ca_file)}"],
    )


# Each factory gets the same keyword arguments and returns the fake it serves; the Salesforce
# fake is https at port + 1, with its local CA in $ICP_SYNC_DATA_DIR/sandbox-ca.pem (DESIGN §7).
FAKE_FACTORIES: list[Callable[..., SandboxFake]] = [_hubspot_fake, _salesforce_fake]


def run_sandbox(
    port: int = 8900,
    token: str = "sandbox-token",
    client_secret: str = "sandbox-secret",
    seed: int = 1,
    companies: int = 1000,
    *,
    contacts_per_company: int = 3,
    host: str = "127.0.0.1",
    ready: Callable[[list[tuple[SandboxFake, RunningServer]]], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve every CRM fake (HubSpot at ``port``) until interrupted or ``stop`` is set.

    ``ready`` is called with the running fakes once they all listen (the CLI prints their URLs).
    """
    running: list[tuple[SandboxFake, RunningServer]] = []
    stop = stop or threading.Event()
    try:
        for factory in FAKE_FACTORIES:
            fake = factory(
                token=token,
                client_secret=client_secret,
                seed=seed,
                companies=companies,
                contacts_per_company=contacts_per_company,
            )
            server = start_server(
                fake.app,
                host=host,
                port=port + fake.port_offset,
                ssl_certfile=fake.ssl_certfile,
                ssl_keyfile=fake.ssl_keyfile,
            )
            running.append((fake, server))
            logger.info("%s sandbox listening on %s", fake.name, server.url)
        if ready is not None:
            ready(running)
        while not stop.wait(0.5):
            if any(not server.thread.is_alive() for _, server in running):
                raise RuntimeError("a sandbox server stopped unexpectedly")
    except KeyboardInterrupt:
        pass
    finally:
        for _, server in running:
            server.stop()
