"""Rescoring every live account: read → score → store, one transaction per batch."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

from app.accounts.service import read_scoring_batch
from app.core.db import (
    Database,
    is_serialization_failure,
    repeatable_read,
    without_parallel_workers,
)
from app.icps.service import compiled_icp
from app.models import IcpVersion
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


# Attempts at one batch refused for a concurrent change before the rescore gives up (the job
# is then retried as a whole): each retry reads the batch again, so only a storm of edits on
# the same accounts would use them all.
BATCH_ATTEMPTS = 5


async def rescore_active_version(
    database: Database, version: IcpVersion, *, batch_size: int = RESCORE_BATCH_SIZE
) -> RescoreProgress:
    """Read → score → store every live account, one transaction per batch.

    Each batch is read and stored in one repeatable-read transaction: a verdict that a
    webhook or a sync stores for one of its accounts meanwhile, from newer data, makes the
    batch's write fail instead of undoing it, and the batch is read and scored again.
    Reading and scoring batch N+1 overlaps with the database storing batch N, so the Python
    process and PostgreSQL each keep a core busy.
    """
    compiled = compiled_icp(version)
    progress = RescoreProgress()

    async def rescore_batch(after_id: int, read: asyncio.Future[int | None]) -> None:
        """Rescore the ``batch_size`` accounts after ``after_id``; ``read`` gets the last id
        read (None: there were none) as soon as it is known."""
        through_id: int | None = None
        for attempt in range(1, BATCH_ATTEMPTS + 1):
            try:
                async with database.transaction() as session:
                    await repeatable_read(session)
                    await without_parallel_workers(session)
                    with paused_gc():
                        batch = await read_scoring_batch(
                            session,
                            version=version,
                            after_id=after_id,
                            limit=batch_size,
                            through_id=through_id,
                        )
                        if not read.done():
                            read.set_result(batch[-1][0] if batch else None)
                        if not batch:
                            return
                        rows = score_rows(compiled, batch)
                    # Read it again, if refused, as the same range: the next batch starts
                    # after this one's last id.
                    through_id = batch[-1][0]
                    counts = await store_verdicts(
                        session, rows=rows, version=version, trigger="rescore"
                    )
            except Exception as exc:
                if not is_serialization_failure(exc) or attempt == BATCH_ATTEMPTS:
                    if not read.done():
                        read.set_exception(exc)
                    raise
                continue
            progress.scored += len(rows)
            progress.changed += counts.changed
            progress.history += counts.history
            return

    loop = asyncio.get_running_loop()
    in_flight: list[asyncio.Task[None]] = []
    after_id: int | None = 0
    try:
        while after_id is not None:
            read: asyncio.Future[int | None] = loop.create_future()
            in_flight.append(asyncio.create_task(rescore_batch(after_id, read)))
            after_id = await read
            if len(in_flight) > 1:
                await in_flight.pop(0)  # one batch stored while the next is read and scored
        for batch in in_flight:
            await batch
    finally:
        for batch in in_flight:
            batch.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
    return progress
