"""One way to call Salesforce: rate-limited, counted, retried, and with errors sorted by meaning.

simple-salesforce sends through a ``requests.Session`` and raises one exception class per
status (``SalesforceMalformedRequest`` for 400, ``SalesforceRefusedRequest`` for 403, ...);
it neither retries nor sets timeouts. So:

- :class:`MeteredAdapter` wraps the session's transport adapters: every HTTP attempt (logins
  and token refreshes included) waits for the rate limiter, is counted, gets the connector's
  timeout and CA bundle, and reports the ``Sforce-Limit-Info: api-usage=used/max`` header.
- :class:`SalesforceCaller` makes each API call: it stops before a call once the org's daily
  API allocation is used up to the connection's share, retries 5xx answers, timeouts and
  dropped connections with full-jitter exponential backoff, refreshes an expired session
  once, and turns everything else into a typed error.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import requests
from requests.adapters import BaseAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceRefusedRequest,
)

from connectors.base import (
    NO_ANSWER,
    CallObserver,
    FatalError,
    RateLimiter,
    RetriableError,
    ignore_call,
)

__all__ = [
    "ApiMeter",
    "MeteredAdapter",
    "SalesforceCaller",
    "SalesforceRequestError",
    "backoff_delay",
    "error_details",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_BASE_SECONDS: Final = 0.5
BACKOFF_CAP_SECONDS: Final = 30.0
# The daily allocation is a rolling 24-hour window: an hour frees a useful part of it. Used
# when Salesforce does not say when calls are allowed again.
DAILY_LIMIT_RETRY_SECONDS: Final = 3600.0
# REQUEST_LIMIT_EXCEEDED also reports too many concurrent long requests, which clears fast.
CONCURRENT_LIMIT_RETRY_SECONDS: Final = 60.0
RATE_LIMITED_WAIT_SECONDS: Final = 10.0
REQUEST_LIMIT_EXCEEDED: Final = "REQUEST_LIMIT_EXCEEDED"
INVALID_SESSION_ID: Final = "INVALID_SESSION_ID"


class SalesforceRequestError(FatalError):
    """Salesforce refused a request in a way retrying will not fix (400, 403, 404, ...)."""

    def __init__(self, message: str, *, status: int, error_code: str | None, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.detail = detail


def backoff_delay(attempt: int, *, rng: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base × 2^attempt)]."""
    return rng() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)


def error_details(exc: SalesforceError) -> tuple[str | None, str]:
    """Salesforce's ``errorCode`` and message from an exception's parsed body
    (``[{"message": ..., "errorCode": ...}]``, or an OAuth ``{"error", "error_description"}``)."""
    content: Any = exc.content
    if isinstance(content, bytes):
        content = content.decode(errors="replace")
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        first = content[0]
        code = first.get("errorCode")
        messages = [str(item.get("message") or "") for item in content if isinstance(item, Mapping)]
        return (str(code) if code else None), "; ".join(m for m in messages if m) or str(code)
    if isinstance(content, Mapping):
        code = content.get("errorCode") or content.get("error")
        message = content.get("message") or content.get("error_description") or code
        return (str(code) if code else None), str(message)
    return None, str(content or "no message")[:500]


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """The org's API calls in the last 24 hours and its allocation, as last reported."""

    used: int
    total: int

    @property
    def share(self) -> float:
        """Used / allocated, 0 when the allocation is unknown."""
        return self.used / self.total if self.total > 0 else 0.0


