"""Candidate traits of ICP discovery (DESIGN §9): conditions an ICP could test, each with the
accounts it matches.

A trait is one valid ICP condition (``industry in [Software]``, ``employees between [50, 500]``,
``tech_stack contains_any [Salesforce]``, ``attributes.is_agency eq true``, ``founded_year
exists``). Its members are exactly the accounts the scoring core would say it matched: values
are read with the scoring core's own coercions, and numeric ranges are cut between the values
the sample holds, so a trait's count is the count a backtest of that condition would find.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from app.scoring.definition import ATTRIBUTE_PREFIX, CANONICAL_FIELDS, PERSONA_PREFIX, Persona

# The scoring core's own readings of a raw value, shared on purpose: a
# trait must match precisely the accounts its condition matches when scored, hostile values
# included (NaN-like strings, numbers as text, lists where a scalar was expected).
from app.scoring.engine import (
    coerce_bool,
    coerce_country,
    coerce_number,
    coerce_text,
    is_known_value,
    list_items,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Column", "Trait", "absence", "fixed_traits", "range_traits", "read_columns"]

# Values held by fewer accounts than this are pooled away (no trait): a rate measured on so
# few accounts cannot carry a criterion. Relative to the sample, with a floor for small ones.
MIN_TRAIT_SHARE: Final = 0.005
MIN_TRAIT_ACCOUNTS: Final = 20
# Presence (exists) is a trait only where fill varies: between 5% and 95% of accounts.
MIN_FILL_SHARE: Final = 0.05
# Most frequent values tried per field, attribute names read per sample, longest value text.
MAX_VALUES_PER_FIELD: Final = 50
MAX_ATTRIBUTES: Final = 100
MAX_VALUE_LENGTH: Final = 100
# An attribute's kind (bool, number, list, text) is judged on its first known values.
KIND_SAMPLE: Final = 2_000
# Numeric fields start as up to 20 quantile bins; adjacent bins are merged while their win
# rates do not differ (Fisher's exact test, p above MERGE_P).
MAX_BINS: Final = 20
MERGE_P: Final = 0.05
# Runs of adjacent merged ranges are traits too; beyond this many ranges, only single ones and
# runs from either end (≤ x, ≥ x).
MAX_RUN_RANGES: Final = 8
# Numbers beyond this are clipped on reading (a JSON number cannot hold more): they all fall
# in the top (or bottom) range, which is open-ended, so the condition still matches them.
NUMBER_LIMIT: Final = 1e300

FIELD_TITLES: Final = {
    "industry": "Industry",
    "employees": "Employees",
    "annual_revenue": "Annual revenue",
    "country": "Country",
    "region": "Region",
    "city": "City",
    "funding_stage": "Funding stage",
    "total_funding": "Total funding",
    "founded_year": "Founded",
    "tech_stack": "Tech stack",
    "contacts": "Contacts",
}
_KIND_OF_CANONICAL: Final = {
    "str": "text",
    "country": "country",
    "int": "number",
    "float": "number",
    "list": "list",
    "bool": "bool",
}
_READERS: Final[dict[str, Callable[[Any], Any]]] = {
    "text": coerce_text,
    "list": coerce_text,
    "country": coerce_country,
    "bool": coerce_bool,
}
_BOOL_WORDS: Final = frozenset({"true", "false", "yes", "no"})
_UNSET: Final = object()


def min_trait_accounts(accounts: int) -> int:
    """The fewest accounts a trait must hold (and leave out) in a sample of ``accounts``."""
    return max(MIN_TRAIT_ACCOUNTS, math.ceil(MIN_TRAIT_SHARE * accounts))


@dataclass(eq=False, slots=True)
class Column:
    """One candidate field as the sample holds it."""

    field: str
    kind: str  # text, country, bool, list (values as members) or number
    title: str
    known: np.ndarray  # per account: the value is known (what ``exists`` tests)
    values: list[Any]  # text, country, bool, list: the frequent values, as a condition says them
    holders: np.ndarray | None  # per value: which accounts hold it
    bins: np.ndarray | None  # number: each account's quantile bin, -1 when unknown
    bin_low: np.ndarray | None  # the smallest value in each bin
    bin_high: np.ndarray | None  # the largest value in each bin
    integral: bool = False


@dataclass(eq=False, slots=True)
class Trait:
    """A valid ICP condition and the accounts of the sample it matches."""

    field: str
    op: str
    value: Any
    text: str  # what it says, for a label: "Industry: Software", "Employees 50–500"
    members: np.ndarray


# --- reading the sample -----------------------------------------------------------------------


def read_columns(
    accounts: Sequence[Mapping[str, Any]],
    *,
    candidates: Sequence[str],
    personas: Sequence[Persona],
) -> list[Column]:
    """Read every candidate field of the sample (label-free: outcomes play no part)."""
    n = len(accounts)
    min_count = min_trait_accounts(n)
    persona_labels = {p.id: p.label or _humane(p.id) for p in personas}
    attributes = [
        a if type(a) is dict else (a if isinstance(a, Mapping) else {})
        for a in (account.get("attributes") for account in accounts)
    ]
    columns = []
    for field in candidates:
        if field.startswith(ATTRIBUTE_PREFIX):
            name = field[len(ATTRIBUTE_PREFIX) :]
            raw = [held.get(name) for held in attributes]
        else:
            raw = [account.get(field) for account in accounts]
        if field.startswith(ATTRIBUTE_PREFIX):
            kind = _attribute_kind(raw)
            title = _humane(field[len(ATTRIBUTE_PREFIX) :])
        elif field.startswith(PERSONA_PREFIX):
            kind = "number"
            title = persona_labels.get(field[len(PERSONA_PREFIX) :], field)
        else:
            kind = _KIND_OF_CANONICAL[CANONICAL_FIELDS[field]]
            title = FIELD_TITLES.get(field, _humane(field))
        column = _read(field, kind, title, raw, min_count)
        if column is not None:
            columns.append(column)
    return columns


def attribute_names(accounts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The attribute names filled on enough accounts to hold a trait, most filled first."""
    fill = Counter(
        name
        for attributes in (account.get("attributes") for account in accounts)
        if isinstance(attributes, Mapping)
        for name, value in attributes.items()
        if value is not None
    )
    min_count = min_trait_accounts(len(accounts))
    names = [
        name
        for name, count in sorted(fill.items(), key=lambda item: (-item[1], str(item[0])))
        if count >= min_count and isinstance(name, str) and _is_plain_text(name) and name.strip()
    ]
    return names[:MAX_ATTRIBUTES]


