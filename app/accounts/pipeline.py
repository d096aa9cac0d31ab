"""Rescoring every live account: read → score → store, one transaction per batch."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

from app.accounts.service import read_scoring_batch
from app.core.db import Database, without_parallel_workers
from app.icps.service import compiled_icp
from app.models import IcpVersion
from app.verdicts.repository import ScoreRow
from app.verdicts.service import score_rows, store_verdicts

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


async def rescore_active_version(
    database: Database, version: IcpVersion, *, batch_size: int = RESCORE_BATCH_SIZE
) -> RescoreProgress:
    """Read → score → write every live account, one transaction per batch.

    Reading and scoring batch N+1 overlaps with the database writing batch N (a bounded
    queue between the two), so the Python process and PostgreSQL each keep a core busy.
    """
    compiled = compiled_icp(version)
    progress = RescoreProgress()
    scored_batches: asyncio.Queue[list[ScoreRow] | None] = asyncio.Queue(maxsize=2)

    async def read_and_score() -> None:
        after_id = 0
        try:
            while True:
                with paused_gc():
                    async with database.transaction() as session:
                        await without_parallel_workers(session)
                        batch = await read_scoring_batch(
                            session, version=version, after_id=after_id, limit=batch_size
                        )
                    if not batch:
                        break
                    after_id = batch[-1][0]
                    rows = score_rows(compiled, batch)
                await scored_batches.put(rows)
        finally:
            await scored_batches.put(None)

    async def write() -> None:
        while (rows := await scored_batches.get()) is not None:
            async with database.transaction() as session:
                counts = await store_verdicts(
                    session, rows=rows, version=version, trigger="rescore"
                )
            progress.scored += len(rows)
            progress.changed += counts.changed
            progress.history += counts.history

    await asyncio.gather(read_and_score(), write())
    return progress
