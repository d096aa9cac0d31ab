"""A small client for a fake's ``/_sandbox/`` admin endpoints: for tests, demo and benchmarks."""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

__all__ = ["SandboxAdmin"]


class SandboxAdmin:
    """Drives one CRM fake's admin endpoints (reset, stats, faults, rate limit, webhooks, edits)."""

    def __init__(self, base_url: str, *, timeout: float = 120.0, verify: bool | str = True) -> None:
        self.url = base_url.rstrip("/")
        # A CA file (the Salesforce fake's) becomes an SSL context: httpx no longer takes paths.
        trust = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self.http = httpx.Client(base_url=self.url, timeout=timeout, verify=trust)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def __enter__(self) -> SandboxAdmin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON to ``/_sandbox/<path>``; raise on an error status."""
        response = self.http.post(f"/_sandbox/{path}", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def get(self, path: str) -> dict[str, Any]:
        """GET ``/_sandbox/<path>``; raise on an error status."""
        response = self.http.get(f"/_sandbox/{path}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(
        self, *, seed: int = 1, companies: int = 0, deals_per_company: int = 2, **extra: Any
    ) -> dict[str, Any]:
        """Reseed the fake (``companies=0`` empties it); extra keys pass through."""
        return self.post(
            "reset",
            {"seed": seed, "companies": companies, "deals_per_company": deals_per_company, **extra},
        )

    def stats(self) -> dict[str, Any]:
        """``{"calls": {"<METHOD> <path template>": n}, "total", "rate_limited"}``."""
        return self.get("stats")

    def faults(self, **settings: Any) -> dict[str, Any]:
        """Set fault injection (no arguments: none)."""
        return self.post("faults", settings)

    def rate_limit(self, per_10s: int, **extra: Any) -> dict[str, Any]:
        """Set the rolling 10-second limit (0 = unlimited)."""
        return self.post("rate-limit", {"per_10s": per_10s, **extra})

    def webhooks(self, target_url: str | None, **extra: Any) -> dict[str, Any]:
        """Send change notifications to ``target_url`` (None: stop)."""
        return self.post("webhooks", {"target_url": target_url, **extra})

    def edits(self, **body: Any) -> dict[str, Any]:
        """Simulate a rep's edits: ``count=n``, or ``ids=[...], properties={...}``."""
        return self.post("edits", body)

    def wait_until_sent(self, *, timeout: float = 10.0) -> dict[str, Any]:
        """``GET /_sandbox/webhooks`` once nothing is queued or being sent (retries included):
        every notification of the changes made so far has been delivered or given up on."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.get("webhooks")
            # HubSpot counts pending_events, Salesforce pending_notifications.
            pending = next(n for key, n in state.items() if key.startswith("pending_"))
            if pending == 0:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pending} notifications still unsent after {timeout} s")
            time.sleep(0.02)