def _attribute_kind(raw: list[Any]) -> str:
    """How an attribute reads: bool, number, list or text, from what most of its values are."""
    known = list(islice((v for v in raw if v is not None and _known(v)), KIND_SAMPLE))
    if not known:
        return "text"
    booleans = sum(
        isinstance(v, bool) or (isinstance(v, str) and v.strip().casefold() in _BOOL_WORDS)
        for v in known
    )
    if booleans >= 0.95 * len(known):
        return "bool"
    numbers = sum(not isinstance(v, bool) and _safe(coerce_number, v) is not None for v in known)
    if numbers >= 0.9 * len(known):
        return "number"
    lists = sum(isinstance(v, list | tuple | set | frozenset) for v in known)
    if lists >= 0.5 * len(known):
        return "list"
    return "text"


def _safe(read: Callable[[Any], Any], value: Any) -> Any:
    try:
        return read(value)
    except (ValueError, TypeError, OverflowError):
        return None


def _read(field: str, kind: str, title: str, raw: list[Any], min_count: int) -> Column | None:
    if kind == "number":
        return _read_numbers(field, title, raw, min_count)
    return _read_values(field, kind, title, raw, min_count)


def _known(value: Any) -> bool:
    """The scoring core's "known" (what ``exists`` matches), quick for the usual types."""
    kind = type(value)
    if kind is str:
        return bool(value) and not value.isspace()
    if kind is int or kind is float or kind is bool:
        return True
    return value is not None and is_known_value(value)


