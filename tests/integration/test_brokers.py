"""The embedded brokers really serve topics, produce/consume, consumer groups and (Kafka) durable restarts."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped, unused-ignore]
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped, unused-ignore]

from teleservices.shared.embedded.brokers import Broker, free_port, make_broker

pytestmark = pytest.mark.integration

log = logging.getLogger(__name__)

PARTITIONS = 3
COUNT = 100

KINDS = ["kafka", "tansu"]
"""Apache Kafka needs a JDK 17+ and Maven: `make test` installs them (deploy/install-system-deps.sh)."""


@pytest.fixture(params=KINDS)
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    """A started broker of each kind, stopped afterwards."""
    b = make_broker(request.param, tmp_path)
    started = time.monotonic()
    b.start()
    log.warning("%s first start (incl. any jar fetch) took %.2f s", b.name, time.monotonic() - started)
    try:
        yield b
    finally:
        b.stop()


async def create_topic(bootstrap: str, topic: str) -> None:
    """Create a topic with PARTITIONS partitions through the admin API."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, start: int, count: int) -> None:
    """Send messages start..start+count-1 round-robin over the partitions."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(start, start + count):
            await producer.send(topic, f"m{i}".encode(), key=str(i).encode(), partition=i % PARTITIONS)
        await producer.flush()
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, group: str, expected: int, commit: bool = True) -> list[str]:
    """Read `expected` messages in consumer group `group`, commit manually, return the values."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # tansu holds each JoinGroup ~session_timeout/2; Kafka allows >= 1000 (group.min.session.timeout.ms)
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    values: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while len(values) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values += [r.value.decode() for recs in batches.values() for r in recs]
        if commit:
            await consumer.commit()
        extra = await consumer.getmany(timeout_ms=300)
        assert not any(extra.values()), "more messages than expected"
    finally:
        await consumer.stop()
    return values


async def committed_offsets(bootstrap: str, topic: str, group: str) -> dict[int, int]:
    """Committed offset per partition of a group, read through the admin API."""
    # tansu 0.6 answers OffsetFetch for "all partitions" (partitions=None) with a body aiokafka cannot decode
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


async def _committed_once_loaded(bootstrap: str, topic: str, group: str, timeout_s: float = 30) -> dict[int, int]:
    """The group's committed offsets once the restarted broker has loaded them: right after a restart its
    coordinator may still be reading `__consumer_offsets` and answer with none (seen once in CI)."""
    deadline = time.monotonic() + timeout_s
    while not (offsets := await committed_offsets(bootstrap, topic, group)) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    return offsets


async def test_topic_produce_consume_group_commit(broker: Broker) -> None:
    bootstrap = broker.bootstrap_servers
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic)
    await produce(bootstrap, topic, 0, COUNT)

    t0 = time.monotonic()
    values = await consume(bootstrap, topic, group, COUNT)
    log.warning("%s: group consume of %d took %.2f s", broker.name, COUNT, time.monotonic() - t0)
    assert sorted(values) == sorted(f"m{i}" for i in range(COUNT))
    per_partition = {p: len(range(p, COUNT, PARTITIONS)) for p in range(PARTITIONS)}
    assert await committed_offsets(bootstrap, topic, group) == per_partition

    if broker.name != "kafka":
        return  # tansu runs on memory storage: a restart forgets everything by design

    pid = broker.pid
    t0 = time.monotonic()
    broker.restart()  # blocking on purpose: start() must work while an event loop is running
    log.warning("kafka restart (stop + start) took %.2f s", time.monotonic() - t0)
    assert broker.pid != pid
    assert broker.bootstrap_servers == bootstrap

    assert await _committed_once_loaded(bootstrap, topic, group) == per_partition
    await produce(bootstrap, topic, COUNT, 10)
    assert sorted(await consume(bootstrap, topic, group, 10)) == sorted(
        f"m{i}" for i in range(COUNT, COUNT + 10)
    )
    everything = await consume(bootstrap, topic, f"fresh-{group}", COUNT + 10, commit=False)
    assert len(everything) == COUNT + 10


async def test_kill_then_restart_keeps_data(tmp_path: Path) -> None:
    broker = make_broker("kafka", tmp_path)
    broker.start()
    try:
        topic = f"k-{uuid.uuid4().hex[:8]}"
        await create_topic(broker.bootstrap_servers, topic)
        await produce(broker.bootstrap_servers, topic, 0, 30)
        broker.kill()
        assert broker.pid is None
        t0 = time.monotonic()
        broker.start()
        log.warning("kafka start after SIGKILL took %.2f s", time.monotonic() - t0)
        values = await consume(broker.bootstrap_servers, topic, "after-kill", 30, commit=False)
        assert len(values) == 30
    finally:
        broker.stop()


def test_free_ports_are_outside_the_ephemeral_range_outgoing_connections_draw_from() -> None:
    """A port handed to a server must not be taken meanwhile as the source port of one of the platform's
    connections: free_port() draws below the range Linux gives those."""
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= port < ephemeral_start for port in ports) and len(ports) > 40
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports.pop()))
