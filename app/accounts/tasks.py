"""Account jobs: rescoring every account when the active ICP changes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from app.accounts.repository import ScoreRow
from app.accounts.service import read_scoring_batch, score_rows, store_scores
from app.core.db import get_database
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp
from app.jobs import job_app
from app.models import IcpVersion
from app.writeback.tasks import queue_due_flushes

log = logging.getLogger(__name__)

RESCORE_BATCH_SIZE = 20_000


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a batch's acyclic dicts are built: with
    tens of thousands of fresh containers it would otherwise run full passes over the heap
    for nothing (refcounting frees them anyway)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class RescoreProgress:
    """Where a rescore-all got to."""

    scored: int = 0
    changed: int = 0
    history: int = 0


async def rescore_active_version(version: IcpVersion, *, batch_size: int) -> RescoreProgress:
    """Read → score → write every live account, one transaction per batch.

    Reading and scoring batch N+1 overlaps with the database writing batch N (a bounded
    queue between the two), so the Python process and PostgreSQL each keep a core busy.
    """
    database = get_database()
    compiled = compiled_icp(version)
    progress = RescoreProgress()
    scored_batches: asyncio.Queue[list[ScoreRow] | None] = asyncio.Queue(maxsize=2)

    async def read_and_score() -> None:
        after_id = 0
        try:
            while True:
                async with database.transaction() as session:
                    with paused_gc():
                        batch = await read_scoring_batch(
                            session, version=version, after_id=after_id, limit=batch_size
                        )
                if not batch:
                    break
                after_id = batch[-1][0]
                with paused_gc():
                    rows = score_rows(compiled, batch)
                await scored_batches.put(rows)
        finally:
            await scored_batches.put(None)

    async def write() -> None:
        while (rows := await scored_batches.get()) is not None:
            async with database.transaction() as session:
                counts = await store_scores(session, rows=rows, version=version, trigger="rescore")
            progress.scored += len(rows)
            progress.changed += counts.changed
            progress.history += counts.history

    await asyncio.gather(read_and_score(), write())
    return progress


@job_app.task(queue="scoring", lock="rescore-all", queueing_lock="rescore-all")
async def rescore_all_accounts(icp_version_id: str) -> dict[str, int]:
    """Rescore every live account against the ICP that is active when the job runs.

    ``icp_version_id`` names the activation that asked; a later activation collapses into
    this job (queueing lock), which is why it always reads the active version. A killed
    worker's retry starts over; unchanged verdicts are not rewritten, so what was already
    done costs a read, not a write.
    """
    started = time.perf_counter()
    async with get_database().transaction() as session:
        version = await IcpRepository(session).get_active()
    if version is None:
        log.info("rescore requested by %s but no ICP is active", icp_version_id)
        return {"scored": 0, "changed": 0, "history": 0}
    progress = await rescore_active_version(version, batch_size=RESCORE_BATCH_SIZE)
    async with get_database().transaction() as session:
        # Changed verdicts of CRM accounts are in the outbox now: write them back.
        await queue_due_flushes(session)
    log.info(
        "rescored %d accounts against %s in %.1fs (%d changed)",
        progress.scored,
        version.label,
        time.perf_counter() - started,
        progress.changed,
    )
    return {"scored": progress.scored, "changed": progress.changed, "history": progress.history}
