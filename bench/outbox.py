"""shared.outbox_relay_msgs_per_s: the transactional outbox relay beside a bare aiokafka producer loop."""

from __future__ import annotations

import time
import uuid

from aiokafka import AIOKafkaProducer

from bench.harness import Row, Servers, benchmark, median
from teleservices.shared.db import Database
from teleservices.shared.kafka.broker import create_producer, ensure_topics
from teleservices.shared.kafka.outbox import OutboxRelay, enqueue
from teleservices.shared.messages.catalog import AccountCreated, Population
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS
from teleservices.shared.settings import DatabaseSettings, KafkaSettings

MESSAGES = 5_000
ROUNDS = 3


def _envelopes() -> list[Envelope]:
    return [Envelope.wrap(AccountCreated(account_id=uuid.uuid4(), uai="0540001A", population=Population.eleve,
                                         identifiant=f"eleve.demo{n}"), uai="0540001A") for n in range(MESSAGES)]


async def _bare_producer(kafka: KafkaSettings, envelopes: list[Envelope]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all",
                                enable_idempotence=kafka.idempotent_producer, linger_ms=5)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(ACCOUNTS_EVENTS.full_name(kafka.topic_prefix), value=e.to_bytes(),
                                       key=str(e.event_id).encode()) for e in envelopes]
        for future in futures:
            await future
        return len(envelopes) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _relay(db: Database, kafka: KafkaSettings, envelopes: list[Envelope]) -> float:
    async with db.transaction() as conn:
        for envelope in envelopes:
            await enqueue(conn, ACCOUNTS_EVENTS, str(envelope.event_id), envelope)
    producer = create_producer(kafka, "bench")
    await producer.start()
    try:
        relay = OutboxRelay(db, producer, kafka.topic_prefix)
        started = time.perf_counter()
        while await relay.publish_batch():
            pass
        return len(envelopes) / (time.perf_counter() - started)
    finally:
        await producer.stop()


@benchmark("shared.")
async def outbox_relay(servers: Servers) -> list[Row]:
    """Relay throughput from PostgreSQL to the broker, beside the bare producer sending the same messages."""
    kafka = KafkaSettings(bootstrap_servers=servers.broker.bootstrap_servers,
                          topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
                          idempotent_producer=servers.broker_kind == "kafka")
    await ensure_topics(kafka, [ACCOUNTS_EVENTS])
    db = Database(DatabaseSettings(url=servers.postgres.create_database("bench_outbox")), schema="bench")
    await db.migrate([])
    await db.open()
    relayed, bare = [], []
    try:
        for _ in range(ROUNDS):
            envelopes = _envelopes()
            bare.append(await _bare_producer(kafka, envelopes))
            relayed.append(await _relay(db, kafka, envelopes))
    finally:
        await db.close()
    return [Row("shared.outbox_relay_msgs_per_s", median(relayed), "msg/s", median(bare),
                "≥ 0.5 × bare producer")]
