"""The shared messaging contracts over real PostgreSQL and a real broker: outbox, idempotency, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from teleservices.shared.db import Database
from teleservices.shared.kafka.broker import create_producer, ensure_topics
from teleservices.shared.kafka.consumer import POLL_RECORDS, HandlerContext, MessageConsumer
from teleservices.shared.kafka.outbox import OutboxRelay, enqueue, replay
from teleservices.shared.messages.envelope import Envelope, Event, message
from teleservices.shared.messages.topics import ALL_TOPICS, DEAD_LETTERS, SYNC_EVENTS
from teleservices.shared.settings import DatabaseSettings, KafkaSettings
from tests.support.infrastructure import BrokerServer, session_timeout_ms
from tests.support.waiting import eventually


@message("test.PupilCounted")
class PupilCounted(Event):
    """A test event: a number to record once."""

    number: int


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(DatabaseSettings(url=database_url), schema="messaging")
    await database.migrate([])
    await database.open()
    async with database.transaction() as conn:
        await conn.execute("CREATE TABLE counted (number int NOT NULL)")
    yield database
    await database.close()


@pytest.fixture
async def kafka(broker: BrokerServer, topic_prefix: str) -> KafkaSettings:
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix=topic_prefix,
                             idempotent_producer=broker.name == "kafka", session_timeout_ms=session_timeout_ms(),
                             max_handler_attempts=2)
    await ensure_topics(settings, ALL_TOPICS)
    return settings


async def _publish(kafka: KafkaSettings, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(SYNC_EVENTS.full_name(kafka.topic_prefix), value=value, key=b"0540001A")
    finally:
        await producer.stop()


async def _record(event: PupilCounted, ctx: HandlerContext) -> None:
    if event.number < 0:
        raise ValueError("numbers are never negative")
    await ctx.conn.execute("INSERT INTO counted (number) VALUES ($1)", event.number)


def _consumer(db: Database, kafka: KafkaSettings, name: str = "test.counter", batch: bool = False) -> MessageConsumer:
    return MessageConsumer(name=name, db=db, kafka=kafka, topics=[SYNC_EVENTS],
                           handlers={PupilCounted: _record}, retry_delay_s=0.01, batch=batch)


BATCHING = pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "batched"])


async def _counted(db: Database) -> list[int]:
    async with db.connection() as conn:
        return [r["number"] for r in await conn.fetch("SELECT number FROM counted ORDER BY number")]


async def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    replicas = [Database(DatabaseSettings(url=database_url), schema="starting") for _ in range(4)]
    applied = await asyncio.gather(*(replica.migrate([]) for replica in replicas))
    assert [names for names in applied if names] == [max(applied, key=len)]


@BATCHING
async def test_a_message_delivered_twice_is_applied_once(db: Database, kafka: KafkaSettings, batch: bool) -> None:
    envelope = Envelope.wrap(PupilCounted(number=7), uai="0540001A")
    await _publish(kafka, envelope.to_bytes(), envelope.to_bytes(), Envelope.wrap(PupilCounted(number=8)).to_bytes())
    consumer = _consumer(db, kafka, batch=batch)
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _has(db, 8))
    finally:
        task.cancel()
    assert await _counted(db) == [7, 8]


async def _has(db: Database, number: int) -> bool:
    return number in await _counted(db)


@BATCHING
async def test_a_poison_message_is_dead_lettered_and_the_consumer_moves_on(db: Database, kafka: KafkaSettings,
                                                                          batch: bool) -> None:
    poison = Envelope.wrap(PupilCounted(number=-1), uai="0540001A")
    await _publish(kafka, b"{not json", poison.to_bytes(), Envelope.wrap(PupilCounted(number=3)).to_bytes())
    task = asyncio.create_task(_consumer(db, kafka, batch=batch).run())
    try:
        await eventually(lambda: _has(db, 3))
    finally:
        task.cancel()
    async with db.connection() as conn:
        dead = await conn.fetch('SELECT event_id, error FROM dead_letters ORDER BY "offset"')
        relayed = await conn.fetch("SELECT topic FROM outbox WHERE topic = $1", DEAD_LETTERS.name)
    assert [d["event_id"] for d in dead] == [None, poison.event_id]
    assert "unreadable envelope" in dead[0]["error"]
    assert "numbers are never negative" in dead[1]["error"]
    assert len(relayed) == 2
    assert await _counted(db) == [3]


async def test_offsets_are_committed_only_after_processing(db: Database, kafka: KafkaSettings) -> None:
    await _publish(kafka, Envelope.wrap(PupilCounted(number=1)).to_bytes())
    gate = asyncio.Event()

    async def stuck(event: PupilCounted, ctx: HandlerContext) -> None:
        gate.set()
        await asyncio.sleep(3600)

    first = MessageConsumer(name="test.counter", db=db, kafka=kafka, topics=[SYNC_EVENTS],
                            handlers={PupilCounted: stuck})
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(gate.wait(), 60)
    task.cancel()  # the worker dies mid-handler: its transaction rolls back, its offset was never committed
    await asyncio.gather(task, return_exceptions=True)

    second = asyncio.create_task(_consumer(db, kafka).run())
    try:
        await eventually(lambda: _has(db, 1))
    finally:
        second.cancel()
    assert await _counted(db) == [1]


async def test_the_outbox_publishes_committed_messages_only_and_replays_them(db: Database,
                                                                             kafka: KafkaSettings) -> None:
    kept, dropped = Envelope.wrap(PupilCounted(number=1)), Envelope.wrap(PupilCounted(number=2))
    async with db.transaction() as conn:
        await enqueue(conn, SYNC_EVENTS, "0540001A", kept)
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await enqueue(conn, SYNC_EVENTS, "0540001A", dropped)
            raise RuntimeError("the state change failed")
    producer = create_producer(kafka, "test")
    await producer.start()
    try:
        relay = OutboxRelay(db, producer, kafka.topic_prefix)
        assert await relay.publish_batch() == 1
        assert await relay.publish_batch() == 0
        assert await replay(db, datetime.now(UTC) - timedelta(minutes=5)) == 1
        assert await relay.publish_batch() == 1
    finally:
        await producer.stop()
    assert await _read_event_ids(kafka, expected=2) == [kept.event_id, kept.event_id]


async def _read_event_ids(kafka: KafkaSettings, expected: int) -> list[object]:
    consumer = AIOKafkaConsumer(SYNC_EVENTS.full_name(kafka.topic_prefix), bootstrap_servers=kafka.bootstrap_servers,
                                auto_offset_reset="earliest", group_id=f"{kafka.topic_prefix}reader")
    await consumer.start()
    ids: list[object] = []
    try:
        while len(ids) < expected:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 60)
            ids += [Envelope.from_bytes(r.value or b"").event_id for records in batches.values() for r in records]
    finally:
        await consumer.stop()
    return ids


async def test_consumer_lag_is_what_remains_on_the_partition(db: Database, kafka: KafkaSettings) -> None:
    """The autoscaler's signal, measured on Apache Kafka: messages left after the last batch handled."""
    from prometheus_client import REGISTRY

    total, blocked_at = POLL_RECORDS + 200, POLL_RECORDS + 100  # the first poll applied, the second blocked
    await _publish(kafka, *(Envelope.wrap(PupilCounted(number=n)).to_bytes() for n in range(total)))
    gate = asyncio.Event()

    async def slow_at_the_end(event: PupilCounted, ctx: HandlerContext) -> None:
        if event.number == blocked_at:
            gate.set()
            await asyncio.sleep(3600)
        await _record(event, ctx)

    consumer = MessageConsumer(name="test.lag", db=db, kafka=kafka, topics=[SYNC_EVENTS],
                               handlers={PupilCounted: slow_at_the_end}, batch=True)
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(gate.wait(), 120)
        lag = sum(m.value for family in REGISTRY.collect() if family.name == "kafka_consumer_lag_messages"
                  for m in family.samples if m.labels.get("consumer") == "test.lag")
        handled = len(await _counted(db))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert 0 < handled <= blocked_at
    assert lag == total - handled
