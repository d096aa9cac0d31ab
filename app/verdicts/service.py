"""The score write path: new verdicts are stored, and every reaction to a changed verdict
runs as one explicit step, in order, on the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import StagedRows, driver_connection
from app.core.metrics import ACCOUNTS_SCORED
from app.jobs import Reaction, defer_all
from app.models import IcpVersion
from app.scoring import CompiledIcp, ScoreResult, score_account
from app.subscriptions.repository import record_verdict_events
from app.verdicts.repository import (
    ScoreRow,
    clear_stage,
    record_history,
    save_current_verdicts,
    stage_verdicts,
)
from app.writeback.repository import queue_changed_verdicts

VerdictStep = Callable[[StagedRows], Awaitable[Reaction]]

# What a batch of new verdicts sets off, in this order, each step a repository function of
# the domain whose table it writes. Every step compares the staged verdicts with the current
# ones, so the current verdicts are saved after the last of them. A new reaction to a verdict
# change is one more entry here.
REACTIONS: tuple[tuple[str, VerdictStep], ...] = (
    ("history", record_history),
    ("writeback", queue_changed_verdicts),
    ("events", record_verdict_events),
)


@dataclass(slots=True, frozen=True)
class VerdictCounts:
    """What storing a batch of verdicts changed: current verdicts, and rows per reaction."""

    changed: int
    reactions: dict[str, int]

    @property
    def history(self) -> int:
        """History rows written (verdicts whose score, tier or a flag changed)."""
        return self.reactions.get("history", 0)


def score_row(account_id: int, result: ScoreResult) -> ScoreRow:
    """A scoring result as a row to store."""
    return ScoreRow(
        account_id=account_id,
        score=result.score,
        tier=result.tier,
        is_mql=result.is_mql,
        is_sql=result.is_sql,
        excluded=result.excluded,
        coverage=result.coverage,
        reasons=result.reasons,
    )


def score_rows(
    compiled: CompiledIcp, accounts: Sequence[tuple[int, dict[str, Any]]]
) -> list[ScoreRow]:
    """Score (id, data) pairs; pure CPU work, no I/O."""
    return [score_row(account_id, score_account(compiled, data)) for account_id, data in accounts]


async def store_verdicts(
    session: AsyncSession, *, rows: Sequence[ScoreRow], version: IcpVersion, trigger: str
) -> VerdictCounts:
    """Store verdicts of ``version`` in bulk: stage them, run every reaction in order, then
    make them current; the jobs the reactions ask for are deferred on this transaction."""
    if not rows:
        return VerdictCounts(changed=0, reactions={})
    connection = await driver_connection(session)
    async with connection.cursor() as cursor:
        staged = await stage_verdicts(
            cursor, rows, icp_version_id=version.id, scored_at=datetime.now(UTC)
        )
        reactions = {name: await step(staged) for name, step in REACTIONS}
        changed = await save_current_verdicts(staged)
        await clear_stage(staged)
    await defer_all(connection, [job for reaction in reactions.values() for job in reaction.jobs])
    ACCOUNTS_SCORED.labels(trigger).inc(len(rows))
    return VerdictCounts(changed=changed, reactions={name: r.rows for name, r in reactions.items()})
