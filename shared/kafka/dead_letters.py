"""Dead letters an operator reads and, once the cause is fixed, puts back on their topic (the consumer that failed
reads them again: nothing was recorded as processed for them)."""

from __future__ import annotations

import uuid
from typing import Any

from teleservices.shared.db import Database


class NotReplayable(ValueError):
    """The dead letter is unknown, already replayed, or not a text message."""


async def list_dead_letters(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    """The latest dead letters, newest first (the error's first line only: its text may quote data)."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            'SELECT id, consumer, topic, partition, "offset", event_id, split_part(error, chr(10), 1) AS error,'
            " failed_at, replayed_at FROM dead_letters ORDER BY id DESC LIMIT $1", limit)
    return [{**dict(row), "error": str(row["error"])[:200]} for row in rows]


async def replay_dead_letter(db: Database, dead_letter_id: int, topic_prefix: str) -> str:
    """Queue the dead letter's original bytes on its topic again through the outbox; return the topic."""
    async with db.transaction() as conn:
        row = await conn.fetchrow("SELECT * FROM dead_letters WHERE id = $1 FOR UPDATE", dead_letter_id)
        if row is None or row["replayed_at"] is not None:
            raise NotReplayable("inconnue ou déjà remise en circulation")
        try:
            body = bytes(row["raw"]).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotReplayable("le message n'est pas du texte : il ne peut pas être remis en circulation") from exc
        topic = str(row["topic"]).removeprefix(topic_prefix)
        await conn.execute("INSERT INTO outbox (event_id, topic, message_key, envelope) VALUES ($1, $2, $3, $4)",
                           uuid.uuid4(), topic, str(row["event_id"] or row["consumer"]), body)
        await conn.execute("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", dead_letter_id)
        await conn.execute("SELECT pg_notify('outbox_' || current_schema(), '')")
    return topic
