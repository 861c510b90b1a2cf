"""Purge after departure (ENT regulatory act, art. 6): the portal forgets the accounts the accounts service
deleted — credentials, sessions, connection log, issued links and the sign-in throttling of their identifiers."""

from __future__ import annotations

from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import PersonalDataPurged


async def personal_data_purged(event: PersonalDataPurged, ctx: HandlerContext) -> None:
    """Delete everything the portal holds on these accounts (idempotent)."""
    conn, ids = ctx.conn, event.account_ids
    if not ids:
        return
    identifiers = [r["identifiant"] for r in await conn.fetch(
        "SELECT identifiant FROM credentials WHERE account_id = ANY($1::uuid[]) AND identifiant IS NOT NULL", ids)]
    await conn.execute("DELETE FROM throttle WHERE key = ANY($1::text[])", [f"id:{i}" for i in identifiers])
    for table in ("sessions", "links", "connection_log", "credentials"):
        await conn.execute(f"DELETE FROM {table} WHERE account_id = ANY($1::uuid[])", ids)


HANDLERS = {PersonalDataPurged: personal_data_purged}
"""Added to the portal's accounts-feed consumer group (app.py)."""
