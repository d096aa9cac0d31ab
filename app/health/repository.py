"""Queries for ICP health: the population's distributions, counted in the database, and each
version's baseline and latest check.

Every distribution is one aggregate pass over ``accounts`` (a million rows in seconds): each
account yields one small row per field — (field number, bin number) — and PostgreSQL counts
them; no account is sent to Python. The bins are those of ``app.science.drift``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.models import IcpBaseline, IcpHealthCheck
from app.science.drift import TIERS, FieldCounts, FieldSpec

# Numbers as the scoring core reads them from a string ("120", "3.5e6"); what does not match
# is known but not a number. The exponent is bounded so no value overflows float8.
_NUMBER_TEXT = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d{1,2})?\s*$"
# The row number of the tier distribution, and the offset of list fields' member rows.
_TIER_ROW = -1
_MEMBER_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Population:
    """The live accounts now: how many, how many lack a verdict of the version, the tier
    distribution of those that have one, and each field's counts."""

    live: int
    unscored: int
    tiers: dict[str, int]
    fields: dict[str, FieldCounts]


def _path(field: str) -> list[str]:
    """Where a field sits in ``accounts.data``: ``attributes.x`` is ``{attributes,x}``."""
    head, _, rest = field.partition(".")
    return [head, rest] if head == "attributes" and rest else [field]


def _known(j: str) -> str:
    """SQL: the jsonb value ``j`` is known (DESIGN §3.3: not absent, null, blank, [])."""
    return (
        f"CASE jsonb_typeof({j}) WHEN 'string' THEN btrim({j} #>> '{{}}', E' \\t\\r\\n') <> '' "
        f"WHEN 'array' THEN jsonb_array_length({j}) > 0 WHEN 'null' THEN false "
        f"ELSE {j} IS NOT NULL END"
    )


def _text_key(text: str) -> str:
    """SQL: a text value as the scoring core compares it (trimmed, case-folded, _ and - as
    spaces)."""
    return f"btrim(translate(lower({text}), '_-', '  '))"


def _number(j: str) -> str:
    """SQL: the jsonb value ``j`` as float8, NULL when it is not a number."""
    return (
        f"CASE jsonb_typeof({j}) WHEN 'number' THEN {j}::float8 WHEN 'string' THEN "
        f"CASE WHEN {j} #>> '{{}}' ~ '{_NUMBER_TEXT}' THEN ({j} #>> '{{}}')::float8 END END"
    )


def _members(j: str) -> str:
    """SQL: the members of the jsonb list ``j`` (none when it is not a list)."""
    return (
        f"jsonb_array_elements_text(CASE WHEN jsonb_typeof({j}) = 'array' THEN {j} END) AS m"
        f"(member) WHERE btrim(m.member) <> ''"
    )


def _values_from(fields: Sequence[str], params: dict[str, Any]) -> str:
    """SQL: ``accounts a`` with each field's jsonb value computed once per account as
    ``x.j<n>`` (OFFSET 0 keeps PostgreSQL from inlining the subquery, which would extract a
    value once per use)."""
    columns = []
    for index, field in enumerate(fields):
        params[f"path{index}"] = _path(field)
        columns.append(f"a.data #> %(path{index})s::text[] AS j{index}")
    projection = ", ".join(columns) if columns else "NULL AS none"
    return f"accounts a CROSS JOIN LATERAL (SELECT {projection} OFFSET 0) x"