def _read_values(
    field: str, kind: str, title: str, raw: list[Any], min_count: int
) -> Column | None:
    """Values (or list members) as the scoring core compares them, the frequent ones kept."""
    import numpy as np

    known = np.array([(v.strip() != "") if type(v) is str else _known(v) for v in raw], dtype=bool)
    if not known.any():
        return None

    read = _READERS[kind]
    key_ids: dict[Any, int] = {}

    def identify(item: Any) -> int:
        """The id of what ``item`` reads as (-1: unknown)."""
        key = _safe(read, item)
        if key is None:
            return -1
        return key_ids.setdefault(key, len(key_ids))

    # Most values (or list members) are strings that repeat: read each distinct one once.
    if kind == "list":
        spellings = Counter(
            item for value in raw if type(value) is list for item in value if type(item) is str
        )
        spellings.update(item for value in raw if type(value) is str for item in value.split(";"))
    else:
        spellings = Counter(value for value in raw if type(value) is str)
    id_of = {text: identify(text) for text in spellings}
    typed_id_of: dict[tuple[type, Any], int] = {}

    def any_value(value: Any) -> set[int]:
        """The ids a value of any shape holds; the scoring core reads lists item by item."""
        items: Iterable[Any]
        if kind == "list":
            items = list_items(value) or ()
        elif isinstance(value, list | tuple | set | frozenset):
            items = value  # a list where one value was expected matches on any of its items
        else:
            items = (value,)
        found: set[int] = set()
        for item in items:
            if type(item) is str:
                key_id = id_of.get(item)
                if key_id is None:
                    key_id = id_of[item] = identify(item)
            else:
                try:  # by type too: True, 1 and 1.0 are equal keys but read differently
                    key_id = typed_id_of.get((type(item), item))
                    if key_id is None:
                        key_id = typed_id_of[(type(item), item)] = identify(item)
                except TypeError:  # unhashable
                    key_id = identify(item)
            found.add(key_id)
        return found

    rows: list[int] = []
    ids: list[int] = []
    for row, value in enumerate(raw):
        if value is None:
            continue
        if type(value) is str and kind != "list":
            key_id = id_of[value]
            if key_id >= 0:
                rows.append(row)
                ids.append(key_id)
            continue
        if type(value) is list and kind == "list":
            try:
                found = {id_of[item] for item in value}
            except (KeyError, TypeError):  # not all strings
                found = any_value(value)
        else:
            found = any_value(value)
        found.discard(-1)
        rows.extend([row] * len(found))
        ids.extend(found)
    keys = list(key_ids)
    counts = np.bincount(np.array(ids, dtype=np.int64), minlength=len(keys))
    spelling_of: dict[int, str] = {}
    for text, _ in spellings.most_common():
        if id_of[text] >= 0:
            spelling_of.setdefault(id_of[text], text.strip())
    n = len(raw)
    frequent: list[tuple[int, Any]] = []
    for key_id in sorted(range(len(keys)), key=lambda i: (-counts[i], str(keys[i]))):
        if counts[key_id] < min_count or len(frequent) >= MAX_VALUES_PER_FIELD:
            break
        if counts[key_id] > n - min_count:
            continue  # held by (nearly) everyone: tells nothing apart
        value = _condition_value(kind, keys[key_id], spelling_of.get(key_id), read)
        if value is not None:
            frequent.append((key_id, value))
    holders = np.zeros((len(frequent), n), dtype=bool)
    if frequent:
        position = np.full(len(keys), -1, dtype=np.int64)
        position[[key_id for key_id, _ in frequent]] = np.arange(len(frequent))
        where = position[np.array(ids, dtype=np.int64)]
        kept = where >= 0
        holders[where[kept], np.array(rows, dtype=np.int64)[kept]] = True
    return Column(
        field=field,
        kind=kind,
        title=title,
        known=known,
        values=[value for _, value in frequent],
        holders=holders,
        bins=None,
        bin_low=None,
        bin_high=None,
    )


def _condition_value(
    kind: str, key: Any, spelling: str | None, read: Callable[[Any], Any]
) -> Any | None:
    """The value a condition writes for ``key``, or None when no valid condition can say it."""
    if kind == "bool":
        return key if isinstance(key, bool) else None
    if kind == "country":
        # Only real two-letter codes pass definition checks; unknown names stay unknown.
        is_code = isinstance(key, str) and len(key) == 2 and key.isascii() and key.isalpha()
        return key if is_code else None
    value = spelling if spelling else key
    if not isinstance(value, str) or not _is_plain_text(value) or len(value) > MAX_VALUE_LENGTH:
        return None
    # Written as a string, the condition reads its value as text, as the account's was read.
    return value if _safe(read, value) == key else None


