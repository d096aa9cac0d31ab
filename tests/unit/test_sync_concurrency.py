"""How a sync run reads its objects side by side: the first read to fail stops the others,
and write-back rounds run one at a time beside the storing, never holding it up."""

from __future__ import annotations

import asyncio

import pytest

from app.sync.pipeline import WriteBackRounds, all_or_first_error
from app.writeback.pipeline import FlushCounts


class _Rounds:
    """A flush that records its rounds and can be held open."""

    def __init__(self) -> None:
        self.started = 0
        self.running = 0
        self.most_at_once = 0
        self.release = asyncio.Event()

    async def flush(self) -> FlushCounts:
        self.started += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return FlushCounts()


async def test_the_first_read_to_fail_cancels_the_others_and_its_error_is_raised_as_it_is():
    cancelled: list[str] = []

    async def slow(name: str) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("the deals read failed")

    with pytest.raises(LookupError, match="the deals read failed"):
        await asyncio.wait_for(all_or_first_error([slow("companies"), failing(), slow("x")]), 5)
    assert sorted(cancelled) == ["companies", "x"]


async def test_reads_that_all_succeed_all_run_to_the_end():
    done: list[int] = []

    async def read(n: int) -> None:
        await asyncio.sleep(0.01 * n)
        done.append(n)

    await all_or_first_error([read(3), read(1), read(2)])
    assert done == [1, 2, 3]


async def test_batches_stored_during_a_round_get_one_more_round_and_rounds_never_overlap():
    rounds = _Rounds()
    write_back = WriteBackRounds(rounds.flush)
    write_back.ask()  # nothing under way: a round starts at once
    await asyncio.sleep(0)
    assert rounds.started == 1
    # Batches stored meanwhile do not wait for it; together they ask for one more round.
    write_back.ask()
    write_back.ask()
    await asyncio.sleep(0.05)
    assert rounds.started == 1
    rounds.release.set()
    await asyncio.wait_for(write_back.last_round(), 5)
    assert rounds.started == 3  # the first, the one more, the last
    assert rounds.most_at_once == 1


async def test_a_failed_round_fails_the_run_at_the_next_ask_and_at_the_last_round():
    class CrmDown(Exception):
        pass

    async def failing_flush() -> FlushCounts:
        raise CrmDown("HubSpot still failing after 6 attempts")

    write_back = WriteBackRounds(failing_flush)
    write_back.ask()
    await asyncio.sleep(0.01)
    with pytest.raises(CrmDown):
        write_back.ask()
    with pytest.raises(CrmDown):
        await write_back.last_round()


async def test_a_failed_run_cancels_the_round_under_way():
    rounds = _Rounds()
    write_back = WriteBackRounds(rounds.flush)
    write_back.ask()
    await asyncio.sleep(0)
    await asyncio.wait_for(write_back.cancel(), 5)
    assert rounds.running == 0
