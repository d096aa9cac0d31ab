"""Typed errors, each with one meaning and one HTTP status, rendered in one JSON shape."""

from __future__ import annotations

from typing import Any


class IcpSyncError(Exception):
    """Base of every expected failure; rendered as ``{"error", "detail": [problems]}``."""

    status_code = 500

    def __init__(self, detail: Any) -> None:
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail

    @property
    def error(self) -> str:
        """The error name clients switch on."""
        return type(self).__name__


class BadRequest(IcpSyncError):
    """The body cannot be parsed at all (malformed JSON, YAML or CSV)."""

    status_code = 400


class Unauthorized(IcpSyncError):
    """No API key, or one we do not know."""

    status_code = 401


class Forbidden(IcpSyncError):
    """The API key lacks the scope the operation needs."""

    status_code = 403


class NotFound(IcpSyncError):
    """The addressed resource does not exist."""

    status_code = 404


class Conflict(IcpSyncError):
    """The request clashes with the current state (a duplicate name, say)."""

    status_code = 409


class PayloadTooLarge(IcpSyncError):
    """The body is over the configured limit."""

    status_code = 413


class UnsupportedMediaType(IcpSyncError):
    """The body's content type is not one this endpoint reads."""

    status_code = 415


class ValidationFailed(IcpSyncError):
    """The body parsed but breaks the contract; ``detail`` lists every problem."""

    status_code = 422


class ConfigurationError(IcpSyncError):
    """The process is set up so that it cannot work safely; it refuses to start."""

    status_code = 500


class ServiceUnavailable(IcpSyncError):
    """A dependency (the database) is down; the caller should retry."""

    status_code = 503


def problem(path: str, message: str) -> dict[str, str]:
    """One entry of an error's ``detail`` list (``path`` is empty when no field is to blame)."""
    return {"path": path, "message": message}


def problems(detail: Any) -> list[dict[str, str]]:
    """An error's detail as the list every error response carries: a message becomes one
    problem with an empty path."""
    if isinstance(detail, list):
        return detail
    return [problem("", str(detail))]