def _read_numbers(field: str, title: str, raw: list[Any], min_count: int) -> Column | None:
    """Numbers, and the quantile bins of the known ones."""
    import numpy as np

    memo: dict[str, Any] = {}
    readings: list[float] = []
    known: list[bool] = []
    for value in raw:
        kind = type(value)
        if kind is float:
            # NaN is unknown as a number (yet "exists"); an infinite float compares as a
            # number (the scoring core's fast path for floats): clipped into an end range.
            readings.append(value)
            known.append(True)
            continue
        if kind is int:
            in_range = -NUMBER_LIMIT <= value <= NUMBER_LIMIT
            readings.append(value if in_range else NUMBER_LIMIT if value > 0 else -NUMBER_LIMIT)
            known.append(True)
            continue
        if value is None:
            readings.append(math.nan)
            known.append(False)
            continue
        if kind is str:
            number = memo.get(value, _UNSET)
            if number is _UNSET:
                number = memo[value] = _clipped(_safe(coerce_number, value))
        else:
            number = _clipped(_safe(coerce_number, value))
        readings.append(math.nan if number is None else number)
        known.append(_known(value))
    if not any(known):
        return None
    numbers = np.clip(np.array(readings, dtype=float), -NUMBER_LIMIT, NUMBER_LIMIT)
    present = ~np.isnan(numbers)
    values = numbers[present]
    distinct = np.unique(values)
    column = Column(
        field=field,
        kind="number",
        title=title,
        known=np.array(known, dtype=bool),
        values=[],
        holders=None,
        bins=None,
        bin_low=None,
        bin_high=None,
        integral=bool(np.all(np.floor(values) == values) and np.all(np.abs(values) < 2.0**53)),
    )
    if len(distinct) < 2 or len(values) < 2 * min_count:
        return column
    if len(distinct) <= MAX_BINS:
        edges = distinct[:-1]
    else:
        bins = min(MAX_BINS, len(values) // min_count)
        quantiles = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(values, quantiles, method="inverted_cdf"))
    # Bin i holds edges[i-1] < x <= edges[i]; empty bins (none, with data edges) are dropped.
    raw_bins = np.searchsorted(edges, values, side="left")
    used, compact = np.unique(raw_bins, return_inverse=True)
    if len(used) < 2:
        return column
    bins_of = np.full(len(raw), -1, dtype=np.int64)
    bins_of[present] = compact
    column.bins = bins_of
    column.bin_low = np.array([values[compact == b].min() for b in range(len(used))])
    column.bin_high = np.array([values[compact == b].max() for b in range(len(used))])
    return column


def _clipped(number: float | None) -> float | None:
    if number is None:
        return None
    if abs(number) > NUMBER_LIMIT:  # compared exactly, even a whole number too big for a float
        return NUMBER_LIMIT if number > 0 else -NUMBER_LIMIT
    return float(number)


# --- traits -----------------------------------------------------------------------------------


def fixed_traits(columns: Sequence[Column], accounts: int) -> list[Trait]:
    """The traits that need no outcome to define: values, list members and presence."""
    min_count = min_trait_accounts(accounts)
    traits: list[Trait] = []
    for column in columns:
        if column.holders is not None:
            for value, members in zip(column.values, column.holders, strict=True):
                if value is False and _only_yes_or_no(column):
                    continue  # "no" is exactly "not yes" here: the "yes" trait says it all
                traits.append(_value_trait(column, value, members))
        filled = int(column.known.sum())
        share = filled / accounts
        if (
            MIN_FILL_SHARE <= share <= 1 - MIN_FILL_SHARE
            and min_count <= filled <= accounts - min_count
        ):
            traits.append(
                Trait(column.field, "exists", None, f"{column.title}: known", column.known)
            )
    return traits


def absence(presence: Trait) -> Trait:
    """The ``missing`` trait of an ``exists`` one: its exact complement, the same test read
    the other way, for a label that says what raises the odds."""
    title = presence.text.removesuffix(": known")
    return Trait(presence.field, "missing", None, f"{title}: unknown", ~presence.members)


def _only_yes_or_no(column: Column) -> bool:
    """A boolean column every account of which reads as yes or as no."""
    if column.kind != "bool" or column.holders is None or len(column.values) < 2:
        return False
    return bool(column.holders.any(axis=0).all())


