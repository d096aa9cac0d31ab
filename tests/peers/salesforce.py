"""singer-io ``tap-salesforce``, unchanged, against the Salesforce sandbox (DESIGN §7).

The tap is installed from PyPI at a pinned version into its own virtualenv
(``.peers/tap-salesforce/venv``), logs in with the OAuth refresh-token flow at
``https://login.salesforce.com`` (redirected to the sandbox by ``tests/peers/redirect``, the only
change to its world), discovers the org, and syncs Account, Contact and Opportunity with every
field the tap supports selected, over the REST API or (``api_type="BULK"``) the Bulk API 1.0.
``python -m tests.peers.salesforce`` prints the report of both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Final

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.server import start_server
from connectors.sandbox.salesforce import create_app, tls_files
from tests.peers.report import PeerReport, StreamCount

__all__ = ["PEER", "STREAMS", "run"]

PEER: Final = "tap-salesforce"
# Pinned: 2.8.1 asks for API v61.0 and has Bulk API 1.0 only.
REQUIREMENT: Final = "tap-salesforce==2.8.1"
STREAMS: Final = ("Account", "Contact", "Opportunity")
ROOT: Final = Path(__file__).resolve().parents[2]
HOME: Final = ROOT / ".peers" / "tap-salesforce"
REDIRECT: Final = Path(__file__).resolve().parent / "redirect"
# The sandbox's connected app and its refresh token (create_app's defaults).
CREDENTIALS: Final = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "refresh_token": "sandbox-refresh-token",
}


def ensure_tap(home: Path = HOME) -> Path:
    """The tap's executable, installing it into its own virtualenv on first use."""
    venv = home / "venv"
    tap = venv / "bin" / "tap-salesforce"
    marker = venv / f".installed-{REQUIREMENT}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", REQUIREMENT],
            check=True,
        )
        marker.touch()
    return tap


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


def _errors(stderr: str) -> list[str]:
    """The tap's CRITICAL and ERROR log lines, and a traceback's last line."""
    lines = stderr.splitlines()
    found = [line.strip() for line in lines if " CRITICAL " in line or " ERROR " in line]
    if "Traceback (most recent call last):" in stderr:
        found.append(lines[-1].strip())
    return found


def _tap(
    tap: Path, args: list[str], env: dict[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tap), *args], env=env, cwd=workdir, capture_output=True, text=True, check=False
    )


def run(
    *,
    seed: int = 7,
    companies: int = 2000,
    contacts_per_company: int = 3,
    deals_per_company: int = 2,
    api_type: str = "REST",
) -> PeerReport:
    """Seed a fresh sandbox, run the tap's discovery and sync, and compare what came out.

    ``api_type``: ``REST`` (query/queryAll) or ``BULK`` (Bulk API 1.0 jobs).
    """
    tap = ensure_tap()
    ca_file, cert_file, key_file = tls_files(HOME / "tls")
    app = create_app()
    sandbox = app.state.sandbox
    with (
        # h11 sends header names as Salesforce spells them (see salesforce/headers.py).
        start_server(app, ssl_certfile=cert_file, ssl_keyfile=key_file, http="h11") as server,
        SandboxAdmin(server.url, verify=ca_file) as admin,
        tempfile.TemporaryDirectory(prefix="tap-salesforce-") as scratch,
    ):
        admin.reset(
            seed=seed,
            companies=companies,
            contacts_per_company=contacts_per_company,
            deals_per_company=deals_per_company,
        )
        expected = {name: sandbox.org.stores[name].live_count() for name in STREAMS}
        workdir = Path(scratch)
        config = workdir / "config.json"
        config.write_text(
            json.dumps({**CREDENTIALS, "start_date": "2000-01-01T00:00:00Z", "api_type": api_type})
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
            "PYTHONPATH": str(REDIRECT),
            "ICP_SYNC_PEER_REDIRECTS": f"https://login.salesforce.com={server.url}",
            "REQUESTS_CA_BUNDLE": ca_file,
        }
        started = time.monotonic()
        discovered = _tap(tap, ["--config", str(config), "--discover"], env, workdir)
        errors = _errors(discovered.stderr)
        exit_code = discovered.returncode
        extracted: Counter[str] = Counter()
        if exit_code == 0:
            catalog = workdir / "catalog.json"
            catalog.write_text(json.dumps(select_streams(json.loads(discovered.stdout), STREAMS)))
            # This tap reads its catalog from --properties (the older Singer spelling).
            synced = _tap(
                tap, ["--config", str(config), "--properties", str(catalog)], env, workdir
            )
            exit_code = synced.returncode
            errors += _errors(synced.stderr)
            for line in synced.stdout.splitlines():
                message = json.loads(line)
                if message.get("type") == "RECORD":
                    extracted[message["stream"]] += 1
        seconds = time.monotonic() - started
        stats = admin.stats()
    return PeerReport(
        peer=f"{PEER} {REQUIREMENT.split('==')[1]} ({api_type})",
        exit_code=exit_code,
        seconds=seconds,
        calls=int(stats["total"]),
        unmatched_calls=sum(stats["unmatched"].values()),
        streams=[StreamCount(name, extracted[name], expected[name]) for name in STREAMS],
        errors=errors + [f"unmatched: {call} ×{n}" for call, n in stats["unmatched"].items()],
    )


if __name__ == "__main__":
    for api in ("REST", "BULK"):
        for line in run(api_type=api).lines():
            print(line)
