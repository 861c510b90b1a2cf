"""Idempotent consumers: process, record the message id in the same transaction, then commit the offset."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError

from teleservices.shared.db import Database
from teleservices.shared.kafka.outbox import enqueue
from teleservices.shared.logs import correlation_id
from teleservices.shared.messages.catalog import MessageDeadLettered
from teleservices.shared.messages.envelope import Envelope, Message, prepare_parsers
from teleservices.shared.messages.topics import DEAD_LETTERS, Topic
from teleservices.shared.metrics import ASSIGNED_PARTITIONS, CONSUMER_LAG, HANDLER_SECONDS, MESSAGES_CONSUMED
from teleservices.shared.settings import KafkaSettings

log = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure that will pass (an SMTP server down, a lock): retried without limit, never dead-lettered."""


@dataclass
class HandlerContext:
    """What a handler gets besides its message: the open transaction and the envelope it came in."""

    conn: asyncpg.Connection
    envelope: Envelope
    run: Sequence[Envelope] = ()
    """A batch handler's envelopes, one per message, in order (a partition's keep theirs; empty: the one)."""

    async def publish(self, topic: Topic, key: str, payload: Message, uai: str | None = None) -> None:
        """Emit a message through the outbox, in this transaction, keeping the correlation id."""
        envelope = Envelope.wrap(payload, uai=uai or self.envelope.uai, correlation_id=self.envelope.correlation_id)
        await enqueue(self.conn, topic, key, envelope)


def loggable(exc: BaseException) -> str:
    """An error as a log line may show it: its kind and, for invalid data, the fields — never the values.

    Exception texts carry inputs (pydantic echoes them, PostgreSQL quotes the conflicting key): personal data
    that must stay out of the logs. The full text is kept with the dead letter, in the database."""
    if isinstance(exc, ValidationError):
        fields = sorted({".".join(str(part) for part in error["loc"]) or "?" for error in exc.errors()})
        return f"ValidationError on {', '.join(fields)}"
    if isinstance(exc, asyncpg.PostgresError):
        return f"{type(exc).__name__} (SQLSTATE {exc.sqlstate})"
    return type(exc).__name__


WILL_PASS = (TransientError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
             asyncpg.SerializationError, asyncpg.DeadlockDetectedError,
             # PostgreSQL restarting (57P01 admin shutdown, 57P03 starting up…) or out of connections (53300)
             asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.InsufficientResourcesError)
"""Failures retried without limit (the message waits for them to pass), never dead-lettered."""


POLL_RECORDS, POLL_SLICE = 5_000, 100
"""A batch consumer's poll: at most this many records, fetched and parsed this many at a time."""
Polled = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
Handler = Callable[[Any, HandlerContext], Awaitable[None]]
"""Takes the typed message its table entry names (Any: a table maps each type to its own handler)."""
Handlers = Mapping[type[Message], Handler]
BatchHandler = Callable[[list[Any], HandlerContext], Awaitable[None]]
"""Applies a run of consecutive messages of one type at once (set-based SQL); the single handler stays the
fallback when a batch fails."""
BatchHandlers = Mapping[type[Message], BatchHandler]


class _AssignmentGauge(ConsumerRebalanceListener):  # type: ignore[misc]
    """Publishes how many partitions the consumer holds: N workers sharing a topic's partitions is visible."""

    def __init__(self, consumer: str):
        self.consumer = consumer
        self.gauge = ASSIGNED_PARTITIONS.labels(consumer)
        self.gauge.set(0)

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.gauge.set(0)

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.gauge.set(len(assigned))
        partitions = sorted(f"{tp.topic}:{tp.partition}" for tp in assigned)
        log.info("partitions assigned", extra={"consumer": self.consumer, "partitions": partitions})


