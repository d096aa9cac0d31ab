"""Carrying out a sync run: pull pages → upsert → score what changed → queue writes → write back.

A run commits after every batch of pages (accounts, verdicts, queued writes, and where to
resume), so a run that dies is picked up where it stopped, and memory stays one batch deep
whatever the number of companies. Run by the sync job and by the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, Generic

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import account_rows, store_outcomes, upsert_and_score
from app.connections.repository import ConnectionRepository
from app.connections.service import get_connection, mark_outcomes_read, open_connector
from app.core.db import Database
from app.core.errors import NotFound
from app.core.metrics import SYNC_RUNS
from app.jobs.runtime import run_worker
from app.models import FINISHED_SYNC_STATUSES, SyncRun, SyncStatus
from app.sync.repository import SyncRunRepository
from app.sync.schemas import COUNT_NAMES
from app.sync.service import get_sync_run
from app.writeback.pipeline import FlushCounts, flush_outbox
from app.writeback.service import queue_repairs
from connectors.base import (
    AccountRecord,
    ContactRecord,
    DealRecord,
    FatalError,
    OutcomeReader,
    Page,
    RecordT,
)

log = logging.getLogger(__name__)

# Pages are stored in groups this large: one transaction, one scoring pass and one queue of
# writes per thousand companies, not per page of a hundred.
STORE_BATCH_RECORDS = 1_000
# How far the read runs ahead of storing: two batches' worth of records, whatever a page holds.
READ_AHEAD_RECORDS = 2 * STORE_BATCH_RECORDS
# The counts a run's process keeps itself (the write counts are kept by the database).
PROGRESS_COUNTS = (
    "fetched",
    "upserted",
    "scored",
    "repaired",
    "deals_fetched",
    "contacts_fetched",
    "api_calls",
)


async def run_sync(database: Database, *, run_id: uuid.UUID) -> SyncRun:
    """Carry out one sync run and return it: companies, then (where the connector reads them)
    deals and contacts. A FatalError (bad token, missing fields) ends it as failed with the
    reason; a RetriableError propagates (the job retries and the run resumes from its last
    committed page, skipping the objects it finished)."""
    async with database.transaction() as session:
        run = await SyncRunRepository(session).get(run_id, for_update=True)
        if run is None:
            raise NotFound(f"no sync run {run_id}")
        if run.status in FINISHED_SYNC_STATUSES:
            return run  # carried out already (a retried job, or run by hand): nothing to do
        connection = await get_connection(session, connection_id=run.connection_id)
        run.status = SyncStatus.RUNNING
        run.started_at = run.started_at or datetime.now(UTC)
        connection.sync_state = {**connection.sync_state, "last_run": _in_brief(run)}
        resume = connection.sync_state.get("resume") or {}
        if resume.get("run_id") != str(run.id):
            resume = {}
        # What this process tallies; written and write_failed are added to the run's row in
        # the very transaction that confirms each write round (see record_round below).
        counts = {name: int(run.counts.get(name, 0)) for name in PROGRESS_COUNTS}
        warnings: list[str] = list(run.warnings or [])
    opened = open_connector(connection, database_url=database.url)
    connector = opened.connector
    calls_before, calls_of_earlier_tries = connector.api_calls, counts["api_calls"]

    def calls_so_far() -> int:
        return calls_of_earlier_tries + connector.api_calls - calls_before

    # Per object: the cursor its read starts from (where this run got to, when it resumes;
    # else where the last run left it, unless this run reads everything), and the objects this
    # run has finished.
    full = run.mode == "full" or not connection.sync_state.get("cursor")
    cursors: dict[str, Any] = {
        obj: resume[key] if key in resume else None if full else connection.sync_state.get(key)
        for obj, key in _CURSOR_KEYS.items()
    }
    finished: list[str] = list(resume.get("finished", []))

    async def save(session: AsyncSession, obj: str, cursor: dict[str, Any], *, last: bool) -> None:
        counts["api_calls"] = calls_so_far()
        cursors[obj] = cursor
        # ``obj`` counts as finished once its last batch commits, and not before: another
        # object's batch may commit in between, and must not mark it finished early.
        done = [*finished, obj] if last else finished
        await _save_progress(session, run.id, connection.id, counts, cursors, done, warnings)

    # Each store says whether it may have queued verdicts to write back.
    async def store_companies(
        records: list[AccountRecord], cursor: dict[str, Any], *, last: bool
    ) -> bool:
        async with database.transaction() as session:
            outcome = await upsert_and_score(
                session, connection_id=connection.id, accounts=account_rows(records)
            )
            repaired = await queue_repairs(session, connection_id=connection.id, records=records)
            # Added after the await: ``counts[k] += await …`` reads the count before awaiting,
            # and would lose what another object's batch added meanwhile.
            counts["repaired"] += repaired
            counts["fetched"] += len(records)
            counts["upserted"] += len(outcome.accounts)
            counts["scored"] += outcome.scored
            await save(session, "companies", cursor, last=last)
        return outcome.scored + repaired > 0

    async def store_deals(records: list[DealRecord], cursor: dict[str, Any], *, last: bool) -> bool:
        async with database.transaction() as session:
            scored = await store_outcomes(session, connection_id=connection.id, deals=records)
            counts["scored"] += scored
            counts["deals_fetched"] += len(records)
            unknown = sorted({d.stage or "(none)" for d in records if not d.stage_known})
            if unknown:
                _warn(warnings, f"deals in unknown stages counted as open: {', '.join(unknown)}")
            await save(session, "deals", cursor, last=last)
        return scored > 0

    async def store_contacts(
        records: list[ContactRecord], cursor: dict[str, Any], *, last: bool
    ) -> bool:
        async with database.transaction() as session:
            scored = await store_outcomes(session, connection_id=connection.id, contacts=records)
            counts["scored"] += scored
            counts["contacts_fetched"] += len(records)
            await save(session, "contacts", cursor, last=last)
        return scored > 0

    async def record_round(session: AsyncSession, round_counts: FlushCounts) -> None:
        await SyncRunRepository(session).add_write_counts(
            run.id, written=round_counts.written, failed=round_counts.failed
        )

    write_back = WriteBackRounds(
        lambda: flush_outbox(
            database, connection_id=connection.id, connector=connector, record_round=record_round
        )
    )
    # Once a connection's deals or contacts have been read, a company's score counts them:
    # then one batch is stored at a time, whichever object it holds, or a company and its new
    # deal stored at once could each miss the other. Until then scores read no deal or
    # contact, and every object's batches are stored side by side.
    storing: contextlib.AbstractAsyncContextManager[Any] = (
        asyncio.Lock()
        if connection.deals_synced_at is not None or connection.contacts_synced_at is not None
        else contextlib.nullcontext()
    )

    async def read(
        obj: str, pages: Iterator[Page[Any]], store: Callable[..., Awaitable[bool]]
    ) -> None:
        """Read ``obj``'s pages ahead in a thread, store them a batch at a time and ask for a
        write-back after each batch that queued writes; mark ``obj`` finished with its
        last batch."""
        ahead = ReadAhead(pages, records=READ_AHEAD_RECORDS)
        records: list[Any] = []
        last_cursor: dict[str, Any] | None = None
        try:
            while (page := await ahead.next()) is not None:
                records += page.records
                last_cursor = page.cursor
                if len(records) < STORE_BATCH_RECORDS:
                    continue
                async with storing:
                    queued = await store(records, page.cursor, last=False)
                records = []
                if queued:
                    write_back.ask()
            async with storing:
                cursor = last_cursor if last_cursor is not None else cursors[obj] or {}
                await store(records, cursor, last=True)
            finished.append(obj)
        finally:
            ahead.stop()

    async def read_outcomes(
        obj: str,
        reader: Callable[..., Iterator[Page[Any]]],
        store: Callable[..., Awaitable[bool]],
    ) -> None:
        cursor = cursors[obj]
        try:
            await read(obj, reader(cursor=cursor, full=full or cursor is None), store)
        except FatalError as exc:
            # A token without the deals or contacts scope still syncs companies.
            _warn(warnings, f"{obj} not read: {exc}")
            log.warning("sync run %s: %s not read: %s", run.id, obj, exc)

    try:
        schema = await asyncio.to_thread(connector.ensure_schema)
        if not schema.ok:
            missing = "; ".join(f"{name}: {how}" for name, how in schema.missing.items())
            raise FatalError(f"the CRM lacks icp-sync's fields: {missing}")
        # Companies, deals and contacts are read at once, each in its own thread: one
        # object's pages are fetched and parsed while another's batch is stored.
        reads = []
        if "companies" not in finished:
            pages = connector.read_pages(cursor=cursors["companies"], full=full)
            reads.append(read("companies", pages, store_companies))
        if isinstance(connector, OutcomeReader):
            reads += [
                read_outcomes(obj, reader, store)
                for obj, reader, store in (
                    ("deals", connector.read_deal_pages, store_deals),
                    ("contacts", connector.read_contact_pages, store_contacts),
                )
                if obj not in finished
            ]
        try:
            await all_or_first_error(reads)
            if isinstance(connector, OutcomeReader):
                # Before the last write-back round, not after: the rescore this may queue
                # (the first full read of deals and contacts) runs beside that round.
                async with database.transaction() as session:
                    await mark_outcomes_read(
                        session,
                        connection_id=connection.id,
                        deals="deals" in finished,
                        contacts="contacts" in finished,
                    )
            await write_back.last_round()
        finally:
            await write_back.cancel()
        counts["api_calls"] = calls_so_far()
        async with database.transaction() as session:
            return await _finish(
                session, run.id, connection.id, counts, cursors, warnings, error=None
            )
    except FatalError as exc:
        counts["api_calls"] = calls_so_far()
        async with database.transaction() as session:
            return await _finish(
                session, run.id, connection.id, counts, None, warnings, error=str(exc)
            )
    finally:
        opened.close()


# Where each object's resting cursor is kept in ``Connection.sync_state`` (and its cursor
# while a run is under way, in ``sync_state["resume"]``).
_CURSOR_KEYS = {"companies": "cursor", "deals": "deals_cursor", "contacts": "contacts_cursor"}
MAX_WARNINGS = 20


def _warn(warnings: list[str], warning: str) -> None:
    """Add a warning once, keeping the list short."""
    if warning not in warnings and len(warnings) < MAX_WARNINGS:
        warnings.append(warning)


async def _save_progress(
    session: AsyncSession,
    run_id: uuid.UUID,
    connection_id: uuid.UUID,
    counts: dict[str, int],
    cursors: dict[str, Any],
    finished: list[str],
    warnings: list[str],
) -> None:
    run = await SyncRunRepository(session).get(run_id, for_update=True)
    connection = await ConnectionRepository(session).get(connection_id, for_update=True)
    assert run is not None and connection is not None
    run.counts = {**run.counts, **counts}
    run.warnings = list(warnings)
    resume = {"run_id": str(run_id), "finished": list(finished)}
    resume |= {key: cursors[obj] for obj, key in _CURSOR_KEYS.items() if cursors[obj] is not None}
    connection.sync_state = {**connection.sync_state, "resume": resume}


async def _finish(
    session: AsyncSession,
    run_id: uuid.UUID,
    connection_id: uuid.UUID,
    counts: dict[str, int],
    cursors: dict[str, Any] | None,
    warnings: list[str],
    *,
    error: str | None,
) -> SyncRun:
    run = await SyncRunRepository(session).get(run_id, for_update=True)
    connection = await ConnectionRepository(session).get(connection_id, for_update=True)
    assert run is not None and connection is not None
    run.counts = {name: int({**run.counts, **counts}.get(name, 0)) for name in COUNT_NAMES}
    run.warnings = list(warnings)
    run.finished_at = datetime.now(UTC)
    run.status = SyncStatus.FAILED if error else SyncStatus.SUCCEEDED
    run.error = error
    state = {k: v for k, v in connection.sync_state.items() if k != "resume"}
    if cursors is not None and not error:
        state |= {key: cursors[obj] for obj, key in _CURSOR_KEYS.items() if cursors[obj]}
    connection.sync_state = state | {"last_run": _in_brief(run)}
    await session.flush()
    _finished(run, connection.kind)
    return run


def _finished(run: SyncRun, kind: str) -> None:
    """Count the run and say, in one line, how it ended."""
    SYNC_RUNS.labels(kind, str(run.status)).inc()
    counts = " ".join(f"{name}={run.counts.get(name, 0)}" for name in COUNT_NAMES)
    log.info(
        "sync run %s (%s, %s) %s: %s%s",
        run.id,
        kind,
        run.mode,
        run.status,
        counts,
        f" error={run.error}" if run.error else "",
    )


def _in_brief(run: SyncRun) -> dict[str, Any]:
    """What a connection shows of its latest run (``Connection.last_sync``)."""
    return {
        "id": str(run.id),
        "mode": run.mode,
        "status": str(run.status),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "counts": dict(run.counts),
        "error": run.error,
    }


async def mark_failed(database: Database, *, run_id: uuid.UUID, error: str) -> None:
    """Give up on a run after its last retry."""
    async with database.transaction() as session:
        run = await SyncRunRepository(session).get(run_id, for_update=True)
        if run is not None and run.status not in FINISHED_SYNC_STATUSES:
            run.status = SyncStatus.FAILED
            run.error = error
            run.finished_at = datetime.now(UTC)
            connection = await ConnectionRepository(session).get(run.connection_id)
            if connection is not None:
                connection.sync_state = {**connection.sync_state, "last_run": _in_brief(run)}
                _finished(run, connection.kind)


async def follow_sync_run(
    database: Database, run_id: uuid.UUID, *, show: Callable[[dict[str, Any]], None]
) -> SyncRun:
    """Work the queue in this process until sync run ``run_id`` ends (a separate worker may
    take it instead; either way the run row tells), calling ``show`` with its progress."""
    worker = asyncio.create_task(run_worker(concurrency=2))
    try:
        while True:
            async with database.transaction() as session:
                run = await get_sync_run(session, run_id=run_id)
            show({"status": run.status, **run.counts})
            if run.status in FINISHED_SYNC_STATUSES:
                return run
            if worker.done():
                worker.result()
            await asyncio.sleep(0.25)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


# A page read ahead, or (None, error) for a read that failed; (None, None) after the last page.
_Taken = tuple[Page[RecordT] | None, BaseException | None]


class ReadAhead(Generic[RecordT]):
    """Pages read in a thread of their own, kept up to ``records`` records ahead of the one
    who takes them: the CRM's answers are awaited and parsed while the last batch is stored,
    and memory stays bounded. A read error is raised where the page would have been taken."""

    def __init__(self, pages: Iterator[Page[RecordT]], *, records: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._pages: Iterator[Page[RecordT]] = pages
        self._limit = records
        self._buffered = 0  # records read and not yet taken
        self._room = threading.Condition()
        self._stopped = False
        self._queue: asyncio.Queue[_Taken[RecordT]] = asyncio.Queue()
        self._thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)
        self._thread.start()

    async def next(self) -> Page[RecordT] | None:
        """The next page, or None after the last."""
        page, error = await self._queue.get()
        if error is not None:
            raise error
        if page is not None:
            with self._room:
                self._buffered -= len(page.records)
                self._room.notify()
        return page

    def stop(self) -> None:
        """Read no further (the thread ends after the call it may be making)."""
        with self._room:
            self._stopped = True
            self._room.notify()

    def _produce(self) -> None:
        try:
            while True:
                with self._room:
                    self._room.wait_for(lambda: self._stopped or self._buffered < self._limit)
                    if self._stopped:
                        return
                page = next(self._pages, None)
                if page is not None:
                    with self._room:
                        self._buffered += len(page.records)
                self._loop.call_soon_threadsafe(self._queue.put_nowait, (page, None))
                if page is None:
                    return
        except BaseException as exc:  # every error is the reader's to raise
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                self._loop.call_soon_threadsafe(self._queue.put_nowait, (None, exc))
        finally:
            with contextlib.suppress(BaseException):
                close = getattr(self._pages, "close", None)
                if close is not None:
                    close()


async def all_or_first_error(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Run ``coroutines`` together until all are done; the first to fail cancels the rest and
    its error is raised as it is (a job retries a RetriableError, not a group of them)."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        for done in asyncio.as_completed(tasks):
            await done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class WriteBackRounds:
    """A run's write-back, beside its reading and storing, one round at a time: a batch
    stored with writes queued asks for a round, which starts at once when none is under way
    and otherwise follows the one under way (a round writes all that is due, so one covers
    every batch stored meanwhile). Storing never waits for the CRM: a stored batch's writes
    wait in the outbox, in the database, and a failed round fails the run at the next ask."""

    def __init__(self, flush: Callable[[], Coroutine[Any, Any, FlushCounts]]) -> None:
        self._flush = flush
        self._rounds: asyncio.Future[None] | None = None
        self._asked = False

    def ask(self) -> None:
        """Write back what was just queued: a round now, or one more after this one."""
        if self._rounds is not None and not self._rounds.done():
            self._asked = True
            return
        if self._rounds is not None:
            self._rounds.result()  # a round that failed fails the run here
        self._asked = True
        self._rounds = asyncio.ensure_future(self._run_rounds())

    async def last_round(self) -> None:
        """Wait for the rounds under way, then write back all that is left."""
        if self._rounds is not None:
            await self._rounds
        await self._flush()

    async def cancel(self) -> None:
        """Stop the round under way, if any (the run failed or was cancelled)."""
        under_way, self._rounds = self._rounds, None
        if under_way is not None and not under_way.done():
            under_way.cancel()
            with contextlib.suppress(BaseException):
                await under_way

    async def _run_rounds(self) -> None:
        while self._asked:
            self._asked = False
            await self._flush()
