"""Value normalisation shared by the CRM edge and the scoring core.

CRMs send numbers, booleans and lists as strings ("1,200", "true", "a;b;c") and countries as
free text ("United States", "U.S."). These functions turn such values into typed ones, and
nothing here imports ``app``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pycountry

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})

# Common spellings that ISO 3166 (and so pycountry) does not know, keyed without dots or
# spaces, casefolded. Kept small on purpose: anything else can go into a connection's mapping.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "greatbritain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "us": "US",
    "usa": "US",
    "america": "US",
    "unitedstatesofamerica": "US",
    "deutschland": "DE",
    "holland": "NL",
    "thenetherlands": "NL",
    "russia": "RU",
    "turkey": "TR",
    "southkorea": "KR",
    "korea": "KR",
    "ivorycoast": "CI",
    "macedonia": "MK",
    "brunei": "BN",
    "capeverde": "CV",
    "swaziland": "SZ",
    "vatican": "VA",
    "drcongo": "CD",
    "uae": "AE",
    "kosovo": "XK",
}
_DOTS_AND_SPACES = re.compile(r"[.\s]+")


# Values without text in them: nothing to strip.
_SCALARS = frozenset({int, float, bool})


def without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from every string in it (lists and mappings
    included). PostgreSQL's text and jsonb cannot hold NUL, and no CRM value means anything
    by one: every edge that takes CRM data (connectors, webhooks, CSV) strips it.

    What holds no NUL (nearly everything) comes back as the same object after one read-only
    pass: strings and scalars are checked inline, only nested mappings and lists cost a
    call, and nothing is rebuilt. A Salesforce record nests its ``attributes`` and related
    records, and rebuilding every level of every record cost a third of a sync's CPU."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        if _holds_no_nul(value) and _holds_no_nul(value.values()):  # keys, then values
            return value
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return value if _holds_no_nul(value) else [without_nul(v) for v in value]
    return value


def _holds_no_nul(values: Iterable[Any]) -> bool:
    """True when no string in ``values`` (nested ones included) holds a NUL. Strings and
    scalars are checked here, in the loop: a call per container, not per value."""
    for v in values:
        kind = type(v)
        if kind is str:
            if "\x00" in v:
                return False
        elif v is not None and kind not in _SCALARS and without_nul(v) is not v:
            return False
    return True


def to_float(v: Any) -> float | None:
    """A finite float from a number or a numeric string ("1,200", "3.5e6"); None for None/""."""
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got the boolean {v!r}")
    if isinstance(v, int | float | Decimal):
        number = float(v)
    elif isinstance(v, str):
        text = v.strip().replace(",", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {v!r}") from None
    else:
        raise ValueError(f"expected a number, got {type(v).__name__} {v!r}")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {v!r}")
    return number


# Whole numbers are stored as JSON, which orjson (and most JSON readers) can only carry in
# 64 bits; no count a CRM holds comes near it, so anything beyond is bad data, not a number.
INT_RANGE = range(-(2**63), 2**63)
# Digits of the longest whole number in range: bounds int()'s work on hostile text.
_MAX_INT_DIGITS = len(str(2**63))


def to_int(v: Any) -> int | None:
    """A whole number from a number or a numeric string ("1,200", "1e3") within 64 bits;
    None for None/""."""
    number: int | float
    if type(v) is int:
        number = v
    elif isinstance(v, str) and (text := v.strip().replace(",", "")).lstrip("+-").isdecimal():
        if len(text.lstrip("+-").lstrip("0")) > _MAX_INT_DIGITS:
            raise ValueError(f"expected a whole number within 64 bits, got {v!r}")
        number = int(text)
    else:
        parsed = to_float(v)
        if parsed is None:
            return None
        number = parsed
        if not number.is_integer():
            raise ValueError(f"expected a whole number, got {v!r}")
    if int(number) not in INT_RANGE:
        raise ValueError(f"expected a whole number within 64 bits, got {v!r}")
    return int(number)


def to_bool(v: Any) -> bool | None:
    """A boolean from a bool, 0/1, or "true"/"false"/"yes"/"no"/"1"/"0" (any case); None for ""."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        text = v.strip().casefold()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected a boolean (true/false, yes/no, 1/0), got {v!r}")


def to_country(v: Any) -> str | None:
    """ISO alpha-2 code from a country name or code ("U.S.", "USA" → "US"); unknown: upper-cased."""
    if v is None:
        return None
    return _country_code(str(v).strip())


@lru_cache(maxsize=4096)
def _country_code(text: str) -> str | None:
    if not text:
        return None
    squeezed = _DOTS_AND_SPACES.sub("", text).casefold()
    alias = _COUNTRY_ALIASES.get(squeezed)
    if alias is not None:
        return alias
    for candidate in (text, squeezed):
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    return text.upper()


def to_str_list(v: Any) -> list[str] | None:
    """Trimmed strings from a list or a ";"-separated string; None when nothing is left."""
    if v is None:
        return None
    if isinstance(v, str):
        items = v.split(";")
    elif isinstance(v, list | tuple):
        items = [str(item) for item in v if item is not None]
    elif isinstance(v, set | frozenset):
        items = sorted(str(item) for item in v if item is not None)
    else:
        items = [str(v)]
    cleaned = [text for item in items if (text := item.strip())]
    return cleaned or None


def norm_enum(v: str) -> str:
    """An enumeration value as compared: trimmed and casefolded."""
    return v.strip().casefold()
