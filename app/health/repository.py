"""Queries for ICP health: the population's distributions, counted in the database, and each
version's baseline and latest check.

The live accounts are read in one pass (a million rows in seconds) and no account is sent to
Python: each account is reduced to one cheap value per field — the raw text of a categorical
or list field, the decile bin of a number — and a plain GROUP BY on (field, value), which
PostgreSQL splits over parallel workers, counts them all. Only then, over the few distinct
values, are they normalised as the scoring core compares them, and lists taken apart into
their members. The tiers are counted from the verdicts alone, not joined account by account.
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

# Numbers as the scoring core reads them from a string ("120", "3.5e6"); what does not match
# is known but not a number. The exponent is bounded so no value overflows float8.
_NUMBER_TEXT = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d{1,2})?\s*$"
# The bin of a number field's value that is known but not a number ("n/a").
UNBINNED = -1
_BLANK = r"E' \t\r\n'"


@dataclass(frozen=True, slots=True)
class Distributions:
    """The live accounts now, counted: per tier of the version's verdicts (None: no verdict
    of it), and per field (field → value → accounts; None: unknown). Categorical values are
    normalised text, numbers their bin (``UNBINNED``: known, not a number), the rest True;
    list members by how often they occur."""

    tiers: dict[str | None, int]
    fields: dict[str, dict[Any, int]]
    # list field → member (normalised) → occurrences
    members: dict[str, dict[str, int]]

    @property
    def live(self) -> int:
        """How many live accounts there are."""
        return sum(self.tiers.values())


def _json(field: str, name: str, params: dict[str, Any], *, as_text: bool = False) -> str:
    """SQL: the field's value in ``a.data`` (``attributes.x``: ``data->'attributes'->'x'``),
    as jsonb or (``as_text``) as text, its keys passed as parameters named after ``name``."""
    last = "->>" if as_text else "->"
    head, _, rest = field.partition(".")
    if head == "attributes" and rest:
        params[f"{name}_a"], params[f"{name}_b"] = head, rest
        return f"(a.data -> %({name}_a)s::text {last} %({name}_b)s::text)"
    params[f"{name}_a"] = field
    return f"(a.data {last} %({name}_a)s::text)"


def _text_known(text: str) -> str:
    """SQL: the text of a jsonb value (``->>``) says it is known: not absent, JSON null,
    blank or an empty list (DESIGN §3.3)."""
    return f"btrim({text}, {_BLANK}) NOT IN ('', '[]')"


def _text_key(text: str) -> str:
    """SQL: a text value as the scoring core compares it (trimmed, case-folded, _ and - as
    spaces)."""
    return f"btrim(translate(lower({text}), '_-', '  '))"


def _number_bin(j: str, edges: str) -> str:
    """SQL: the bin (``width_bucket``) of the jsonb value ``j`` read as a number, as the
    scoring core reads one (strings too); ``UNBINNED`` when known but not a number."""
    text = f"({j} #>> '{{}}')"
    return (
        f"CASE jsonb_typeof({j}) WHEN 'number' THEN width_bucket({j}::float8, {edges}) "
        f"WHEN 'string' THEN CASE WHEN {text} ~ '{_NUMBER_TEXT}' "
        f"THEN width_bucket({text}::float8, {edges}) "
        f"WHEN {_text_known(text)} THEN {UNBINNED} END "
        f"WHEN 'array' THEN CASE WHEN jsonb_array_length({j}) > 0 THEN {UNBINNED} END "
        # Absent (SQL NULL) and JSON null are unknown: only objects and booleans remain.
        f"WHEN 'object' THEN {UNBINNED} WHEN 'boolean' THEN {UNBINNED} END"
    )


def _live_accounts(columns: Sequence[str]) -> str:
    """SQL: the live accounts with ``columns`` computed once each. OFFSET 0 keeps PostgreSQL
    from inlining the subquery, so its outputs are plain columns: it then counts every
    grouping set with a hash table in one pass, instead of sorting the rows once per set."""
    return (
        f"(SELECT {', '.join(columns) or 'NULL AS none'} FROM accounts a "
        "WHERE NOT a.archived OFFSET 0) x"
    )


class HealthRepository:
    """Every SQL statement about ICP health: distributions, baselines, checks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def distributions(
        self, *, icp_version_id: uuid.UUID, fields: Sequence[tuple[str, str, Sequence[float]]]
    ) -> Distributions:
        """How many live accounts hold each tier of the version's verdicts and each value of
        every (field, kind, numeric edges) — categorical fields by normalised value, numeric
        ones by bin, the others known or not — and how often each member of a list field
        occurs."""
        connection = await driver_connection(self.session)
        # The tiers apart: joining every account to its verdict in the pass below would make
        # PostgreSQL walk the accounts in id order, page by page at random once syncs have
        # moved rows around; archived accounts are few, so leaving them out is cheap.
        cursor = await connection.execute(
            """
            SELECT s.tier::text, count(*) FROM account_scores s
            WHERE s.icp_version_id = %s
              AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_id AND a.archived)
            GROUP BY 1
            """,
            (icp_version_id,),
        )
        scored: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        tiers: dict[str | None, int] = {tier: int(n) for tier, n in scored}
        params: dict[str, Any] = {"all": list(range(len(fields) + 1))}
        values = ["NULL::text"]  # field 0: every live account once, to count them
        kinds: dict[str, list[int]] = {"categorical": [], "list": [], "presence": []}
        for index, (field, kind, edges) in enumerate(fields, start=1):
            if kind == "numeric":
                params[f"edges{index}"] = list(edges)
                j = _json(field, f"f{index}", params)
                values.append(f"({_number_bin(j, f'%(edges{index})s::float8[]')})::text")
            else:
                # The raw text, once per account; whether it is known, its normalised form
                # and a list's members are worked out below, once per distinct text.
                values.append(_json(field, f"f{index}", params, as_text=True))
                kinds[kind].append(index)
        params |= {f"{kind}_fields": indexes for kind, indexes in kinds.items()}
        known = _text_known("c.v")
        # Each account becomes one (field number, value) row per field, counted by a plain
        # GROUP BY, which PostgreSQL splits over parallel workers.
        cursor = await connection.execute(
            f"""
            WITH c AS MATERIALIZED (
                SELECT x.k, x.v, count(*) AS n
                FROM (
                    SELECT unnest(%(all)s::int[]) AS k, unnest(ARRAY[{", ".join(values)}]) AS v
                    FROM accounts a WHERE NOT a.archived
                ) x
                GROUP BY 1, 2
            )
            SELECT c.k, CASE
                       WHEN c.k = ANY(%(categorical_fields)s::int[])
                           THEN CASE WHEN {known} THEN {_text_key("c.v")} END
                       WHEN c.k = ANY(%(list_fields)s::int[] || %(presence_fields)s::int[])
                           THEN CASE WHEN {known} THEN 'true' END
                       ELSE c.v END,
                   false, sum(c.n)
            FROM c GROUP BY 1, 2
            UNION ALL
            SELECT c.k, {_text_key("m.member")}, true, sum(c.n)
            FROM c CROSS JOIN LATERAL jsonb_array_elements_text(
                CASE WHEN c.k = ANY(%(list_fields)s::int[]) AND c.v LIKE '[%%' THEN c.v::jsonb END
            ) AS m(member)
            GROUP BY 1, 2
            """,
            params,
        )
        kind_of = ["tier", *(kind for _, kind, _ in fields)]
        counted: list[dict[Any, int]] = [{} for _ in kind_of]
        occurs: list[dict[str, int]] = [{} for _ in kind_of]
        fetched: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        for k, text, is_member, n in fetched:
            if is_member:
                if text:
                    occurs[k][text] = occurs[k].get(text, 0) + int(n)
                continue
            key: Any = text
            if text is not None and kind_of[k] == "numeric":
                key = int(text)
            elif text is not None and kind_of[k] in ("list", "presence"):
                key = True
            counted[k][key] = counted[k].get(key, 0) + int(n)
        live = sum(counted[0].values())
        tiers[None] = live - sum(tiers.values())  # live accounts with no verdict of the version
        return Distributions(
            tiers=tiers,
            fields={field: counted[i] for i, (field, _, _) in enumerate(fields, start=1)},
            members={
                field: occurs[i]
                for i, (field, kind, _) in enumerate(fields, start=1)
                if kind == "list"
            },
        )

    async def quantiles(
        self, fields: Sequence[str], fractions: Sequence[float]
    ) -> dict[str, list[float | None] | None]:
        """For numeric fields: the values at ``fractions`` of their live, known values
        (``percentile_disc``: values that occur); None for a field with none."""
        if not fields:
            return {}
        params: dict[str, Any] = {"fractions": list(fractions)}
        columns = []
        for index, field in enumerate(fields):
            j = _json(field, f"f{index}", params)
            text = f"({j} #>> '{{}}')"
            columns.append(
                f"CASE jsonb_typeof({j}) WHEN 'number' THEN {j}::float8 WHEN 'string' THEN "
                f"CASE WHEN {text} ~ '{_NUMBER_TEXT}' THEN {text}::float8 END END AS n{index}"
            )
        aggregates = ", ".join(
            f"percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY x.n{index})"
            for index in range(len(fields))
        )
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            f"SELECT {aggregates} FROM {_live_accounts(columns)}", params
        )
        row: tuple[Any, ...] | None = await cursor.fetchone()  # type: ignore[assignment]
        assert row is not None
        return dict(zip(fields, row, strict=True))

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
