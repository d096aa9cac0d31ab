"""One way to call HubSpot: rate-limited, counted, retried, and with errors sorted by meaning.

The official client raises a different ``ApiException`` class per API module and lets urllib3
timeouts and dropped connections through; its own urllib3 retries never cover POST (search,
batch read, batch update). So every call goes through :class:`HubSpotCaller`, which retries
429s (as long as HubSpot asks), 5xx answers, timeouts and connection errors with full-jitter
exponential backoff, and turns everything else into a typed error.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import urllib3
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.deals.exceptions import ApiException as DealsApiException
from hubspot.crm.pipelines.exceptions import ApiException as PipelinesApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from connectors.base import (
    NO_ANSWER,
    CallObserver,
    FatalError,
    RateLimiter,
    RetriableError,
    ignore_call,
)

__all__ = ["HubSpotCaller", "HubSpotRequestError", "backoff_delay"]

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_BASE_SECONDS: Final = 0.5
BACKOFF_CAP_SECONDS: Final = 30.0
# HubSpot's own clients wait out a whole rolling window after a TEN_SECONDLY_ROLLING 429, and
# one second after a SECONDLY (search) one.
SECONDLY_WAIT_SECONDS: Final = 1.0
DAILY_LIMIT_RETRY_SECONDS: Final = 3600.0
# One ApiException class per generated API module: every module the connector calls.
_API_EXCEPTIONS: Final = (
    AssociationsApiException,
    CompaniesApiException,
    ContactsApiException,
    DealsApiException,
    PipelinesApiException,
    PropertiesApiException,
)


class HubSpotRequestError(FatalError):
    """HubSpot refused a request in a way retrying will not fix (4xx other than 429)."""

    def __init__(self, message: str, *, status: int, category: str | None, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.detail = detail


def backoff_delay(attempt: int, *, rng: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base × 2^attempt)]."""
    return rng() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)


def error_body(exc: Any) -> dict[str, Any]:
    """HubSpot's JSON error body of a client exception, or {} when it has none."""
    raw = getattr(exc, "body", None)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        return {"message": raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)}
    return body if isinstance(body, dict) else {}


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:  # a plain dict: look the name up case-insensitively
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def rate_limit_wait(headers: Mapping[str, str] | None, body: Mapping[str, Any]) -> float:
    """How long a 429 asks us to wait: Retry-After, else the policy and its window headers."""
    retry_after = _float(_header(headers, "Retry-After"))
    if retry_after is not None and retry_after >= 0:
        return retry_after
    if body.get("policyName") == "SECONDLY":
        return SECONDLY_WAIT_SECONDS
    interval_ms = _float(_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds"))
    remaining = _float(_header(headers, "X-HubSpot-RateLimit-Remaining"))
    if interval_ms is not None and (remaining is None or remaining <= 0):
        return interval_ms / 1000.0
    return SECONDLY_WAIT_SECONDS


class HubSpotCaller:
    """Makes every HubSpot API call of one connector, counts the HTTP attempts and tells
    ``observe_call`` how each one ended."""

    def __init__(
        self,
        *,
        rate_limiter: RateLimiter | None,
        sleep: Callable[[float], None],
        max_attempts: int,
        timeout: float,
        rng: Callable[[], float] = random.random,
        observe_call: CallObserver = ignore_call,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.observe_call = observe_call
        self.rate_limiter = rate_limiter
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.rng = rng
        self.calls = 0
        # A sync reads companies, deals and contacts and writes back, each in its own thread.
        self._counting = threading.Lock()

    def __call__(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``method(*args, **kwargs)`` with a timeout, retried until it answers or gives up.

        Raises RetriableError when attempts run out (or a daily limit is hit), FatalError
        (HubSpotRequestError) for a 4xx that retrying cannot fix.
        """
        kwargs["_request_timeout"] = self.timeout
        last_problem = ""
        wait = 0.0
        for attempt in range(self.max_attempts):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            with self._counting:
                self.calls += 1
            try:
                result = method(*args, **kwargs)
            except _API_EXCEPTIONS as exc:
                status = int(exc.status or 0)
                self.observe_call(str(status) if status else NO_ANSWER)
                body = error_body(exc)
                message = str(body.get("message") or exc.reason or "no message")
                if status == 429:
                    wait = rate_limit_wait(exc.headers, body)
                    last_problem = f"429 rate limited ({body.get('policyName') or 'unknown'})"
                    if body.get("policyName") == "DAILY":
                        raise RetriableError(
                            f"HubSpot daily API limit reached during {what}: {message}",
                            retry_after=DAILY_LIMIT_RETRY_SECONDS,
                        ) from exc
                    if attempt + 1 < self.max_attempts:
                        self._pause_for_rate_limit(wait)
                    continue
                if status == 0 or status >= 500:
                    last_problem = f"{status or 'connection error'}: {message}"
                elif status in (401, 403):
                    raise HubSpotRequestError(
                        f"HubSpot refused the access token ({status}) during {what}: {message}",
                        status=status,
                        category=body.get("category"),
                        detail=message,
                    ) from exc
                else:
                    raise HubSpotRequestError(
                        f"HubSpot refused {what} ({status}): {message}",
                        status=status,
                        category=body.get("category"),
                        detail=message,
                    ) from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self.observe_call(NO_ANSWER)
                # Timeouts and dropped connections: the call may or may not have happened, and
                # every call we make (reads, idempotent batch updates) is safe to repeat.
                last_problem = f"{type(exc).__name__}: {exc}"
            else:
                # The client hands back the parsed body only: a non-error answer is a 2xx.
                self.observe_call("200")
                return result
            wait = backoff_delay(attempt, rng=self.rng)
            if attempt + 1 < self.max_attempts:
                log.debug("HubSpot %s failed (%s); retrying in %.2fs", what, last_problem, wait)
                self.sleep(wait)
        raise RetriableError(
            f"HubSpot {what} still failing after {self.max_attempts} attempts: {last_problem}",
            retry_after=wait or None,
        )

    def _pause_for_rate_limit(self, seconds: float) -> None:
        log.info("HubSpot rate limit hit; pausing %.1fs", seconds)
        if self.rate_limiter is not None:
            # Every worker of this connection waits, in its next acquire().
            self.rate_limiter.penalise(seconds)
        else:
            self.sleep(seconds)