class MessageConsumer:
    """Consumes topics in a group; a handler's effect and the message id commit together."""

    def __init__(
        self,
        *,
        name: str,
        db: Database,
        kafka: KafkaSettings,
        topics: Sequence[Topic],
        handlers: Handlers,
        retry_delay_s: float = 0.2,
        batch: bool = False,
        batch_handlers: BatchHandlers | None = None,
        concurrent_partitions: bool = False,
    ):
        self.name = name
        self.db = db
        self.kafka = kafka
        self.topics = topics
        self.handlers = {cls.message_type: handler for cls, handler in handlers.items()}
        self.retry_delay_s = retry_delay_s
        self.batch = batch or bool(batch_handlers)
        self.batch_handlers = {cls.message_type: h for cls, h in (batch_handlers or {}).items()}
        """Apply a poll's records in one transaction (handlers without outside side effects); each partition's
        records keep their order, and a failure sends them one by one, partition by partition."""
        self.concurrent_partitions = concurrent_partitions
        """Handle the partitions of a poll side by side (each still in order). Only for handlers that hold no
        second pooled connection while their own transaction is open: the notifier's jobs do (each letter's
        result commits on its own), and side by side they took every connection and waited for ever."""
        self.processed = 0

    def _consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.kafka.bootstrap_servers,
            group_id=f"{self.kafka.topic_prefix}{self.name}",
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.kafka.session_timeout_ms,
            heartbeat_interval_ms=max(self.kafka.session_timeout_ms // 5, 100),
            max_poll_records=1000 if self.batch else 200,
        )
        consumer.subscribe([t.full_name(self.kafka.topic_prefix) for t in self.topics],
                           listener=_AssignmentGauge(self.name))
        return consumer

    async def run(self) -> None:
        """Consume until cancelled; offsets are committed only after processing."""
        prepare_parsers()
        consumer = self._consumer()
        await consumer.start()
        log.info("consumer started", extra={"consumer": self.name, "topics": [t.name for t in self.topics]})
        try:
            if self.batch:
                await self._run_batches(consumer)
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                if self.concurrent_partitions and len(batches) > 1:
                    await asyncio.gather(*(self._partition(consumer, tp, records) for tp, records in batches.items()))
                else:
                    for tp, records in batches.items():
                        await self._partition(consumer, tp, records)
        finally:
            await consumer.stop()

    async def _run_batches(self, consumer: AIOKafkaConsumer) -> None:
        """Each poll applied in one transaction; the next poll is fetched and parsed while PostgreSQL works."""
        polled = asyncio.ensure_future(self._poll(consumer))
        try:
            while True:
                batches, envelopes = await polled
                polled = asyncio.ensure_future(self._poll(consumer))
                if envelopes is not None and sum(map(len, envelopes)) > 1 and await self._process_together(envelopes):
                    await self._commit(consumer, {tp: records[-1].offset + 1 for tp, records in batches.items()})
                else:
                    for tp, records in batches.items():
                        await self._partition(consumer, tp, records)
        finally:
            polled.cancel()

    async def _poll(self, consumer: AIOKafkaConsumer) -> tuple[Polled, list[list[Envelope]] | None]:
        """The next records of every partition, and their envelopes partition by partition (None if one is
        unreadable)."""
        batches: Polled = {}
        parsed: dict[TopicPartition, list[Envelope] | None] = {}
        timeout_ms, count = 500, 0
        while count < POLL_RECORDS:  # in slices, so that PostgreSQL's answers are not kept waiting
            polled = await consumer.getmany(timeout_ms=timeout_ms, max_records=POLL_SLICE)
            if not polled:
                break
            for tp, records in polled.items():
                count += len(records)
                batches.setdefault(tp, []).extend(records)
                envelopes, known = _envelopes(records), parsed.get(tp, [])
                parsed[tp] = None if envelopes is None or known is None else known + envelopes
            timeout_ms = 0
            await asyncio.sleep(0)
        if any(envelopes is None for envelopes in parsed.values()):
            return batches, None
        return batches, [envelopes for envelopes in parsed.values() if envelopes is not None]

    async def _partition(self, consumer: AIOKafkaConsumer, tp: TopicPartition,
                         records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """One partition's polled records, in their order; then its offset is committed."""
        envelopes = _envelopes(records) if self.batch and len(records) > 1 else None
        if not (envelopes is not None and await self._process_together([envelopes])):
            for record in records:
                await self._process(record)
        await self._commit(consumer, {tp: records[-1].offset + 1})

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit the partitions' next offsets, then report the messages left on each as of the last fetch (the
        autoscaler's signal)."""
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The partition moved to another member: it will see these messages again and skip them.
            log.warning("offset commit failed", extra={"consumer": self.name, "error": repr(exc)})
        for tp, position in offsets.items():
            end = consumer.highwater(tp)
            if end is not None:
                CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(end - position, 0))

    async def _process_together(self, partitions: list[list[Envelope]]) -> bool:
        """Apply partitions' messages in one transaction, each partition's in its order; False (nothing applied)
        sends them one by one instead."""
        handled = [[envelope for envelope in envelopes if envelope.type in self.handlers] for envelopes in partitions]
        if not any(handled):
            return True
        applied: list[Envelope] = []
        try:
            with HANDLER_SECONDS.labels(self.name).time():
                async with self.db.transaction() as conn:
                    seen = {row["event_id"] for row in await conn.fetch(
                        "WITH fresh AS (INSERT INTO processed_messages (consumer, event_id)"
                        " SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id)"
                        " SELECT event_id FROM unnest($2::uuid[]) AS seen(event_id)"
                        " WHERE event_id NOT IN (SELECT event_id FROM fresh)", self.name,
                        [e.event_id for envelopes in handled for e in envelopes])}  # usually none: already applied
                    todo: list[list[Envelope]] = []
                    for envelopes in handled:
                        todo.append([])
                        for envelope in envelopes:
                            if envelope.event_id not in seen:
                                seen.add(envelope.event_id)  # twice in one poll: applied once
                                todo[-1].append(envelope)
                    for run in _runs(todo):
                        await self._apply_run(conn, run)
                        applied += run
        except Exception as exc:  # one of them fails: retry each on its own, with retries and dead letters
            log.info("batch not applied, handling one by one", extra={"consumer": self.name,
                                                                       "error": loggable(exc)})
            return False
        self.processed += sum(map(len, handled))
        for kind, count in Counter(envelope.type for envelope in applied).items():
            MESSAGES_CONSUMED.labels(self.name, kind, "applied").inc(count)
        return True

    async def _apply_run(self, conn: asyncpg.Connection, run: list[Envelope]) -> None:
        """Apply consecutive messages of one type: at once if a batch handler exists, else one by one."""
        token = correlation_id.set(run[0].correlation_id)
        try:
            batch_handler = self.batch_handlers.get(run[0].type)
            if batch_handler is not None:
                await batch_handler([e.open() for e in run], HandlerContext(conn=conn, envelope=run[0], run=run))
                return
            for envelope in run:
                correlation_id.set(envelope.correlation_id)
                await self.handlers[envelope.type](envelope.open(), HandlerContext(conn=conn, envelope=envelope))
        finally:
            correlation_id.reset(token)

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except ValueError as exc:
            await self._dead_letter(record, None, f"unreadable envelope: {exc}")
            return
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return
        token = correlation_id.set(envelope.correlation_id)
        try:
            await self._handle_with_retries(record, envelope, handler)
        finally:
            correlation_id.reset(token)

    async def _handle_with_retries(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope,
                                   handler: Handler) -> None:
        attempt, delay = 0, self.retry_delay_s
        while True:
            attempt += 1
            try:
                with HANDLER_SECONDS.labels(self.name).time():
                    applied = await self._handle_once(envelope, handler)
                self.processed += 1
                MESSAGES_CONSUMED.labels(self.name, envelope.type, "applied" if applied else "duplicate").inc()
                return
            except WILL_PASS as exc:
                log.warning("handler will retry", extra={"consumer": self.name, "event_id": str(envelope.event_id),
                                                         "type": envelope.type, "error": loggable(exc)})
            except Exception as exc:  # a bug or bad data: retried a few times, then dead-lettered
                if attempt >= self.kafka.max_handler_attempts:
                    await self._dead_letter(record, envelope, repr(exc))
                    return
                log.warning("handler failed", extra={"consumer": self.name, "event_id": str(envelope.event_id),
                                                     "attempt": attempt, "error": loggable(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _handle_once(self, envelope: Envelope, handler: Handler) -> bool:
        """Apply the message unless it was already; return whether it was applied now."""
        async with self.db.transaction() as conn:
            first_time = await conn.fetchval(
                "INSERT INTO processed_messages (consumer, event_id) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING RETURNING true",
                self.name, envelope.event_id,
            )
            if not first_time:
                return False
            await handler(envelope.open(), HandlerContext(conn=conn, envelope=envelope))
            return True

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope | None, error: str) -> None:
        """Keep the failing message with its error, publish it to the dead-letter topic, and move on."""
        raw = record.value or b""
        event = MessageDeadLettered(
            consumer=self.name, topic=record.topic, partition=record.partition, offset=record.offset,
            raw=base64.b64encode(raw).decode(), error=error[:2000],
        )
        while True:
            try:
                async with self.db.transaction() as conn:
                    await conn.execute(
                        'INSERT INTO dead_letters (consumer, topic, partition, "offset", event_id, raw, error)'
                        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        self.name, record.topic, record.partition, record.offset,
                        envelope.event_id if envelope else None, raw, error[:2000],
                    )
                    wrapped = Envelope.wrap(event, uai=envelope.uai if envelope else None)
                    await enqueue(conn, DEAD_LETTERS, self.name, wrapped)
                break
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("dead-lettering failed, retrying",
                            extra={"consumer": self.name, "error": loggable(exc)})
                await asyncio.sleep(1.0)
        MESSAGES_CONSUMED.labels(self.name, envelope.type if envelope else "unreadable", "dead_lettered").inc()
        log.error("message dead-lettered", extra={"consumer": self.name, "topic": record.topic,
                                                  "partition": record.partition, "offset": record.offset,
                                                  "error": error.split(":", 1)[0].split("(", 1)[0][:100]})


def _envelopes(records: list[ConsumerRecord[bytes, bytes]]) -> list[Envelope] | None:
    """The records' envelopes, or None if one is unreadable (it will be dead-lettered on its own)."""
    try:
        return [Envelope.from_bytes(record.value or b"") for record in records]
    except ValueError:
        return None


def _runs(partitions: list[list[Envelope]]) -> list[list[Envelope]]:
    """Runs of messages of one type, each partition's kept in order: a partition's run joins those of the other
    partitions whose next run is of the same type (messages of different partitions have different keys)."""
    queues = [deque(_same_type_runs(envelopes)) for envelopes in partitions if envelopes]
    runs: list[list[Envelope]] = []
    while queues:
        kind = queues[0][0][0].type
        run: list[Envelope] = []
        for queue in queues:
            if queue[0][0].type == kind:
                run += queue.popleft()
        runs.append(run)
        queues = [queue for queue in queues if queue]
    return runs


def _same_type_runs(envelopes: list[Envelope]) -> list[list[Envelope]]:
    """Split into runs of consecutive messages of the same type, keeping the order."""
    runs: list[list[Envelope]] = []
    for envelope in envelopes:
        if runs and runs[-1][0].type == envelope.type:
            runs[-1].append(envelope)
        else:
            runs.append([envelope])
    return runs
