"""MeltanoLabs' ``tap-hubspot``, unchanged, against a freshly seeded HubSpot sandbox.

The tap is installed from PyPI (pinned) into its own virtualenv under ``.peers/``; the sandbox
runs in this process. Only the host the tap calls changes, by ``redirect/sitecustomize.py`` on
its ``PYTHONPATH``. It discovers every stream it knows, syncs the companies, contacts and deals
streams (selecting them in the catalog is user configuration), and its RECORD messages per
stream are counted against what the sandbox holds.

``python -m tests.peers.hubspot`` prints the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

from connectors.sandbox.common.server import start_server
from connectors.sandbox.hubspot import create_app
from tests.peers.report import PeerReport, StreamCount

__all__ = ["TAP", "run"]

TAP: Final = "meltano-tap-hubspot==0.10.1"
ROOT: Final = Path(__file__).resolve().parents[2]
WORK: Final = ROOT / ".peers" / "tap-hubspot"
REDIRECT: Final = Path(__file__).resolve().parent / "redirect"
STREAMS: Final = ("companies", "contacts", "deals")
TOKEN: Final = "sandbox-token"
REAL_HOST: Final = "https://api.hubapi.com"


def ensure_tap() -> Path:
    """The tap's executable, installing the pinned version into its own virtualenv if needed."""
    venv = WORK / "venv"
    executable = venv / "bin" / "tap-hubspot"
    marker = venv / "installed.txt"
    if executable.exists() and marker.exists() and marker.read_text() == TAP:
        return executable
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", TAP], check=True
    )
    marker.write_text(TAP)
    return executable


def _select(catalog: dict[str, Any], streams: tuple[str, ...]) -> dict[str, Any]:
    """The catalog with exactly ``streams`` selected (what a user does in meltano.yml)."""
    for entry in catalog["streams"]:
        for item in entry.get("metadata", []):
            if item.get("breadcrumb") == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def _errors(stderr: str) -> list[str]:
    """The lines of the tap's log that report a failure (a 429 it backs off from and retries
    is HubSpot's search limit doing its job, not a failure)."""
    markers = ("ERROR", "CRITICAL", "Traceback", "Error:")
    return [
        line.strip()
        for line in stderr.splitlines()
        if any(m in line for m in markers) and "Backing off" not in line
    ]


def _count_records(stdout: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        if '"RECORD"' not in line[:60]:  # cheap pre-filter: most lines are records anyway
            continue
        message = json.loads(line)
        if message.get("type") == "RECORD":
            counts[message["stream"]] = counts.get(message["stream"], 0) + 1
    return counts


def run(
    *,
    seed: int = 7,
    companies: int = 2000,
    contacts_per_company: int = 3,
    deals_per_company: int = 2,
) -> PeerReport:
    """Discover and sync with the tap against a sandbox seeded with these figures."""
    executable = ensure_tap()
    app = create_app(token=TOKEN)
    sandbox = app.state.sandbox
    sandbox.reset(
        seed=seed,
        companies=companies,
        deals_per_company=deals_per_company,
        contacts_per_company=contacts_per_company,
    )
    expected = {name: len(sandbox.portal.stores[name].live_ids) for name in STREAMS}
    config_file, catalog_file = WORK / "config.json", WORK / "catalog.json"
    config = {"access_token": TOKEN, "start_date": "2000-01-01T00:00:00Z"}
    config_file.write_text(json.dumps(config))
    started = time.monotonic()
    with start_server(app) as server:
        env = {
            **os.environ,
            "PYTHONPATH": str(REDIRECT),
            "ICP_SYNC_PEER_REDIRECTS": f"{REAL_HOST}={server.url}",
        }
        tap = [str(executable), "--config", str(config_file)]
        discovery = subprocess.run(
            [*tap, "--discover"], env=env, capture_output=True, text=True, check=False
        )
        errors = _errors(discovery.stderr)
        exit_code, counts = discovery.returncode, {}
        if discovery.returncode == 0:
            catalog_file.write_text(json.dumps(_select(json.loads(discovery.stdout), STREAMS)))
            sync = subprocess.run(
                [*tap, "--catalog", str(catalog_file)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            exit_code = sync.returncode
            errors += _errors(sync.stderr)
            counts = _count_records(sync.stdout)
        stats = sandbox.stats()
    return PeerReport(
        peer=f"tap-hubspot ({TAP.split('==')[1]})",
        exit_code=exit_code,
        seconds=time.monotonic() - started,
        calls=stats["total"],
        unmatched_calls=sum(stats["unmatched"].values()),
        streams=[StreamCount(name, counts.get(name, 0), expected[name]) for name in STREAMS],
        errors=errors + [f"unmatched call: {call}" for call in stats["unmatched"]],
    )


if __name__ == "__main__":
    print("\n".join(run().lines()))
