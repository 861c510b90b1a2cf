"""Render slots: at most one PDF render per core among the notifier workers of one host.

Rendering is CPU-bound. Four workers on two cores each rendering at once do not print more letters than two: they
print fewer (measured: 2 to 4 % fewer, each letter costing 7 % more CPU in cache and scheduling contention). A
worker takes a slot before it renders and gives it back after; while every slot is taken its job waits. A slot is
an exclusive `flock` on a file of a directory the workers of a host share, so a killed worker's slot is free at
once. Containers that do not share the directory (one pod each, with its own CPU limit) do not limit each other.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import random
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from teleservices.shared.metrics import PDF_SLOT_WAIT

POLL_S = 0.02
"""How often a waiting worker tries the slots again (a render takes seconds)."""


def host_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_directory() -> Path:
    """Where the workers of this host and user keep their slots."""
    return Path(tempfile.gettempdir()) / f"teleservices-{os.getuid()}-render-slots"


class RenderSlots:
    """`count` slots in `directory` (None: one per core; 0: no limit), of which this process takes at most
    `processes` (its render processes: a slot is never held by a render waiting for a process)."""

    def __init__(self, count: int | None, processes: int, directory: Path | None = None):
        self.count = host_cores() if count is None else count
        self.directory = directory or default_directory()
        self._processes = asyncio.Semaphore(processes)
        self._files: list[int] = []  # one descriptor per slot, opened at the first render
        self._mine: set[int] = set()  # slots this process holds: flock would let it take the same one twice

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold a slot for the duration of the block."""
        async with self._processes:
            if self.count <= 0:
                yield
                return
            started = time.monotonic()
            while (slot := self._try()) is None:  # noqa: ASYNC110 - other processes free slots: no event to await
                await asyncio.sleep(POLL_S)
            PDF_SLOT_WAIT.inc(time.monotonic() - started)
            try:
                yield
            finally:
                fcntl.flock(self._files[slot], fcntl.LOCK_UN)
                self._mine.discard(slot)

    def _try(self) -> int | None:
        if not self._files:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._files = [os.open(self.directory / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                           for slot in range(self.count)]
        first = random.randrange(self.count)  # noqa: S311 - spreads the workers over the slots, no secret
        for slot in ((first + n) % self.count for n in range(self.count)):
            if slot in self._mine:
                continue
            try:
                fcntl.flock(self._files[slot], fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            self._mine.add(slot)
            return slot
        return None
