"""HubSpot's error bodies: one exception carries status, category and message to one renderer."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

__all__ = ["HubSpotError", "error_body", "validation_message"]


def _correlation_id() -> str:
    return str(uuid.uuid4())


def error_body(
    message: str,
    category: str,
    *,
    sub_category: str | None = None,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``{"status": "error", "message", "correlationId", "category", ...}`` as HubSpot sends it."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": _correlation_id(),
        "category": category,
    }
    if sub_category:
        body["subCategory"] = sub_category
    if context:
        body["context"] = context
    if errors:
        body["errors"] = errors
    return body


class HubSpotError(Exception):
    """An API call the sandbox refuses, rendered as HubSpot's JSON error."""

    def __init__(
        self,
        status_code: int,
        message: str,
        category: str,
        *,
        sub_category: str | None = None,
        context: dict[str, list[str]] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.category = category
        self.sub_category = sub_category
        self.context = context
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body for this error."""
        return error_body(
            self.message,
            self.category,
            sub_category=self.sub_category,
            context=self.context,
            errors=self.errors,
        )

    @classmethod
    def validation(cls, message: str, **kwargs: Any) -> HubSpotError:
        """A 400 ``VALIDATION_ERROR``."""
        return cls(400, message, "VALIDATION_ERROR", **kwargs)

    @classmethod
    def not_found(cls, message: str = "resource not found") -> HubSpotError:
        """A 404 ``OBJECT_NOT_FOUND``."""
        return cls(404, message, "OBJECT_NOT_FOUND")


def validation_message(problems: list[dict[str, Any]]) -> str:
    """``Property values were not valid: [...]``: HubSpot embeds the problems as a JSON string."""
    return "Property values were not valid: " + orjson.dumps(problems).decode()
