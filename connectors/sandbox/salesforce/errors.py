"""Salesforce's REST error shapes: one exception per refused call, one per refused record.

A refused call answers ``[{"message", "errorCode", "fields"?}]`` with a 4xx status; a record
refused inside an sObject Collections call becomes ``{"statusCode", "message", "fields"}`` in
its SaveResult, while the call itself answers 200.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordError", "SalesforceError", "pointer_message"]


class SalesforceError(Exception):
    """An API call the sandbox refuses, rendered as Salesforce's JSON error list."""

    def __init__(
        self, status_code: int, error_code: str, message: str, fields: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        """The JSON body for this error."""
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry]

    @classmethod
    def bad_request(cls, error_code: str, message: str, fields: list[str] | None = None) -> Any:
        """A 400 with the given error code."""
        return cls(400, error_code, message, fields)

    @classmethod
    def not_found(cls) -> SalesforceError:
        """A 404 ``NOT_FOUND``, as for an unknown resource or record."""
        return cls(404, "NOT_FOUND", "The requested resource does not exist")

    @classmethod
    def entity_is_deleted(cls) -> SalesforceError:
        """A 404 ``ENTITY_IS_DELETED``: the record is in the recycle bin."""
        return cls(404, "ENTITY_IS_DELETED", "entity is deleted", [])

    @classmethod
    def invalid_session(cls) -> SalesforceError:
        """A 401 ``INVALID_SESSION_ID``: no, a wrong, or an expired access token."""
        return cls(401, "INVALID_SESSION_ID", "Session expired or invalid")

    @classmethod
    def json_parser(cls, message: str) -> SalesforceError:
        """A 400 ``JSON_PARSER_ERROR``: the body cannot be read into records."""
        return cls(400, "JSON_PARSER_ERROR", message)


@dataclass(frozen=True)
class RecordError:
    """Why one record of a write was refused (an element of a SaveResult's ``errors``)."""

    status_code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """``{"statusCode", "message", "fields"}``."""
        return {"statusCode": self.status_code, "message": self.message, "fields": self.fields}

    def as_exception(self, status: int = 400) -> SalesforceError:
        """The same refusal for a single-record call, which answers it as a 4xx."""
        return SalesforceError(status, self.status_code, self.message, self.fields)


def pointer_message(text: str, position: int, detail: str) -> str:
    """Salesforce's query error text: the offending line, a caret under it, row and column."""
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    column = position - line_start
    row = text.count("\n", 0, position) + 1
    return f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}\n{detail}"
