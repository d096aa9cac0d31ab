"""Queries on verdicts: the staged batch, score history and each account's current verdict.

The score write path talks psycopg directly: COPY into a staging table and one set-based
statement per step are what make a million rescores fit in a minute.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncCursor

from app.core.db import StagedRows
from app.jobs import Reaction

# Columns of a staged verdict, as in account_scores.
_STAGE_COLUMNS = (
    "account_id, icp_version_id, score, tier, is_mql, is_sql, excluded, coverage, reasons, "
    "scored_at"
)
_VERDICT = "score, tier, is_mql, is_sql, excluded"


@dataclass(slots=True, frozen=True)
class ScoreRow:
    """One account's verdict, ready to be written."""

    account_id: int
    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    excluded: bool
    coverage: float
    reasons: str


async def stage_verdicts(
    cursor: AsyncCursor[Any],
    rows: Sequence[ScoreRow],
    *,
    icp_version_id: uuid.UUID,
    scored_at: datetime,
) -> StagedRows:
    """COPY ``rows`` into the transaction's staging table (columns as ``account_scores``,
    emptied at commit), for each reaction to read while ``account_scores`` still holds the
    verdicts they replace."""
    staged = StagedRows(cursor, "score_stage")
    await cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staged.table} "
        "(LIKE account_scores INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    # The values every row shares go as text, formatted once: a datetime handed to write_row
    # is formatted again for every row, two thirds of the COPY's cost on the Python side.
    version, at = str(icp_version_id), scored_at.isoformat()
    async with cursor.copy(f"COPY {staged.table} ({_STAGE_COLUMNS}) FROM STDIN") as copy:
        for r in rows:
            await copy.write_row(
                (
                    r.account_id,
                    version,
                    r.score,
                    r.tier,
                    r.is_mql,
                    r.is_sql,
                    r.excluded,
                    r.coverage,
                    r.reasons,
                    at,
                )
            )
    return staged


async def record_history(staged: StagedRows) -> Reaction:
    """A history row for every staged account whose score, tier or a flag changed (or that
    had no verdict)."""
    # Each staged account's current verdict is looked up by its key. As a join, the planner
    # (which cannot know the staging table's size, and prices an index lookup as a disk
    # read) hashes the whole of account_scores for every batch: a million-account rescore
    # then reads a million rows fifty times over.
    await staged.cursor.execute(
        f"""
        INSERT INTO account_score_history (account_id, icp_version_id, {_VERDICT}, scored_at)
        SELECT s.account_id, s.icp_version_id, s.score, s.tier, s.is_mql, s.is_sql,
               s.excluded, s.scored_at
        FROM {staged.table} s
        WHERE ROW(s.score, s.tier, s.is_mql, s.is_sql, s.excluded) IS DISTINCT FROM (
            SELECT ROW(c.score, c.tier, c.is_mql, c.is_sql, c.excluded)
            FROM account_scores c WHERE c.account_id = s.account_id
        )
        """
    )
    return Reaction(rows=staged.cursor.rowcount)


async def save_current_verdicts(staged: StagedRows) -> int:
    """Make the staged verdicts the current ones; unchanged verdicts are not rewritten.
    Returns how many changed."""
    await staged.cursor.execute(
        f"""
        INSERT INTO account_scores ({_STAGE_COLUMNS})
        SELECT {_STAGE_COLUMNS} FROM {staged.table}
        ON CONFLICT (account_id) DO UPDATE SET
            icp_version_id = EXCLUDED.icp_version_id, score = EXCLUDED.score,
            tier = EXCLUDED.tier, is_mql = EXCLUDED.is_mql, is_sql = EXCLUDED.is_sql,
            excluded = EXCLUDED.excluded, coverage = EXCLUDED.coverage,
            reasons = EXCLUDED.reasons, scored_at = EXCLUDED.scored_at
        WHERE (account_scores.icp_version_id, account_scores.score,
               account_scores.tier, account_scores.is_mql, account_scores.is_sql,
               account_scores.excluded, account_scores.reasons)
              IS DISTINCT FROM
              (EXCLUDED.icp_version_id, EXCLUDED.score, EXCLUDED.tier,
               EXCLUDED.is_mql, EXCLUDED.is_sql, EXCLUDED.excluded, EXCLUDED.reasons)
        """
    )
    return staged.cursor.rowcount


async def clear_stage(staged: StagedRows) -> None:
    """Empty the staging table for the transaction's next batch."""
    await staged.cursor.execute(f"TRUNCATE {staged.table}")
