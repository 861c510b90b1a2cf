"""Waiting for an asynchronous outcome without fixed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], within_s: float = 60.0, every_s: float = 0.1) -> T:
    """Poll `check` until it returns something truthy, and return that; fail after `within_s` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within_s} s: {check}")
        await asyncio.sleep(every_s)
