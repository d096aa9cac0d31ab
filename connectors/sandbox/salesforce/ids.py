"""Salesforce record ids: a 3-character key prefix, 12 more characters, and a checksum suffix.

Ids are made from a base-62 counter in ``0-9A-Za-z`` order, fixed width, so ids of one object
sort (as strings) in creation order, which is the order SOQL returns rows in without ORDER BY.
The 18-character form appends Salesforce's case-safe suffix: per 5-character chunk of the
15-character id, a bitmap of which characters are upper case, as one of ``A-Z0-5``.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "ORGANIZATION_ID",
    "PROFILE_ID",
    "USER_ID",
    "IdFactory",
    "make_id",
    "to_18",
]

_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID: Final = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_POD: Final = "5g0000"  # instance and reserved characters, as real ids carry them
# Counters start part-way into the range so ids look like real ones (letters, not zeros).
_FIRST_COUNTER: Final = 22 * 62**5 + 62**4 * 7 + 1


# Upper-case letters to "1", everything else to "0": a chunk's bitmap, read right to left.
_UPPER_BITS: Final = str.maketrans(
    {chr(c): "1" if chr(c).isascii() and chr(c).isupper() else "0" for c in range(48, 123)}
)
_PAIRS: Final = [a + b for a in _BASE62 for b in _BASE62]  # two base-62 digits per lookup


def _suffix(id15: str) -> str:
    return "".join(
        _SUFFIX[int(id15[start : start + 5].translate(_UPPER_BITS)[::-1], 2)]
        for start in (0, 5, 10)
    )


# Whether each base-62 digit is an upper-case letter, and the same for each pair of digits as a
# 2-bit map (first digit lowest): the checksum of a counter's digits without building strings.
_UPPER_DIGIT: Final = [1 if c.isupper() else 0 for c in _BASE62]
_PAIR_BITS: Final = [_UPPER_DIGIT[a] | _UPPER_DIGIT[b] << 1 for a in range(62) for b in range(62)]
_HEAD_SUFFIX: dict[str, str] = {}


def make_id(prefix: str, number: int) -> str:
    """The 18-character id number ``number`` of the object with key prefix ``prefix``."""
    # id15 is prefix + pod (5 characters: prefix, "5g") + "0000" + 6 digits; seeding makes ids
    # by the million, so the suffix is computed from the digits (same result as _suffix).
    high, rest = divmod(number, 3844 * 3844)
    middle, low = divmod(rest, 3844)
    head = _HEAD_SUFFIX.get(prefix)
    if head is None:
        head = _HEAD_SUFFIX[prefix] = _suffix(f"{prefix}{_POD}000000")[0]
    second = _SUFFIX[_UPPER_DIGIT[high // 62] << 4]
    third = _SUFFIX[_PAIR_BITS[high] >> 1 | _PAIR_BITS[middle] << 1 | _PAIR_BITS[low] << 3]
    return f"{prefix}{_POD}{_PAIRS[high]}{_PAIRS[middle]}{_PAIRS[low]}{head}{second}{third}"


def to_18(raw: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None if it is not an id.

    As in Salesforce, the suffix of an 18-character id is case-insensitive and is recomputed.
    """
    if not isinstance(raw, str) or _ID.fullmatch(raw) is None or not raw.isascii():
        return None
    id15 = raw[:15]
    suffix = _suffix(id15)
    if len(raw) == 18 and raw[15:].upper() != suffix:
        return None
    return id15 + suffix


class IdFactory:
    """Hands out the ids of one object type in increasing order."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._next = _FIRST_COUNTER

    def reset(self) -> None:
        """Start again from the first id (a reseeded org gets the same ids)."""
        self._next = _FIRST_COUNTER

    def next(self) -> str:
        """The next id."""
        number = self._next
        self._next += 1
        return make_id(self.prefix, number)


ORGANIZATION_ID: Final = make_id("00D", _FIRST_COUNTER + 4242)
# The API user every session belongs to (the sales reps seeded with demo data come first).
USER_ID: Final = make_id("005", _FIRST_COUNTER + 77)
PROFILE_ID: Final = make_id("00e", _FIRST_COUNTER + 5)
