"""Serve an ASGI app with uvicorn from a background thread: how tests, the demo, benchmarks and
the CLI run the CRM fakes in-process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["RunningServer", "start_server"]

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
    http: str = "auto",
) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0: a free port) in a daemon thread; return once it listens.

    Give ``ssl_certfile``/``ssl_keyfile`` to serve https (the Salesforce fake needs it).
    ``http="h11"`` sends header names as the app spells them (the default implementation sends
    them in lower case; a few clients look headers up in a case-sensitive dict).
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
        http=http,
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
