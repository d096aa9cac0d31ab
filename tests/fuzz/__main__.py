"""``make fuzz``: schemathesis against the real service, with an admin key.

Starts ``icp-sync serve`` on a fresh embedded PostgreSQL in a temporary data dir, mints an
admin key, and lets schemathesis generate requests for every operation of the OpenAPI
document: any 5xx, or a response that breaks the documented schema, status codes or content
types, fails the run. Not part of ``make test`` (it installs schemathesis and runs for
minutes); its result goes in the issue's note.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(extra: list[str]) -> int:
    """Serve, mint a key, run schemathesis; its exit code."""
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="icp-sync-fuzz-") as data_dir:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
        env |= {"ICP_SYNC_DATA_DIR": data_dir, "ICP_SYNC_PORT": str(port)}
        env |= {"ICP_SYNC_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([bin_dir / "icp-sync", "serve"], env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.3)
            minted = subprocess.run(
                [bin_dir / "icp-sync", "api-key", "create", "--name", "fuzz", "--scopes", "admin"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            key = minted.stdout.strip().splitlines()[-1]
            return subprocess.run(
                [
                    bin_dir / "schemathesis",
                    "run",
                    f"{url}/openapi.json",
                    "--header",
                    f"Authorization: Bearer {key}",
                    "--checks",
                    CHECKS,
                    "--workers",
                    "2",
                    # Revoking keys would revoke the run's own key, and every later request
                    # would only test the 401 (revocation has its own tests).
                    "--exclude-path-regex",
                    "^/api/v1/api-keys/",
                    *extra,
                ],
                check=False,
            ).returncode
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
