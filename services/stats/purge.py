"""Purge after departure (ENT regulatory act, art. 6): the read models forget the accounts and pupils the
accounts service deleted; only anonymous counts stay — accesses and delivery results move to one anonymous
account per population, so the syntheses by population keep their totals."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import PersonalDataPurged
from teleservices.stats.figures import mark

ANONYMOUS = {"eleve": uuid.UUID(int=1), "responsable": uuid.UUID(int=2), None: uuid.UUID(int=0)}
"""The accounts the counts of purged accounts are kept under, by population (unknown: the nil id)."""
_ANONYMOUS_OF = ("CASE a.population WHEN 'eleve' THEN $2::uuid WHEN 'responsable' THEN $3::uuid"
                 " ELSE $4::uuid END")


async def personal_data_purged(event: PersonalDataPurged, ctx: HandlerContext) -> None:
    """Delete the per-account and per-pupil rows; fold their accesses and deliveries into anonymous counts."""
    conn, ids, uai, eleves = ctx.conn, event.account_ids, event.uai, event.eleve_ids
    anonymous = (ANONYMOUS["eleve"], ANONYMOUS["responsable"], ANONYMOUS[None])
    await conn.execute(
        "INSERT INTO accounts (account_id, population) VALUES ($1, 'eleve'), ($2, 'responsable')"
        " ON CONFLICT (account_id) DO NOTHING", *anonymous[:2])
    await conn.execute(
        "WITH gone AS (DELETE FROM accesses WHERE account_id = ANY($1::uuid[])"
        "              RETURNING uai, account_id, service, month, count)"
        f" INSERT INTO accesses (uai, account_id, service, month, count) SELECT g.uai, {_ANONYMOUS_OF},"
        " g.service, g.month, sum(g.count) FROM gone g LEFT JOIN accounts a USING (account_id) GROUP BY 1, 2, 3, 4"
        " ON CONFLICT (uai, account_id, service, month) DO UPDATE SET count = accesses.count + excluded.count",
        ids, *anonymous)
    await conn.execute(f"UPDATE deliveries d SET account_id = {_ANONYMOUS_OF} FROM deliveries x"
                       " LEFT JOIN accounts a USING (account_id)"
                       " WHERE x.notification_id = d.notification_id AND d.account_id = ANY($1::uuid[])",
                       ids, *anonymous)
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


async def anonymise_old_accesses(conn: asyncpg.Connection, now: datetime, keep_days: int) -> int:
    """Accesses older than the connection-log period (CNIL 2021-122) keep only their anonymous counts: they move
    to the anonymous account of their population; return how many per-account rows went."""
    limit = (now - timedelta(days=keep_days)).date().replace(day=1)  # whole months only
    anonymous = (ANONYMOUS["eleve"], ANONYMOUS["responsable"], ANONYMOUS[None])
    await conn.execute(
        "INSERT INTO accounts (account_id, population) VALUES ($1, 'eleve'), ($2, 'responsable')"
        " ON CONFLICT (account_id) DO NOTHING", *anonymous[:2])
    moved: int = await conn.fetchval(
        "WITH gone AS (DELETE FROM accesses WHERE month < $1 AND NOT account_id = ANY($5::uuid[])"
        "              RETURNING uai, account_id, service, month, count),"
        " kept AS (INSERT INTO accesses (uai, account_id, service, month, count)"
        f"         SELECT g.uai, {_ANONYMOUS_OF}, g.service, g.month, sum(g.count)"
        "          FROM gone g LEFT JOIN accounts a USING (account_id) GROUP BY 1, 2, 3, 4"
        "          ON CONFLICT (uai, account_id, service, month) DO UPDATE SET count = accesses.count + excluded.count)"
        " SELECT count(*) FROM gone", limit, *anonymous, list(anonymous))
    return moved
