"""What the benchmarks share: a fresh embedded PostgreSQL with the service's database open,
and a CRM sandbox in its own process (so the service and the fake each get a core)."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from cryptography.fernet import Fernet
from pydantic import SecretStr

from app.core.config import Settings
from app.core.db import (
    Database,
    close_database,
    open_database,
    release_embedded_postgres,
    start_embedded_postgres,
)
from app.core.migrations import upgrade_to_head
from app.core.security import configure_secrets
from app.jobs.runtime import open_job_queue

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[tuple[Database, Settings]]:
    """A migrated embedded PostgreSQL in a temporary data dir, opened as the service does."""
    from app.core import db

    with tempfile.TemporaryDirectory(prefix="icp-bench-") as data_dir:
        url = start_embedded_postgres(Path(data_dir))
        upgrade_to_head(url)
        db._resolved_url = url
        settings = Settings(
            database_url=url.render_as_string(hide_password=False),
            data_dir=Path(data_dir),
            secret_keys=SecretStr(Fernet.generate_key().decode()),
            _env_file=None,  # type: ignore[call-arg]
        )
        configure_secrets(settings)
        database = open_database(settings)
        try:
            async with open_job_queue(url, max_size=2):
                yield database, settings
        finally:
            await close_database()
            db.reset_database_url()
            release_embedded_postgres(Path(data_dir))


def example_icp() -> dict[str, object]:
    """examples/icp.yaml as a dict."""
    loaded: dict[str, object] = yaml.safe_load((EXAMPLES / "icp.yaml").read_text())
    return loaded


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Sandboxes:
    """Where the sandbox process serves each CRM."""

    hubspot_url: str
    salesforce_url: str
    ca_file: str


@contextlib.contextmanager
def sandbox_process() -> Iterator[Sandboxes]:
    """``python -m connectors.sandbox`` on free ports, empty (HubSpot at port, Salesforce at
    port + 1 over https with its CA in a temporary data dir)."""
    port = free_port()
    while port + 1 > 65535 or not _port_free(port + 1):
        port = free_port()
    with tempfile.TemporaryDirectory(prefix="icp-bench-sandbox-") as data_dir:
        process = subprocess.Popen(
            [sys.executable, "-m", "connectors.sandbox", "--port", str(port), "--companies", "0"],
            env={**os.environ, "ICP_SYNC_DATA_DIR": data_dir},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sandboxes = Sandboxes(
            hubspot_url=f"http://127.0.0.1:{port}",
            salesforce_url=f"https://127.0.0.1:{port + 1}",
            ca_file=str(Path(data_dir) / "sandbox-ca.pem"),
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{sandboxes.hubspot_url}/_sandbox/stats", timeout=1)
                    httpx.get(
                        f"{sandboxes.salesforce_url}/_sandbox/stats",
                        timeout=1,
                        verify=ssl.create_default_context(cafile=sandboxes.ca_file),
                    )
                    break
                except (httpx.TransportError, OSError):
                    time.sleep(0.2)
            yield sandboxes
        finally:
            process.terminate()
            process.wait(30)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def peak_rss_mb() -> float:
    """This program's peak resident memory so far, in MB: the kernel's high-water mark
    (``VmHWM``), which starts afresh when a program is exec'd. getrusage's ``ru_maxrss``
    is kept across exec, so a worker started from the benchmark's process reported that
    process's size whenever it was the larger (the same figure for every worker)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_note() -> str:
    """How many cores the figures had."""
    return f"{os.cpu_count()} cores"