def _value_trait(column: Column, value: Any, members: np.ndarray) -> Trait:
    if column.kind == "bool":
        text = f"{column.title}: {'yes' if value else 'no'}"
        return Trait(column.field, "eq", value, text, members)
    if column.kind == "list":
        return Trait(
            column.field, "contains_any", [value], f"{column.title} includes {value}", members
        )
    return Trait(column.field, "in", [value], f"{column.title}: {value}", members)


def range_traits(
    columns: Sequence[Column], rows: np.ndarray, won: np.ndarray, *, min_count: int
) -> list[Trait]:
    """Numeric ranges: each field's quantile bins, adjacent ones merged (on the ``rows`` of
    the sample) while their win rates do not differ; a trait per run of adjacent merged
    ranges, so that a band such as 50–500 employees is one trait even when a range of
    intermediate win rate lies at its edge."""
    import numpy as np

    numeric = [c for c in columns if c.bins is not None]
    groups: list[list[list[int]]] = []  # per column: [first bin, last bin, accounts, wins]
    for column in numeric:
        assert column.bins is not None
        bins = column.bins[rows]
        known = bins >= 0
        size = len(column.bin_low) if column.bin_low is not None else 0
        accounts = np.bincount(bins[known], minlength=size)
        wins = np.bincount(bins[known], weights=won[rows][known], minlength=size)
        groups.append([[b, b, int(accounts[b]), int(wins[b])] for b in range(size)])
    _merge_alike(groups, min_count=min_count)
    traits = []
    for column, ranges in zip(numeric, groups, strict=True):
        count = len(ranges)
        for start in range(count):
            for end in range(start, count):
                if (start, end) == (0, count - 1):
                    continue  # every known value: tells nothing apart
                if count > MAX_RUN_RANGES and 0 < start < end < count - 1:
                    continue  # many ranges: single ones, and runs from either end only
                traits.append(
                    _range_trait(column, ranges[start][0], ranges[end][1], start, end, count)
                )
    return traits


def _merge_alike(groups: list[list[list[int]]], *, min_count: int) -> None:
    """Merge adjacent ranges, most alike first, while Fisher's test says their win rates do
    not differ (p > MERGE_P); a range too small to be a trait always merges. One merge per
    field per round; each pair is tested once (a merge only makes new pairs beside it), every
    new pair of a round in one vectorised call."""
    import numpy as np

    tested: dict[tuple[int, int, int, int], float] = {}  # (field, first, split, last) -> p
    while True:
        pairs = [
            (field, ranges[index][0], ranges[index + 1][0], ranges[index + 1][1], index)
            for field, ranges in enumerate(groups)
            for index in range(len(ranges) - 1)
        ]
        if not pairs:
            return
        new = [pair for pair in pairs if pair[:4] not in tested]
        if new:
            left = np.array([groups[f][i][2:] for f, _, _, _, i in new], dtype=np.int64)
            right = np.array([groups[f][i + 1][2:] for f, _, _, _, i in new], dtype=np.int64)
            p = fisher_p(
                wins_in=left[:, 1],
                accounts_in=left[:, 0],
                wins=left[:, 1] + right[:, 1],
                accounts=left[:, 0] + right[:, 0],
            )
            small = (left[:, 0] < min_count) | (right[:, 0] < min_count)
            p[small] = 2.0  # a range too small for a trait merges before any other pair
            tested.update(zip((pair[:4] for pair in new), p.tolist(), strict=True))
        best: dict[int, tuple[float, int]] = {}
        for pair in pairs:
            field, index, pair_p = pair[0], pair[4], tested[pair[:4]]
            if pair_p > best.get(field, (-1.0, 0))[0]:
                best[field] = (pair_p, index)
        merged = False
        for field, (pair_p, index) in best.items():
            if pair_p > MERGE_P:
                ranges = groups[field]
                first, _, accounts, wins = ranges[index]
                _, last, more_accounts, more_wins = ranges.pop(index + 1)
                ranges[index] = [first, last, accounts + more_accounts, wins + more_wins]
                merged = True
        if not merged:
            return


