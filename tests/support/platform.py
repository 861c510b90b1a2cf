"""The platform under test: chosen services as real processes over the session's real servers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

from teleservices.shared.embedded.brokers import free_port
from teleservices.shared.embedded.processes import ServiceProcess
from teleservices.shared.security.staff import Role, StaffPrincipal, issue_staff_token
from tests.support.infrastructure import session_timeout_ms
from tests.support.siecle import Family, arrival_events, publish_siecle

OPERATOR = StaffPrincipal(user_id="op-test", display_name="Opérateur de test", role=Role.operateur_academique)


class PlatformUnderTest:
    """Starts services on demand with an isolated database, topic prefix and SMTP port."""

    def __init__(self, workdir: Path, database_url: str, bootstrap_servers: str, broker_name: str,
                 topic_prefix: str, smtp_port: int):
        self.workdir = workdir
        self.database_url = database_url
        self.bootstrap_servers = bootstrap_servers
        self.topic_prefix = topic_prefix
        self.staff_key = secrets.token_urlsafe(48)
        self.env = {
            "TELESERVICES_ENVIRONMENT": "test",
            "TELESERVICES_DATA_DIR": str(workdir),
            "TELESERVICES_DATABASE_URL": database_url,
            "TELESERVICES_DATABASE_POOL_MAX_SIZE": "5",
            "TELESERVICES_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "TELESERVICES_KAFKA_TOPIC_PREFIX": topic_prefix,
            "TELESERVICES_KAFKA_IDEMPOTENT_PRODUCER": str(broker_name == "kafka").lower(),
            "TELESERVICES_KAFKA_SESSION_TIMEOUT_MS": str(session_timeout_ms()),
            "TELESERVICES_NOTIFIER_SMTP_PORT": str(smtp_port),
            "TELESERVICES_SECRET_STAFF_TOKEN_KEY": self.staff_key,
            "TELESERVICES_SECRET_LINK_KEY": secrets.token_urlsafe(48),
            "TELESERVICES_SECRET_TRANSIT_KEY": secrets.token_urlsafe(48),
            "TELESERVICES_SECRET_AT_REST_KEY": secrets.token_urlsafe(48),
        }
        self.processes: dict[str, ServiceProcess] = {}

    def start(self, *services: str) -> None:
        """Start services (each in its own process) and wait until they are ready."""
        for service in services:
            if service not in self.processes:
                self.processes[service] = self._process(service)
            if not self.processes[service].alive():  # already running: never a second process
                self.processes[service].start()
        for service in services:
            try:
                self.processes[service].wait_ready()
            except RuntimeError as exc:  # the free port was taken meanwhile by another process: once more
                if "address already in use" not in str(exc):
                    raise
                self.processes[service] = self._process(service)
                self.processes[service].start()
                self.processes[service].wait_ready()

    def _process(self, service: str) -> ServiceProcess:
        port = free_port()
        prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
        env = {**self.env, f"{prefix}HTTP_PORT": str(port)}
        return ServiceProcess(service, service, env, port, self.workdir / "logs" / f"{service}.log")

    def kill(self, service: str) -> None:
        """SIGKILL a service process, as a crash would."""
        self.processes[service].kill()

    def stop_all(self) -> None:
        """Stop every process."""
        for process in self.processes.values():
            process.stop()

    async def enrol(self, uai: str, families: list[Family]) -> None:
        """Feed SIECLE arrivals for these families, as an import would."""
        await publish_siecle(self.bootstrap_servers, self.topic_prefix, uai, arrival_events(uai, families))

    def token(self, principal: StaffPrincipal = OPERATOR) -> str:
        """A staff token the services accept."""
        return issue_staff_token(principal, self.staff_key)

    def client(self, service: str, principal: StaffPrincipal = OPERATOR) -> httpx.AsyncClient:
        """An HTTP client for a service's API, as the given staff member."""
        return httpx.AsyncClient(base_url=self.processes[service].url, timeout=30,
                                 headers={"authorization": f"Bearer {self.token(principal)}"})

    @asynccontextmanager
    async def database(self, service: str) -> AsyncIterator[asyncpg.Connection]:
        """A connection to a service's schema, for assertions on what it stored."""
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": service.replace("-", "_")})
        try:
            yield conn
        finally:
            await conn.close()
