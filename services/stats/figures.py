"""Each establishment's line of the academy view, recomputed shortly after its events changed it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from teleservices.shared.db import Database
from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.stats.queries import FIGURES_SQL

COLUMNS = ("eleves", "non_notifies", "notifies", "utilises", "comptes", "r_non_notifies", "r_notifies",
           "r_utilises", "eleves_resp_utilise")
UPSERT_SQL = (
    f"INSERT INTO figures (uai, {', '.join(COLUMNS)}) SELECT uai, {', '.join(COLUMNS)} FROM ({FIGURES_SQL}) f"
    f" ON CONFLICT (uai) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS)}, computed_at = now()")


async def mark(ctx: HandlerContext, uais: Iterable[str | None]) -> None:
    """Mark establishments dirty in the handler's transaction.

    DO UPDATE locks the mark until the handler commits, so a recomputation never misses a change."""
    await ctx.conn.execute(
        "INSERT INTO dirty (uai) SELECT unnest($1::text[])"
        " ON CONFLICT (uai) DO UPDATE SET marked_at = excluded.marked_at", sorted({u for u in uais if u}))


async def refresh(db: Database, academy: str | None = None, batch: int = 8) -> int:
    """Recompute the dirty establishments (of one academy, or all); return how many."""
    done = 0
    while True:
        async with db.transaction() as conn:
            uais = [r["uai"] for r in await conn.fetch(
                "DELETE FROM dirty WHERE uai IN (SELECT uai FROM dirty WHERE $1::text IS NULL OR uai IN"
                " (SELECT uai FROM establishments WHERE academy = $1) ORDER BY marked_at LIMIT $2"
                " FOR UPDATE SKIP LOCKED) RETURNING uai", academy, batch)]
            if not uais:
                return done
            await conn.execute(UPSERT_SQL, uais)
        done += len(uais)


async def keep_fresh(db: Database, every_s: float = 1.0) -> None:
    """Recompute what changed, every second (the background loop of the service)."""
    while True:
        await refresh(db)
        await asyncio.sleep(every_s)