class ApiMeter:
    """What the transport saw: HTTP attempts, the last API usage and the last answer's headers."""

    def __init__(
        self,
        *,
        rate_limiter: RateLimiter | None,
        timeout: float,
        verify: str | None = None,
        observe_call: CallObserver = ignore_call,
    ) -> None:
        self.observe_call = observe_call
        self.rate_limiter = rate_limiter
        self.timeout = timeout
        self.verify = verify
        self.calls = 0
        self.usage: ApiUsage | None = None
        self.last_headers: Mapping[str, str] = {}
        self._lock = threading.Lock()

    def before_send(self) -> None:
        """Wait for the rate limiter, then count the attempt."""
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        with self._lock:
            self.calls += 1

    def after_send(self, response: requests.Response) -> None:
        """Remember the answer's headers and the API usage it reports."""
        self.observe_call(str(response.status_code))
        self.last_headers = response.headers
        limit_info = response.headers.get("Sforce-Limit-Info")
        if limit_info:
            usage = Salesforce.parse_api_usage(limit_info).get("api-usage")
            if usage is not None:
                self.usage = ApiUsage(used=int(usage.used), total=int(usage.total))


class MeteredAdapter(BaseAdapter):
    """A transport adapter that meters, times out and verifies every request it passes on."""

    def __init__(self, inner: BaseAdapter, meter: ApiMeter) -> None:
        super().__init__()
        self.inner = inner
        self.meter = meter

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Send ``request`` through the wrapped adapter."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.meter.timeout
        if self.meter.verify is not None:
            # Set here, not only on the session: REQUESTS_CA_BUNDLE would override session.verify.
            kwargs["verify"] = self.meter.verify
        self.meter.before_send()
        try:
            response = self.inner.send(request, **kwargs)
        except requests.RequestException:
            self.meter.observe_call(NO_ANSWER)
            raise
        self.meter.after_send(response)
        return response

    def close(self) -> None:
        """Close the wrapped adapter's connections."""
        self.inner.close()


def meter_session(session: requests.Session, meter: ApiMeter) -> None:
    """Route every adapter of ``session`` through ``meter``."""
    if meter.verify is not None:
        session.verify = meter.verify
    for prefix, adapter in list(session.adapters.items()):
        if not isinstance(adapter, MeteredAdapter):
            session.mount(prefix, MeteredAdapter(adapter, meter))


class SalesforceLogin(Protocol):
    """Hands out a signed-in client, and signs in again when the session expired."""

    can_refresh: bool

    def client(self) -> Salesforce:
        """The current client, signing in first when there is none."""
        ...

    def refresh(self) -> None:
        """Forget the session: the next ``client()`` signs in again."""
        ...