def fisher_p(
    *, wins_in: np.ndarray, accounts_in: np.ndarray, wins: np.ndarray, accounts: np.ndarray
) -> np.ndarray:
    """Two-sided p-values of Fisher's exact test of "win rate in the group differs from the
    rest", vectorised: twice the smaller one-sided p-value (the "central" Fisher test), both
    tails from scipy's hypergeometric distribution, as ``fisher_exact`` computes them for one
    table. scipy's two-sided ``fisher_exact`` takes a millisecond per table, too slow for the
    hundreds of tables of each of the seven discovery runs a validated answer needs."""
    import numpy as np
    from scipy.stats import hypergeom

    if len(accounts) == 0:
        return np.zeros(0)
    lower = hypergeom.cdf(wins_in, accounts, wins, accounts_in)
    upper = hypergeom.sf(wins_in - 1, accounts, wins, accounts_in)
    return np.asarray(np.minimum(1.0, 2 * np.minimum(lower, upper)), dtype=float)


def _range_trait(column: Column, first: int, last: int, start: int, end: int, count: int) -> Trait:
    """The trait of bins ``first``..``last``, which are merged ranges ``start``..``end`` of
    ``count``: open-ended when it starts at the lowest range or ends at the highest."""
    assert column.bins is not None and column.bin_low is not None and column.bin_high is not None
    members = (column.bins >= first) & (column.bins <= last)
    low = _cut_below(column, first) if start > 0 else None
    high = _cut_above(column, last) if end < count - 1 else None
    if low is None:
        assert high is not None
        return Trait(column.field, "lte", high, f"{column.title} ≤ {_number_text(high)}", members)
    if high is None:
        return Trait(column.field, "gte", low, f"{column.title} ≥ {_number_text(low)}", members)
    text = f"{column.title} {_number_text(low)}–{_number_text(high)}"
    return Trait(column.field, "between", [low, high], text, members)


def _cut_below(column: Column, first: int) -> float | int:
    """The roundest lower bound that keeps bin ``first`` and leaves out the bin before it."""
    assert column.bin_low is not None and column.bin_high is not None
    below, lowest = float(column.bin_high[first - 1]), float(column.bin_low[first])
    return _plain(_roundest(below, lowest, include_low=False, include_high=True))


def _cut_above(column: Column, last: int) -> float | int:
    """The roundest upper bound that keeps bin ``last`` and leaves out the bin after it."""
    assert column.bin_low is not None and column.bin_high is not None
    highest, above = float(column.bin_high[last]), float(column.bin_low[last + 1])
    if column.integral:
        # Whole numbers: "≤ 49" beside the next range's "≥ 50" reads better than "≤ 49.5".
        start = _roundest(highest, above, include_low=False, include_high=True)
        return _plain(start - 1)
    return _plain(_roundest(highest, above, include_low=True, include_high=False))


def _roundest(low: float, high: float, *, include_low: bool, include_high: bool) -> float:
    """The number with the fewest significant digits between ``low`` and ``high``."""

    def inside(x: float) -> bool:
        above_low = low < x or (include_low and x == low)
        return above_low and (x < high or (include_high and x == high))

    if inside(0.0):
        return 0.0
    top = math.floor(math.log10(max(abs(low), abs(high))))
    for digits in range(17):
        step = 10.0 ** (top - digits)
        start = math.floor(low / step) * step
        for candidate in (start, start + step, start + 2 * step):
            rounded = round(candidate, digits - top)
            if inside(rounded):
                return rounded
    return high if include_high else low


def _plain(number: float) -> float | int:
    """A whole number as an int (``50``, not ``50.0``), others as they are."""
    if number.is_integer() and abs(number) < 2.0**53:
        return int(number)
    return number


def _number_text(number: float) -> str:
    """``50``, ``2015``, ``12k``, ``1.5M``, ``3B``: short, without thousands separators that
    would turn a year into ``2,015``."""
    magnitude = abs(number)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e4, "k")):
        if magnitude >= size:
            divisor = 1e3 if suffix == "k" else size
            return f"{number / divisor:.3g}{suffix}"
    return f"{number:.6g}"


def _humane(name: str) -> str:
    """``is_agency`` → ``Is agency``."""
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def _is_plain_text(text: str) -> bool:
    """Printable text: no NUL or control characters, which no stored ICP file may hold."""
    return text.isprintable()
