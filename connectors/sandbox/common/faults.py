"""Fault injection and call counting, shared by every CRM sandbox.

A fake asks :class:`FaultInjector` once per API call what to do (nothing, an error status, or a
"timeout": hold the request longer than clients wait, then answer 504) and renders the answer in
its own CRM's error shape. :class:`CallCounter` keeps the numbers ``GET /_sandbox/stats`` reports.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CallCounter", "FaultConfig", "FaultConfigError", "FaultDecision", "FaultInjector"]


class FaultConfigError(ValueError):
    """A ``POST /_sandbox/faults`` body that cannot be applied."""


@dataclass(frozen=True)
class FaultConfig:
    """What to inject: all zero means a well-behaved CRM."""

    error_rate: float = 0.0
    status_codes: tuple[int, ...] = (500, 502, 503)
    latency_ms: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    seed: int | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FaultConfig:
        """Validate an admin request body; unknown keys and out-of-range values are refused."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(payload) - known)
        if unknown:
            raise FaultConfigError(f"unknown fault settings: {', '.join(unknown)}")
        values = {k: v for k, v in payload.items() if v is not None}
        try:
            config = cls(
                error_rate=float(values.get("error_rate", 0.0)),
                status_codes=tuple(int(c) for c in values.get("status_codes", cls.status_codes)),
                latency_ms=float(values.get("latency_ms", 0.0)),
                timeout_rate=float(values.get("timeout_rate", 0.0)),
                timeout_seconds=float(values.get("timeout_seconds", 30.0)),
                seed=int(values["seed"]) if "seed" in values else None,
            )
        except (TypeError, ValueError) as exc:
            raise FaultConfigError(f"invalid fault settings: {exc}") from exc
        for name in ("error_rate", "timeout_rate"):
            if not 0.0 <= getattr(config, name) <= 1.0:
                raise FaultConfigError(f"{name} must be between 0 and 1")
        if config.latency_ms < 0 or config.timeout_seconds < 0:
            raise FaultConfigError("latency_ms and timeout_seconds must not be negative")
        if config.error_rate and not config.status_codes:
            raise FaultConfigError("status_codes must not be empty when error_rate > 0")
        if any(not 400 <= c <= 599 for c in config.status_codes):
            raise FaultConfigError("status_codes must be HTTP error statuses (400-599)")
        return config

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready data."""
        data = asdict(self)
        data["status_codes"] = list(self.status_codes)
        return data


@dataclass(frozen=True)
class FaultDecision:
    """What one call gets: extra latency, and maybe a timeout or an error status."""

    latency_seconds: float = 0.0
    timeout_seconds: float | None = None
    status_code: int | None = None


_NO_FAULT = FaultDecision()


class FaultInjector:
    """Draws a :class:`FaultDecision` per call from the current :class:`FaultConfig`."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)

    def configure(self, config: FaultConfig) -> None:
        """Replace the settings; a seed makes the sequence of faults reproducible."""
        self.config = config
        self._rng = random.Random(config.seed)

    def decide(self) -> FaultDecision:
        """The fault, if any, for the next call."""
        config = self.config
        if not (config.error_rate or config.timeout_rate or config.latency_ms):
            return _NO_FAULT
        latency = config.latency_ms / 1000.0
        if config.timeout_rate and self._rng.random() < config.timeout_rate:
            return FaultDecision(latency, timeout_seconds=config.timeout_seconds)
        if config.error_rate and self._rng.random() < config.error_rate:
            status = config.status_codes[int(self._rng.random() * len(config.status_codes))]
            return FaultDecision(latency, status_code=status)
        return FaultDecision(latency)


@dataclass
class CallCounter:
    """API calls per ``"<METHOD> <path template>"``, and how many of them were rate limited.

    Calls to paths the fake does not serve are counted too, under ``unmatched`` by their raw
    ``"<METHOD> <path>"``, so a harness driving a third-party client sees every call it made.
    """

    calls: Counter[str] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, key: str) -> None:
        """Record one call to an endpoint."""
        with self._lock:
            self.calls[key] += 1

    def count_unmatched(self, method: str, path: str) -> None:
        """Record one call to a path no route serves."""
        with self._lock:
            self.unmatched[f"{method} {path}"] += 1

    def count_rate_limited(self) -> None:
        """Record that a call was answered 429."""
        with self._lock:
            self.rate_limited += 1

    def reset(self) -> None:
        """Forget every call."""
        with self._lock:
            self.calls.clear()
            self.unmatched.clear()
            self.rate_limited = 0

    def snapshot(self) -> dict[str, Any]:
        """``{"calls": {...}, "unmatched": {...}, "total": n, "rate_limited": n}``."""
        with self._lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "unmatched": dict(sorted(self.unmatched.items())),
                "total": sum(self.calls.values()) + sum(self.unmatched.values()),
                "rate_limited": self.rate_limited,
            }
