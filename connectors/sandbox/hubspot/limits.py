"""HubSpot's rate limits: a rolling 10-second window per token, and a per-second search limit."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final

__all__ = ["RateLimiter", "RateVerdict"]

WINDOW_SECONDS: Final = 10.0
SEARCH_WINDOW_SECONDS: Final = 1.0
DEFAULT_PER_10S: Final = 190  # private apps on Professional/Enterprise portals
DEFAULT_SEARCH_PER_SECOND: Final = 5


@dataclass(frozen=True)
class RateVerdict:
    """Whether a call may proceed, and what the rate-limit headers should say."""

    allowed: bool
    policy: str | None = None  # TEN_SECONDLY_ROLLING or SECONDLY when refused
    maximum: int = 0
    remaining: int = 0


@dataclass
class RateLimiter:
    """Sliding-window counters per access token; 0 switches a limit off."""

    per_10s: int = DEFAULT_PER_10S
    search_per_second: int = DEFAULT_SEARCH_PER_SECOND
    _calls: dict[str, deque[float]] = field(default_factory=dict)
    _searches: dict[str, deque[float]] = field(default_factory=dict)

    def configure(self, *, per_10s: int, search_per_second: int | None = None) -> None:
        """Set the limits; with no search limit given, ``per_10s=0`` switches both off."""
        self.per_10s = max(0, per_10s)
        if search_per_second is not None:
            self.search_per_second = max(0, search_per_second)
        elif per_10s == 0:
            self.search_per_second = 0
        else:
            self.search_per_second = DEFAULT_SEARCH_PER_SECOND
        self.reset()

    def reset(self) -> None:
        """Forget recent calls."""
        self._calls.clear()
        self._searches.clear()

    def check(self, token: str, *, search: bool = False) -> RateVerdict:
        """Admit and count one call, or say which policy refuses it (refused calls don't count)."""
        now = time.monotonic()
        if search and self.search_per_second:
            searches = self._searches.setdefault(token, deque())
            while searches and searches[0] <= now - SEARCH_WINDOW_SECONDS:
                searches.popleft()
            if len(searches) >= self.search_per_second:
                return RateVerdict(False, "SECONDLY", self.search_per_second, 0)
        if not self.per_10s:
            if search and self.search_per_second:
                self._searches[token].append(now)
            return RateVerdict(True)
        calls = self._calls.setdefault(token, deque())
        while calls and calls[0] <= now - WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= self.per_10s:
            return RateVerdict(False, "TEN_SECONDLY_ROLLING", self.per_10s, 0)
        calls.append(now)
        if search and self.search_per_second:
            self._searches[token].append(now)
        return RateVerdict(True, None, self.per_10s, self.per_10s - len(calls))
