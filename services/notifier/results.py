"""Delivery results as the accounts service is told them, first and — for a re-driven job — again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from teleservices.shared.kafka.outbox import enqueue, enqueue_many
from teleservices.shared.messages.catalog import Channel, NotificationDelivered, NotificationFailed, SendNotification
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import NOTIFIER_EVENTS
from teleservices.shared.metrics import EMAILS


@dataclass(frozen=True)
class Settled:
    """One letter's outcome: delivered (with the email's Message-ID or the PDF's reference) or failed, and why."""

    letter: SendNotification
    message_id: str | None
    failure: str | None
    at: datetime


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


async def record_results(conn: asyncpg.Connection, results: list[Settled]) -> None:
    """Record outcomes and their events in the caller's transaction, in two statements whatever their number; an
    outcome already recorded (a retried job) is neither recorded nor reported twice."""
    if not results:
        return
    letters = [r.letter for r in results]
    inserted = {row["notification_id"] for row in await conn.fetch(
        "INSERT INTO deliveries (notification_id, account_id, uai, channel, status, message_id, reason, settled_at)"
        " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
        " $8::timestamptz[]) ON CONFLICT DO NOTHING RETURNING notification_id",
        [x.notification_id for x in letters], [x.account_id for x in letters], [x.uai for x in letters],
        [x.channel.value for x in letters], ["failed" if r.failure else "delivered" for r in results],
        [r.message_id for r in results], [r.failure for r in results], [r.at for r in results])}
    fresh = [r for r in results if r.letter.notification_id in inserted]
    for r in fresh:
        if r.letter.channel is Channel.email:
            EMAILS.labels("failed" if r.failure else "sent").inc()
    await enqueue_many(conn, NOTIFIER_EVENTS, [
        (str(r.letter.account_id), Envelope.wrap(result_event(r.letter.notification_id, r.letter.account_id,
                                                              r.letter.channel, r.failure, r.at), uai=r.letter.uai))
        for r in fresh])
