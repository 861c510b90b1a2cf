"""Real servers for the tests: PostgreSQL, a Kafka-protocol broker, an SMTP server.

Backends: embedded binaries (default: embedded PostgreSQL, Apache Kafka from Maven Central jars where a
JDK is present, tansu otherwise) or testcontainers (TELESERVICES_TEST_BACKEND=containers, on machines with
a Docker engine). TELESERVICES_TEST_BROKER=kafka|tansu forces the embedded broker.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Protocol

from teleservices.shared.embedded.brokers import ApacheKafkaBroker, TansuBroker, java_available
from teleservices.shared.embedded.postgres import EmbeddedPostgres


class PostgresServer(Protocol):
    """What the tests need of a PostgreSQL server."""

    def create_database(self, name: str) -> str: ...
    def stop(self) -> None: ...
    def restart(self) -> None: ...


class BrokerServer(Protocol):
    """What the tests need of a Kafka-protocol broker."""

    name: str

    @property
    def bootstrap_servers(self) -> str: ...
    def stop(self) -> None: ...
    def kill(self) -> None: ...
    def restart(self) -> None: ...


def backend() -> str:
    """'embedded' (default) or 'containers'."""
    return os.environ.get("TELESERVICES_TEST_BACKEND", "embedded")


def session_timeout_ms() -> int:
    """Consumer session timeout: short on the embedded brokers (configured to allow it), Kafka's minimum else."""
    return 6000 if backend() == "containers" else 2000


def broker_kind() -> str:
    """Which embedded broker the tests run on: Apache Kafka where a JDK is present, tansu otherwise."""
    forced = os.environ.get("TELESERVICES_TEST_BROKER")
    if forced:
        if forced not in ("kafka", "tansu"):
            raise ValueError("TELESERVICES_TEST_BROKER must be kafka or tansu")
        return forced
    return "kafka" if java_available() else "tansu"


def start_postgres(workdir: Path) -> PostgresServer:
    """Start the PostgreSQL server of the test session."""
    if backend() == "containers":
        return _ContainersPostgres()
    server = EmbeddedPostgres(workdir / "pg")
    server.start()
    return server


def start_broker(workdir: Path) -> BrokerServer:
    """Start the broker of the test session."""
    if backend() == "containers":
        return _ContainersKafka()
    broker: BrokerServer
    if broker_kind() == "kafka":
        broker = ApacheKafkaBroker(workdir / "kafka")
    else:
        broker = TansuBroker(log_file=workdir / "tansu.log")
    broker.start()  # type: ignore[attr-defined]
    return broker


def unique_name(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


class _ContainersPostgres:
    """PostgreSQL in a container (testcontainers; needs a Docker engine)."""

    def __init__(self) -> None:
        from testcontainers.postgres import PostgresContainer

        self._container: Any = PostgresContainer("postgres:17-alpine", driver=None).start()

    def create_database(self, name: str) -> str:
        import asyncio

        import asyncpg

        base = self._container.get_connection_url()

        async def create() -> None:
            conn = await asyncpg.connect(base)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return base.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        self._container.stop()

    def restart(self) -> None:
        self._container.get_wrapped_container().restart()


class _ContainersKafka:
    """Apache Kafka in a container (testcontainers; needs a Docker engine)."""

    name = "kafka"

    def __init__(self) -> None:
        from testcontainers.kafka import KafkaContainer

        self._container: Any = KafkaContainer("apache/kafka:4.1.1").with_kraft().start()

    @property
    def bootstrap_servers(self) -> str:
        return str(self._container.get_bootstrap_server())

    def stop(self) -> None:
        self._container.stop()

    def kill(self) -> None:
        self._container.get_wrapped_container().kill()

    def restart(self) -> None:
        self._container.get_wrapped_container().restart()
