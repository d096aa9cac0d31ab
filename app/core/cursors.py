"""Opaque page cursors: the keyset position a list stopped at, tagged with the list it
belongs to, so a cursor from one list (or one sort order) is refused by another."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from app.core.errors import BadRequest


def encode_cursor(kind: str, *position: str | int) -> str:
    """An opaque cursor for ``position`` in the list ``kind``."""
    raw = orjson.dumps([kind, *position])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, *, types: tuple[type, ...]) -> list[Any]:
    """The position ``cursor`` holds for the list ``kind``, one value of each of ``types``;
    BadRequest when it was not made by that list."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raw = None
    if (
        not isinstance(raw, list)
        or len(raw) != len(types) + 1
        or raw[0] != kind
        or not all(type(value) is wanted for value, wanted in zip(raw[1:], types, strict=True))
    ):
        raise BadRequest("invalid cursor; pass back next_cursor unchanged")
    return raw[1:]