class SalesforceCaller:
    """Makes every Salesforce API call of one connector."""

    def __init__(
        self,
        *,
        login: SalesforceLogin,
        meter: ApiMeter,
        sleep: Callable[[float], None],
        max_attempts: int,
        daily_limit_share: float,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < daily_limit_share <= 1:
            raise ValueError("daily_limit_share must be in (0, 1]")
        self.login = login
        self.meter = meter
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.daily_limit_share = daily_limit_share
        self.rng = rng

    @property
    def calls(self) -> int:
        """HTTP attempts made so far, retries, logins and refreshes included."""
        return self.meter.calls

    def __call__(self, what: str, operation: Callable[[Salesforce], T]) -> T:
        """``operation(client)``, retried until it answers or gives up.

        Raises RetriableError when attempts run out, the org's API allocation is used up to
        this connection's share, or Salesforce says REQUEST_LIMIT_EXCEEDED; FatalError
        (SalesforceRequestError for a refused request) when retrying cannot help.
        """
        last_problem = ""
        wait = 0.0
        refreshed = False
        attempt = 0
        while attempt < self.max_attempts:
            self._check_allocation(what)
            try:
                return operation(self.login.client())
            except SalesforceAuthenticationFailed as exc:
                if not (isinstance(exc.code, int) and exc.code >= 500):
                    raise FatalError(
                        f"Salesforce refused the login ({exc.code}): {exc.auth_message}"
                    ) from exc
                last_problem = f"login answered {exc.code}"
            except SalesforceExpiredSession as exc:
                code, message = error_details(exc)
                if self.login.can_refresh and not refreshed:
                    # One new session per call: a second 401 means the credentials are bad.
                    log.info("Salesforce session expired (%s); signing in again", code)
                    self.login.refresh()
                    refreshed = True
                    continue
                raise FatalError(f"Salesforce refused the session: {message}") from exc
            except SalesforceRefusedRequest as exc:
                code, message = error_details(exc)
                if code == REQUEST_LIMIT_EXCEEDED:
                    raise self._limit_exceeded(what, message) from exc
                raise SalesforceRequestError(
                    f"Salesforce refused {what} (403 {code}): {message}",
                    status=403,
                    error_code=code,
                    detail=message,
                ) from exc
            except SalesforceError as exc:
                status = int(exc.status or 0)
                code, message = error_details(exc)
                if status == 429:
                    last_problem = f"429 {code or 'rate limited'}"
                    if attempt + 1 < self.max_attempts:
                        self._pause_for_rate_limit(self._retry_after(RATE_LIMITED_WAIT_SECONDS))
                    attempt += 1
                    continue
                if status < 500:
                    raise SalesforceRequestError(
                        f"Salesforce refused {what} ({status} {code}): {message}",
                        status=status,
                        error_code=code,
                        detail=message,
                    ) from exc
                last_problem = f"{status} {code or ''}: {message}".strip()
            except requests.exceptions.SSLError as exc:
                raise FatalError(
                    f"Salesforce's TLS certificate was not trusted during {what}: {exc}; "
                    "set the connection's ca_bundle to the CA that signs it"
                ) from exc
            except requests.exceptions.RequestException as exc:
                # Timeouts, dropped connections and unreadable JSON: every call we make
                # (queries, describe, idempotent updates) is safe to repeat.
                last_problem = f"{type(exc).__name__}: {exc}"
            wait = backoff_delay(attempt, rng=self.rng)
            attempt += 1
            if attempt < self.max_attempts:
                log.debug("Salesforce %s failed (%s); retrying in %.2fs", what, last_problem, wait)
                self.sleep(wait)
        raise RetriableError(
            f"Salesforce {what} still failing after {self.max_attempts} attempts: {last_problem}",
            retry_after=wait or None,
        )

    def _check_allocation(self, what: str) -> None:
        usage = self.meter.usage
        if usage is not None and usage.share >= self.daily_limit_share:
            raise RetriableError(
                f"Salesforce daily API allocation at {usage.share:.0%} ({usage.used}/"
                f"{usage.total} calls in 24 hours), at or past the "
                f"{self.daily_limit_share:.0%} this connection may use; {what} stopped and "
                "resumes later from its cursor",
                retry_after=DAILY_LIMIT_RETRY_SECONDS,
            )

    def _retry_after(self, default: float) -> float:
        value = self.meter.last_headers.get("Retry-After")
        try:
            seconds = float(value) if value is not None else None
        except ValueError:
            seconds = None
        return seconds if seconds is not None and seconds >= 0 else default

    def _limit_exceeded(self, what: str, message: str) -> RetriableError:
        """REQUEST_LIMIT_EXCEEDED: every worker of the connection waits; no retry here."""
        default = (
            CONCURRENT_LIMIT_RETRY_SECONDS
            if "concurrent" in message.casefold()
            else DAILY_LIMIT_RETRY_SECONDS
        )
        seconds = self._retry_after(default)
        if self.meter.rate_limiter is not None:
            self.meter.rate_limiter.penalise(seconds)
        return RetriableError(
            f"Salesforce API limit exceeded during {what} (REQUEST_LIMIT_EXCEEDED: {message}); "
            f"retry in {seconds:.0f}s",
            retry_after=seconds,
        )

    def _pause_for_rate_limit(self, seconds: float) -> None:
        log.info("Salesforce rate limit hit; pausing %.1fs", seconds)
        if self.meter.rate_limiter is not None:
            self.meter.rate_limiter.penalise(seconds)
        else:
            self.sleep(seconds)
