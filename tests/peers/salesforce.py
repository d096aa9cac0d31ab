"""Salesforce extractors of the ecosystem, unchanged, against the Salesforce sandbox (DESIGN §7).

Each peer is installed from PyPI at a pinned version into its own virtualenv under ``.peers/``,
logs in with the OAuth refresh-token flow at ``https://login.salesforce.com`` (redirected to the
sandbox by ``tests/peers/redirect``, the only change to its world), discovers the org, and
extracts Account, Contact and Opportunity from a freshly seeded sandbox:

- :func:`run`: singer-io ``tap-salesforce`` with every field it supports selected, over the REST
  API or (``api_type="BULK"``) the Bulk API 1.0;
- :func:`run_airbyte`: Airbyte's ``source-salesforce`` (REST and Bulk API 2.0 as it chooses, or
  Bulk API 2.0 for all with ``bulk=True``), an extra check.

``python -m tests.peers.salesforce`` prints the reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.server import start_server
from connectors.sandbox.salesforce import SalesforceSandbox, create_app, tls_files
from tests.peers.report import PeerReport, StreamCount

__all__ = ["AIRBYTE", "STREAMS", "TAP", "Peer", "run", "run_airbyte"]

STREAMS: Final = ("Account", "Contact", "Opportunity")
ROOT: Final = Path(__file__).resolve().parents[2]
REDIRECT: Final = Path(__file__).resolve().parent / "redirect"
# The sandbox's connected app and its refresh token (create_app's defaults).
CREDENTIALS: Final = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "refresh_token": "sandbox-refresh-token",
}


@dataclass(frozen=True)
class Peer:
    """A third-party extractor: its pinned PyPI requirement and the command it installs."""

    name: str
    requirement: str
    command: str

    @property
    def home(self) -> Path:
        """Its folder under ``.peers/`` (git-ignored): virtualenv, TLS files."""
        return ROOT / ".peers" / self.requirement.split("==")[0]

    @property
    def version(self) -> str:
        """The pinned version."""
        return self.requirement.split("==")[1]

    def ensure(self) -> Path:
        """Its executable, installing it into its own virtualenv on first use."""
        venv = self.home / "venv"
        marker = venv / f".installed-{self.requirement}"
        if not marker.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*pip, self.requirement], check=True)
            marker.touch()
        return venv / "bin" / self.command


# 2.8.1 asks for API v61.0; its BULK mode is the Bulk API 1.0.
TAP: Final = Peer("tap-salesforce", "tap-salesforce==2.8.1", "tap-salesforce")
AIRBYTE: Final = Peer(
    "airbyte source-salesforce", "airbyte-source-salesforce==2.10.3", "source-salesforce"
)


@dataclass
class _Sandbox:
    """A seeded sandbox for one peer run, and where the peer's files go."""

    admin: SandboxAdmin
    sandbox: SalesforceSandbox
    env: dict[str, str]
    workdir: Path

    def expected(self) -> dict[str, int]:
        """The live records the sandbox holds per stream."""
        return {name: self.sandbox.org.stores[name].live_count() for name in STREAMS}

    def call(self, executable: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the peer with the redirecting environment."""
        command = [str(executable), *args]
        return subprocess.run(
            command, env=self.env, cwd=self.workdir, capture_output=True, text=True, check=False
        )

    def report(
        self,
        peer: str,
        *,
        exit_code: int,
        started: float,
        extracted: Counter[str],
        expected: dict[str, int],
        errors: list[str],
    ) -> PeerReport:
        """The run's report, with the calls the sandbox counted."""
        seconds = time.monotonic() - started
        stats = self.admin.stats()
        unmatched = stats["unmatched"]
        return PeerReport(
            peer=peer,
            exit_code=exit_code,
            seconds=seconds,
            calls=int(stats["total"]),
            unmatched_calls=sum(unmatched.values()),
            streams=[StreamCount(name, extracted[name], expected[name]) for name in STREAMS],
            errors=errors + [f"unmatched: {call} ×{n}" for call, n in unmatched.items()],
        )


@contextmanager
def _seeded(peer: Peer, **reset: int) -> Iterator[_Sandbox]:
    """The Salesforce fake served over TLS in-process, seeded per ``reset``."""
    ca_file, cert_file, key_file = tls_files(peer.home / "tls")
    app = create_app()
    with (
        # h11 sends header names as Salesforce spells them (see salesforce/headers.py).
        start_server(app, ssl_certfile=cert_file, ssl_keyfile=key_file, http="h11") as server,
        SandboxAdmin(server.url, verify=ca_file) as admin,
        tempfile.TemporaryDirectory(prefix=f"{peer.command}-") as scratch,
    ):
        admin.reset(**reset)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
            "PYTHONPATH": str(REDIRECT),
            "ICP_SYNC_PEER_REDIRECTS": f"https://login.salesforce.com={server.url}",
            "REQUESTS_CA_BUNDLE": ca_file,
        }
        yield _Sandbox(admin, app.state.sandbox, env, Path(scratch))


# -- singer-io tap-salesforce --------------------------------------------------------------------


def select_streams(catalog: dict[str, Any], streams: tuple[str, ...]) -> dict[str, Any]:
    """The discovered catalog with ``streams`` selected (every field the tap supports),
    replicated incrementally on their replication key, as a user configures a Singer tap."""
    selected = []
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] not in streams:
            continue
        for item in entry["metadata"]:
            metadata = item["metadata"]
            if not item["breadcrumb"]:
                metadata["selected"] = True
                keys = metadata.get("valid-replication-keys")
                if keys:
                    metadata["replication-method"] = "INCREMENTAL"
                    metadata["replication-key"] = keys[0]
                else:
                    metadata["replication-method"] = "FULL_TABLE"
            elif metadata.get("inclusion") != "unsupported":
                metadata["selected"] = True
        selected.append(entry)
    return {"streams": selected}