class HealthRepository:
    """Every SQL statement about ICP health: distributions, baselines, checks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def value_counts(
        self, fields: Sequence[tuple[str, str]], *, top: int
    ) -> dict[str, tuple[list[tuple[str, int]], int]]:
        """For categorical and list fields (field, kind): the ``top`` most frequent values
        (list members) among live accounts with their counts, and the count of all of them."""
        if not fields:
            return {}
        params: dict[str, Any] = {"top": top}
        names = [field for field, _ in fields]
        rows = []
        for index, (_, kind) in enumerate(fields):
            j = f"x.j{index}"
            if kind == "list":
                rows.append(f"SELECT {index}, {_text_key('m.member')} FROM {_members(j)}")
            else:
                key = _text_key(f"{j} #>> '{{}}'")
                rows.append(f"SELECT {index}, CASE WHEN {_known(j)} THEN {key} END")
        union = " UNION ALL ".join(rows)
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            f"""
            WITH counted AS (
                SELECT f.k, f.value, count(*) AS n
                FROM {_values_from(names, params)}
                CROSS JOIN LATERAL ({union}) AS f(k, value)
                WHERE NOT a.archived AND f.value IS NOT NULL AND f.value <> ''
                GROUP BY 1, 2
            ), ranked AS (
                SELECT k, value, n, sum(n) OVER (PARTITION BY k) AS total,
                       row_number() OVER (PARTITION BY k ORDER BY n DESC, value) AS rank
                FROM counted
            )
            SELECT k, value, n, total FROM ranked WHERE rank <= %(top)s ORDER BY k, rank
            """,
            params,
        )
        found: dict[str, tuple[list[tuple[str, int]], int]] = {field: ([], 0) for field in names}
        fetched: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        for k, value, n, total in fetched:
            values, _ = found[names[k]]
            values.append((value, int(n)))
            found[names[k]] = (values, int(total))
        return found

    async def quantiles(
        self, fields: Sequence[str], fractions: Sequence[float]
    ) -> dict[str, list[float | None] | None]:
        """For numeric fields: the values at ``fractions`` of their live, known values
        (``percentile_disc``: values that occur); None for a field with none."""
        if not fields:
            return {}
        params: dict[str, Any] = {"fractions": list(fractions)}
        aggregates = ", ".join(
            f"percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY {_number(f'x.j{i}')})"
            for i in range(len(fields))
        )
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            f"SELECT {aggregates} FROM {_values_from(fields, params)} WHERE NOT a.archived",
            params,
        )
        row: tuple[Any, ...] | None = await cursor.fetchone()  # type: ignore[assignment]
        assert row is not None
        return dict(zip(fields, row, strict=True))

    async def population(
        self, *, icp_version_id: uuid.UUID, specs: Sequence[FieldSpec]
    ) -> Population:
        """One pass over the live accounts: the tier distribution of the version's verdicts,
        and every field's counts in its bins (plus how many accounts have it at all)."""
        params: dict[str, Any] = {"version": icp_version_id, "tiers": list(TIERS)}
        rows = [f"SELECT {_TIER_ROW}, array_position(%(tiers)s::text[], s.tier::text) - 1"]
        for index, spec in enumerate(specs):
            j = f"x.j{index}"
            is_known = _known(j)
            if spec.kind == "categorical":
                params[f"bins{index}"] = list(spec.bins)
                key = _text_key(f"{j} #>> '{{}}'")
                bin_of = f"coalesce(array_position(%(bins{index})s::text[], {key}), 0)"
                rows.append(f"SELECT {index}, CASE WHEN {is_known} THEN {bin_of} END")
            elif spec.kind == "numeric":
                params[f"bins{index}"] = list(spec.bins)
                number = _number(j)
                rows.append(
                    f"SELECT {index}, CASE WHEN {number} IS NOT NULL "
                    f"THEN width_bucket({number}, %(bins{index})s::float8[]) "
                    f"WHEN {is_known} THEN -1 END"
                )
            else:  # presence and list: known or not (a list's members are counted below)
                rows.append(f"SELECT {index}, CASE WHEN {is_known} THEN -1 END")
            if spec.kind == "list":
                params[f"bins{index}"] = list(spec.bins)
                key = _text_key("m.member")
                rows.append(
                    f"SELECT {_MEMBER_ROWS + index}, "
                    f"coalesce(array_position(%(bins{index})s::text[], {key}), 0) "
                    f"FROM {_members(j)}"
                )
        union = " UNION ALL ".join(rows)
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            f"""
            SELECT f.k, f.bin, count(*)
            FROM {_values_from([spec.field for spec in specs], params)}
            LEFT JOIN account_scores s ON s.account_id = a.id
                                      AND s.icp_version_id = %(version)s
            CROSS JOIN LATERAL ({union}) AS f(k, bin)
            WHERE NOT a.archived
            GROUP BY 1, 2
            """,
            params,
        )
        counted: dict[int, dict[int | None, int]] = {}
        fetched: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        for k, bin_, n in fetched:
            counted.setdefault(k, {})[bin_] = int(n)
        tier_rows = counted.get(_TIER_ROW, {})
        live = sum(tier_rows.values())
        fields: dict[str, FieldCounts] = {}
        for index, spec in enumerate(specs):
            by_bin = counted.get(index, {})
            known = sum(n for bin_, n in by_bin.items() if bin_ is not None)
            if spec.kind == "list":
                by_bin = counted.get(_MEMBER_ROWS + index, {})
            counts = tuple(by_bin.get(b, 0) for b in range(spec.size))
            fields[spec.field] = FieldCounts(total=live, known=known, counts=counts)
        return Population(
            live=live,
            unscored=tier_rows.get(None, 0),
            tiers={tier: tier_rows.get(i, 0) for i, tier in enumerate(TIERS)},
            fields=fields,
        )

    async def baseline(self, icp_version_id: uuid.UUID) -> IcpBaseline | None:
        """The version's baseline, if one was taken."""
        return await self.session.get(IcpBaseline, icp_version_id)

    async def save_baseline(self, baseline: IcpBaseline) -> IcpBaseline:
        """Store the version's baseline, replacing any earlier one (a re-activation)."""
        values = {
            "taken_at": baseline.taken_at,
            "accounts": baseline.accounts,
            "tiers": baseline.tiers,
            "fields": baseline.fields,
        }
        await self.session.execute(
            insert(IcpBaseline)
            .values(icp_version_id=baseline.icp_version_id, **values)
            .on_conflict_do_update(index_elements=["icp_version_id"], set_=values)
        )
        stored = await self.session.get(
            IcpBaseline, baseline.icp_version_id, populate_existing=True
        )
        assert stored is not None
        return stored

    async def latest_check(
        self, icp_version_id: uuid.UUID, *, for_update: bool = False
    ) -> IcpHealthCheck | None:
        """The version's latest daily check, if any."""
        query = select(IcpHealthCheck).where(IcpHealthCheck.icp_version_id == icp_version_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def save_check(
        self,
        *,
        icp_version_id: uuid.UUID,
        checked_at: datetime,
        report: dict[str, Any],
        alert_keys: Sequence[str],
    ) -> None:
        """Store the version's latest check in place of the one before."""
        values = {"checked_at": checked_at, "report": report, "alert_keys": list(alert_keys)}
        await self.session.execute(
            insert(IcpHealthCheck)
            .values(icp_version_id=icp_version_id, **values)
            .on_conflict_do_update(index_elements=["icp_version_id"], set_=values)
        )
