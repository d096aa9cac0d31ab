"""Serve the CRM fakes with uvicorn, in-process: for tests, the demo, benchmarks and the CLI."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

__all__ = ["RunningServer", "SandboxFake", "run_sandbox", "start_server"]

logger = logging.getLogger(__name__)

ASGIApp = Callable[..., Any]


@dataclass
class RunningServer:
    """A uvicorn server answering on a loopback port from a background thread."""

    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish its requests and exit, and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    log_level: str = "warning",
    startup_timeout: float = 10.0,
) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0: a free port) in a daemon thread; return once it listens.

    Give ``ssl_certfile``/``ssl_keyfile`` to serve https (the Salesforce fake needs it).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=bound_port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        # Clients such as urllib3 keep connections in a pool between pages of a sync.
        timeout_keep_alive=60,
        # ...and may never close them: stopping should not wait on idle ones.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server on {host}:{bound_port} did not start")
        time.sleep(0.01)
    scheme = "https" if ssl_certfile else "http"
    return RunningServer(
        url=f"{scheme}://{host}:{bound_port}", port=bound_port, server=server, thread=thread
    )


@dataclass(frozen=True)
class SandboxFake:
    """One CRM fake that ``run_sandbox`` serves, at ``port + port_offset``."""

    name: str
    port_offset: int
    app: ASGIApp
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    notes: list[str] = field(default_factory=list)


def _hubspot_fake(*, token: str, client_secret: str, seed: int, companies: int) -> SandboxFake:
    from connectors.hubspot.sandbox import create_app

    app = create_app(token=token, client_secret=client_secret, seed=seed, companies=companies)
    return SandboxFake(name="HubSpot", port_offset=0, app=app)


def _salesforce_fake(*, token: str, client_secret: str, seed: int, companies: int) -> SandboxFake:
    from connectors.salesforce.sandbox import create_app, tls_files

    # Read directly: connectors do not import the app's settings (same default as the app).
    data_dir = os.environ.get("ICP_SYNC_DATA_DIR") or ".icp-sync"
    ca_file, cert_file, key_file = tls_files(data_dir)
    app = create_app(token=token, client_secret=client_secret, seed=seed, accounts=companies)
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
            fake = factory(token=token, client_secret=client_secret, seed=seed, companies=companies)
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
