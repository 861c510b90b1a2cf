"""Purge after departure: the delivery results of the accounts the accounts service deleted (ENT regulatory act,
art. 6). Generated letters are already deleted after `document_retention_days` (7 by default)."""

from __future__ import annotations

from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import PersonalDataPurged
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS


async def personal_data_purged(event: PersonalDataPurged, ctx: HandlerContext) -> None:
    """Delete the deliveries of the purged accounts (idempotent)."""
    await ctx.conn.execute("DELETE FROM deliveries WHERE account_id = ANY($1::uuid[])", event.account_ids)


GROUP, TOPICS = "privacy-purge", [ACCOUNTS_EVENTS]
HANDLERS = {PersonalDataPurged: personal_data_purged}
"""The notifier's consumer group on the accounts' events, registered in app.py."""
