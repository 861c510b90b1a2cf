"""Purge after departure (ENT regulatory act, art. 6): the read models forget the accounts and pupils the
accounts service deleted; only anonymous counts stay (accesses and delivery results, under the nil account)."""

from __future__ import annotations

import uuid

from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import PersonalDataPurged
from teleservices.stats.figures import mark

ANONYMOUS = uuid.UUID(int=0)
"""The account the counts of purged accounts are kept under."""


async def personal_data_purged(event: PersonalDataPurged, ctx: HandlerContext) -> None:
    """Delete the per-account and per-pupil rows; fold their accesses and deliveries into anonymous counts."""
    conn, ids, uai, eleves = ctx.conn, event.account_ids, event.uai, event.eleve_ids
    await conn.execute(
        "WITH gone AS (DELETE FROM accesses WHERE account_id = ANY($1::uuid[]) RETURNING uai, service, month, count)"
        " INSERT INTO accesses (uai, account_id, service, month, count)"
        " SELECT uai, $2, service, month, sum(count) FROM gone GROUP BY uai, service, month"
        " ON CONFLICT (uai, account_id, service, month) DO UPDATE SET count = accesses.count + excluded.count",
        ids, ANONYMOUS)
    await conn.execute("UPDATE deliveries SET account_id = $2 WHERE account_id = ANY($1::uuid[])", ids, ANONYMOUS)
    uais = {uai, *(r["uai"] for r in await conn.fetch(
        "DELETE FROM rattachements WHERE account_id = ANY($1::uuid[]) OR (uai = $2 AND eleve_id = ANY($3::text[]))"
        " RETURNING uai", ids, uai, eleves))}
    await conn.execute("DELETE FROM accounts WHERE account_id = ANY($1::uuid[])", ids)
    await conn.execute("DELETE FROM eleves WHERE uai = $1 AND eleve_id = ANY($2::text[])", uai, eleves)
    await mark(ctx, uais)


async def personal_data_purged_batch(batch: list[PersonalDataPurged], ctx: HandlerContext) -> None:
    """A run of purge events, one after the other."""
    for event in batch:
        await personal_data_purged(event, ctx)
