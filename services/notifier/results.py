"""Delivery results as the accounts service is told them, first and — for a re-driven job — again."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from teleservices.shared.kafka.outbox import enqueue
from teleservices.shared.messages.catalog import Channel, NotificationDelivered, NotificationFailed
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import NOTIFIER_EVENTS


def result_event(notification_id: uuid.UUID, account_id: uuid.UUID, channel: Channel, failure: str | None,
                 at: datetime) -> NotificationDelivered | NotificationFailed:
    """What the accounts service is told about one delivery."""
    if failure:
        return NotificationFailed(notification_id=notification_id, account_id=account_id, channel=channel,
                                  reason=failure, permanent=True)
    return NotificationDelivered(notification_id=notification_id, account_id=account_id, channel=channel,
                                 delivered_at=at)


async def report_again(conn: asyncpg.Connection, notification_ids: list[uuid.UUID]) -> None:
    """Publish again the recorded results of these deliveries (a re-driven job: the first report may be lost)."""
    rows = await conn.fetch("SELECT * FROM deliveries WHERE notification_id = ANY($1::uuid[])", notification_ids)
    for row in rows:
        event = result_event(row["notification_id"], row["account_id"], Channel(row["channel"]),
                             row["reason"] if row["status"] == "failed" else None, row["settled_at"])
        await enqueue(conn, NOTIFIER_EVENTS, str(row["account_id"]), Envelope.wrap(event, uai=row["uai"]))
