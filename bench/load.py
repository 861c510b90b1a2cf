"""Open-loop load: requests at a fixed rate, latency of each, whatever the previous ones are doing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def open_loop(call: Callable[[], Awaitable[object]], rate_per_s: float, duration_s: float) -> list[float]:
    """Fire `call` at a fixed rate for a duration; return each call's latency in milliseconds."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    started = loop.time()
    tasks = []

    async def timed() -> None:
        t0 = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - t0) * 1000)

    n = 0
    while (next_at := started + n / rate_per_s) < started + duration_s:
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        tasks.append(asyncio.create_task(timed()))
        n += 1
    await asyncio.gather(*tasks)
    return latencies


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
