"""What the sandboxes' webhook emitters share: a queue that a background task drains in
batches, each handed to the emitter's own sender (which signs, posts and retries)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

import httpx

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Sender = Callable[[httpx.AsyncClient, list[Item]], Awaitable[None]]


class BatchQueue(Generic[Item]):
    """Items queued by the sandbox's handlers, sent ``max_batch`` at a time once a burst has
    had ``batch_window_seconds`` to gather (a batch update becomes full requests)."""

    def __init__(self, send: Sender[Item], *, max_batch: int, name: str) -> None:
        self._send = send
        self.max_batch = max_batch
        self.name = name
        self.batch_window_seconds = 0.05
        self._items: deque[Item] = deque()
        self._sending = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Items queued or being sent."""
        return len(self._items) + self._sending

    def clear(self) -> None:
        """Drop what is queued."""
        self._items.clear()

    def extend(self, items: Iterable[Item]) -> None:
        """Queue items and make sure the sending task runs."""
        self._items.extend(items)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): the next change made from a request starts it
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._send_forever(), name=self.name)
        assert self._wakeup is not None
        self._wakeup.set()

    async def _send_forever(self) -> None:
        assert self._wakeup is not None
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                if not self._items:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                await asyncio.sleep(self.batch_window_seconds)
                while self._items:
                    count = min(self.max_batch, len(self._items))
                    batch = [self._items.popleft() for _ in range(count)]
                    self._sending = len(batch)
                    try:
                        await self._send(client, batch)
                    except Exception:  # a sandbox must survive a bad target; log and go on
                        logger.exception("%s: delivery crashed", self.name)
                    finally:
                        self._sending = 0
