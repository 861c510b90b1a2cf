"""Transactional outbox: events are written with the state change, then relayed to Kafka by one leader."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from teleservices.shared.db import Database
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import Topic
from teleservices.shared.metrics import OUTBOX_PENDING, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)


async def enqueue(conn: asyncpg.Connection, topic: Topic, key: str, envelope: Envelope) -> None:
    """Add a message to the outbox inside the caller's transaction."""
    await conn.execute(  # one round trip: the row, and a wake-up for the relay delivered at commit
        "WITH added AS (INSERT INTO outbox (event_id, topic, message_key, envelope) VALUES ($1, $2, $3, $4)"
        " RETURNING 1) SELECT pg_notify('outbox_' || current_schema(), '') FROM added",
        envelope.event_id, topic.name, key, envelope.model_dump_json(),
    )


async def enqueue_many(conn: asyncpg.Connection, topic: Topic, messages: list[tuple[str, Envelope]],
                       spread_from: int | None = None) -> None:
    """Add many (key, envelope) messages to the outbox at once, in order, inside the caller's transaction.

    `spread_from`: deal them round-robin over the topic's partitions from that one, instead of by key — work
    units of equal weight (campaign jobs) then load every consumer of the group evenly."""
    if not messages:
        return
    partitions = [None if spread_from is None else (spread_from + n) % topic.partitions for n in range(len(messages))]
    await conn.copy_records_to_table(
        "outbox", columns=["event_id", "topic", "message_key", "envelope", "partition"],
        records=[(e.event_id, topic.name, key, e.model_dump_json(), partition)
                 for (key, e), partition in zip(messages, partitions, strict=True)])
    await conn.execute("SELECT pg_notify('outbox_' || current_schema(), '')")


async def replay(db: Database, since: datetime) -> int:
    """Mark the messages kept since `since` for publication again; consumers are idempotent."""
    async with db.transaction() as conn:
        status = await conn.execute(
            "UPDATE outbox SET published_at = NULL WHERE created_at >= $1 AND published_at IS NOT NULL", since
        )
    count = int(status.split()[-1])
    log.info("outbox replay requested", extra={"since": since.isoformat(), "messages": count})
    return count


async def purge_published(db: Database, retention: timedelta) -> int:
    """Delete published messages older than the retention period."""
    async with db.transaction() as conn:
        status = await conn.execute(
            "DELETE FROM outbox WHERE published_at IS NOT NULL AND created_at < now() - $1::interval", retention
        )
    return int(status.split()[-1])


class OutboxRelay:
    """Publishes the outbox in order; one leader per schema holds an advisory lock."""

    def __init__(self, db: Database, producer: AIOKafkaProducer, topic_prefix: str, batch_size: int = 1000):
        self.db = db
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Relay until cancelled."""
        channel = f"outbox_{self.db.schema}"
        async with self.db.connection() as leader:
            def wake(*_: object) -> None:
                self._wake.set()

            await leader.add_listener(channel, wake)
            try:
                # Another process may hold the lock: poll it (nothing can be awaited on another session's lock).
                while not await leader.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", channel):  # noqa: ASYNC110
                    await asyncio.sleep(1.0)
                log.info("outbox relay leading", extra={"schema": self.db.schema})
                try:
                    await self._relay_forever()
                finally:
                    await leader.execute("SELECT pg_advisory_unlock(hashtext($1))", channel)
            finally:
                await leader.remove_listener(channel, wake)

    async def _relay_forever(self) -> None:
        backoff = 0.2
        while True:
            try:
                published = await self.publish_batch()
                backoff = 0.2
            except (KafkaError, OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox relay failed, retrying", extra={"error": repr(exc), "retry_in_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if published < self.batch_size:
                await self.measure_pending()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def publish_batch(self) -> int:
        """Publish one batch of unpublished messages and mark them; return how many."""
        async with self.db.transaction() as conn:
            rows = await conn.fetch(
                "SELECT id, topic, message_key, envelope AS body, partition FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
            )
            if not rows:
                return 0
            sent = [
                await self.producer.send(
                    f"{self.topic_prefix}{row['topic']}",
                    value=row["body"].encode(),
                    key=row["message_key"].encode(),
                    partition=row["partition"],
                )
                for row in rows
            ]
            await asyncio.gather(*sent)
            await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                               [row["id"] for row in rows])
        OUTBOX_PUBLISHED.labels(self.db.schema).inc(len(rows))
        return len(rows)

    async def measure_pending(self) -> int:
        """Count the messages waiting for publication (exported as a gauge)."""
        async with self.db.connection() as conn:
            pending = int(await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        OUTBOX_PENDING.labels(self.db.schema).set(pending)
        return pending
