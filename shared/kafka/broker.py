"""Producer and topic creation with the platform's settings."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from teleservices.shared.messages.topics import Topic
from teleservices.shared.settings import KafkaSettings

log = logging.getLogger(__name__)


def create_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (idempotent where the broker allows it)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        linger_ms=5,
        max_batch_size=256 * 1024,  # an import relays thousands of events at once
        request_timeout_ms=15_000,
    )


async def ensure_topics(settings: KafkaSettings, topics: Iterable[Topic]) -> list[str]:
    """Create the topics that do not exist yet (a service starting on an empty broker recreates them)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="teleservices-admin")
    await admin.start()
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t.full_name(settings.topic_prefix) not in existing]
        for topic in wanted:
            name = topic.full_name(settings.topic_prefix)
            try:
                await admin.create_topics(
                    [NewTopic(name, num_partitions=topic.partitions, replication_factor=settings.replication_factor)]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
    if created:
        log.info("topics created", extra={"topics": created})
    return created
