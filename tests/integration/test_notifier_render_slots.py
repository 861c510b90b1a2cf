"""Render slots: notifier workers of one host never render more PDFs at once than there are slots, and a killed
worker's slot is free at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from teleservices.notifier.pdf.slots import RenderSlots

HOLDER = """
import asyncio, sys, time
from pathlib import Path
from teleservices.notifier.pdf.slots import RenderSlots

async def main():
    async with RenderSlots(int(sys.argv[2]), 1, Path(sys.argv[1])).held():
        print("holding", flush=True)
        time.sleep(600)

asyncio.run(main())
"""


def _worker_holding_a_slot(directory: Path, count: int) -> subprocess.Popen[str]:
    """Another process (a notifier worker of the same host) rendering: it holds a slot until killed."""
    worker = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory), str(count)], stdout=subprocess.PIPE,
                              text=True)
    assert worker.stdout is not None and worker.stdout.readline().strip() == "holding"
    return worker


async def test_a_worker_waits_while_another_holds_the_only_slot_and_takes_it_when_that_one_is_killed(
        tmp_path: Path) -> None:
    other = _worker_holding_a_slot(tmp_path, 1)
    try:
        slots = RenderSlots(1, 1, tmp_path)
        waiting = asyncio.create_task(_hold(slots))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        os.kill(other.pid, signal.SIGKILL)
        await asyncio.wait_for(waiting, 5)
    finally:
        other.kill()
        other.wait()


async def test_renders_at_once_never_exceed_the_slots_among_workers_and_within_one(tmp_path: Path) -> None:
    """Three workers of two render processes each, two slots for the host: never more than two at once, and every
    render done."""
    workers = [RenderSlots(2, 2, tmp_path) for _ in range(3)]
    rendering, most, done = 0, 0, 0

    async def render(slots: RenderSlots) -> None:
        nonlocal rendering, most, done
        async with slots.held():
            rendering += 1
            most = max(most, rendering)
            await asyncio.sleep(0.05)
            rendering -= 1
            done += 1

    await asyncio.gather(*(render(slots) for slots in workers for _ in range(4)))
    assert (most, done) == (2, 12)


async def test_a_worker_never_holds_more_slots_than_it_has_render_processes(tmp_path: Path) -> None:
    """A render queued behind this worker's only process holds no slot: another worker of the host takes it."""
    busy = RenderSlots(2, 1, tmp_path)
    first = asyncio.Event()

    async def long_render() -> None:
        async with busy.held():
            first.set()
            await asyncio.sleep(1)

    renders = [asyncio.create_task(long_render()) for _ in range(2)]
    await first.wait()
    started = time.monotonic()
    async with RenderSlots(2, 1, tmp_path).held():
        assert time.monotonic() - started < 0.5
    await asyncio.gather(*renders)


async def test_no_limit_with_zero_slots(tmp_path: Path) -> None:
    slots = RenderSlots(0, 3, tmp_path)
    async with slots.held(), slots.held(), slots.held():
        pass
    assert not _files(tmp_path)


async def _hold(slots: RenderSlots) -> None:
    async with slots.held():
        pass


def _files(directory: Path) -> list[Path]:
    return list(directory.iterdir())