def _singer_errors(stderr: str) -> list[str]:
    """The tap's CRITICAL and ERROR log lines, and a traceback's last line."""
    lines = stderr.splitlines()
    found = [line.strip() for line in lines if " CRITICAL " in line or " ERROR " in line]
    if "Traceback (most recent call last):" in stderr:
        found.append(lines[-1].strip())
    return found


def run(
    *,
    seed: int = 7,
    companies: int = 2000,
    contacts_per_company: int = 3,
    deals_per_company: int = 2,
    api_type: str = "REST",
) -> PeerReport:
    """tap-salesforce's discovery and sync against a freshly seeded sandbox, compared with what
    it holds; ``api_type``: ``REST`` (queryAll) or ``BULK`` (Bulk API 1.0 jobs)."""
    tap = TAP.ensure()
    with _seeded(
        TAP,
        seed=seed,
        companies=companies,
        contacts_per_company=contacts_per_company,
        deals_per_company=deals_per_company,
    ) as sandbox:
        expected = sandbox.expected()
        config = sandbox.workdir / "config.json"
        settings = {**CREDENTIALS, "start_date": "2000-01-01T00:00:00Z", "api_type": api_type}
        config.write_text(json.dumps(settings))
        started = time.monotonic()
        discovered = sandbox.call(tap, "--config", str(config), "--discover")
        errors = _singer_errors(discovered.stderr)
        exit_code = discovered.returncode
        extracted: Counter[str] = Counter()
        if exit_code == 0:
            catalog = sandbox.workdir / "catalog.json"
            catalog.write_text(json.dumps(select_streams(json.loads(discovered.stdout), STREAMS)))
            # This tap reads its catalog from --properties (the older Singer spelling).
            synced = sandbox.call(tap, "--config", str(config), "--properties", str(catalog))
            exit_code = synced.returncode
            errors += _singer_errors(synced.stderr)
            for line in synced.stdout.splitlines():
                message = json.loads(line)
                if message.get("type") == "RECORD":
                    extracted[message["stream"]] += 1
        return sandbox.report(
            f"{TAP.name} {TAP.version} ({api_type})",
            exit_code=exit_code,
            started=started,
            extracted=extracted,
            expected=expected,
            errors=errors,
        )


# -- Airbyte source-salesforce -------------------------------------------------------------------


def _airbyte_messages(stdout: str) -> Iterator[dict[str, Any]]:
    for line in stdout.splitlines():
        if line.startswith("{"):
            yield json.loads(line)


def _airbyte_errors(messages: list[dict[str, Any]]) -> list[str]:
    """Error traces' messages and ERROR/FATAL log lines' first lines."""
    found = []
    for message in messages:
        if message.get("type") == "TRACE" and message["trace"].get("type") == "ERROR":
            found.append(message["trace"]["error"].get("message", ""))
        elif message.get("type") == "LOG" and message["log"]["level"] in ("ERROR", "FATAL"):
            found.append(message["log"]["message"].splitlines()[0])
    return found


def run_airbyte(
    *,
    seed: int = 7,
    companies: int = 2000,
    contacts_per_company: int = 3,
    deals_per_company: int = 2,
    bulk: bool = False,
) -> PeerReport:
    """Airbyte's source-salesforce (check, discover, full-refresh read) against a freshly seeded
    sandbox; ``bulk``: every stream through Bulk API 2.0 jobs."""
    source = AIRBYTE.ensure()
    with _seeded(
        AIRBYTE,
        seed=seed,
        companies=companies,
        contacts_per_company=contacts_per_company,
        deals_per_company=deals_per_company,
    ) as sandbox:
        expected = sandbox.expected()
        config = sandbox.workdir / "config.json"
        settings = {
            **CREDENTIALS,
            "auth_type": "Client",
            "is_sandbox": False,
            "start_date": "2000-01-01T00:00:00Z",
            "force_use_bulk_api": bulk,
        }
        config.write_text(json.dumps(settings))
        started = time.monotonic()
        messages: list[dict[str, Any]] = []
        exit_code = 0
        for verb in ("check", "discover"):
            answer = sandbox.call(source, verb, "--config", str(config))
            messages += list(_airbyte_messages(answer.stdout))
            exit_code = exit_code or answer.returncode
        status = next((m for m in messages if m.get("type") == "CONNECTION_STATUS"), None)
        if status is None or status["connectionStatus"]["status"] != "SUCCEEDED":
            exit_code = exit_code or 1
        extracted: Counter[str] = Counter()
        found = next((m["catalog"] for m in messages if m.get("type") == "CATALOG"), None)
        if exit_code == 0 and found is not None:
            chosen = [
                {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
                for s in found["streams"]
                if s["name"] in STREAMS
            ]
            catalog = sandbox.workdir / "catalog.json"
            catalog.write_text(json.dumps({"streams": chosen}))
            read = sandbox.call(source, "read", "--config", str(config), "--catalog", str(catalog))
            exit_code = read.returncode
            for message in _airbyte_messages(read.stdout):
                if message.get("type") == "RECORD":
                    extracted[message["record"]["stream"]] += 1
                else:
                    messages.append(message)
        return sandbox.report(
            f"{AIRBYTE.name} {AIRBYTE.version} ({'Bulk 2.0' if bulk else 'REST + Bulk 2.0'})",
            exit_code=exit_code,
            started=started,
            extracted=extracted,
            expected=expected,
            errors=_airbyte_errors(messages),
        )


if __name__ == "__main__":
    reports = [run(api_type="REST"), run(api_type="BULK"), run_airbyte(), run_airbyte(bulk=True)]
    for report in reports:
        for line in report.lines():
            print(line)
