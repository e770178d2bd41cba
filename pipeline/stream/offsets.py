"""Committing transcript offsets only once their alerts are delivered (at-least-once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

log = logging.getLogger("claimwatch.worker")


class DeliveredOffsets:
    """Next offset to commit per partition, advanced only once an event's alerts are delivered.

    Commits run in the background and coalesce, so a slow commit never holds up the next batch;
    a failed one (a rebalance took the partition) is only logged: the events are then read again
    and give the same alert ids."""

    def __init__(self, commit: Callable[[Mapping[Any, int]], Awaitable[bool]]):
        self._commit = commit
        self._pending: dict[Any, int] = {}
        self._task: asyncio.Future[None] | None = None

    def delivered(self, positions: Iterable[tuple[Any, int]]) -> None:
        """(partition, offset) of each event whose alerts are on the broker."""
        for tp, offset in positions:
            self._pending[tp] = offset + 1
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._drain())

    async def flush(self) -> None:
        """Wait until everything delivered so far has been committed (or has failed to be)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._pending:
            await self._drain()

    async def _drain(self) -> None:
        while self._pending:
            offsets, self._pending = self._pending, {}
            try:
                done = await self._commit(offsets)
            except Exception as exc:
                done, reason = False, repr(exc)
            else:
                reason = "partitions no longer assigned, or the broker refused"
            if not done:
                log.warning("offsets not committed (%s); those events will be processed again: %s", reason, offsets)
