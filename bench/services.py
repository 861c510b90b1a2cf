"""Services started as their own processes for a benchmark, with the run's servers and fresh keys."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.harness import Servers
from teleservices.shared.embedded.brokers import free_port
from teleservices.shared.embedded.processes import ServiceProcess


def service_env(servers: Servers, database_url: str, prefix: str) -> dict[str, str]:
    """The environment every service of one benchmark shares."""
    return {"TELESERVICES_ENVIRONMENT": "test", "TELESERVICES_DATABASE_URL": database_url,
            "TELESERVICES_KAFKA_BOOTSTRAP_SERVERS": servers.broker.bootstrap_servers,
            "TELESERVICES_KAFKA_TOPIC_PREFIX": prefix,
            "TELESERVICES_KAFKA_IDEMPOTENT_PRODUCER": str(servers.broker_kind == "kafka").lower(),
            "TELESERVICES_LOG_LEVEL": "WARNING",
            **{f"TELESERVICES_SECRET_{k}": secrets.token_urlsafe(48)
               for k in ("STAFF_TOKEN_KEY", "LINK_KEY", "TRANSIT_KEY", "AT_REST_KEY")}}


def start_service(service: str, env: dict[str, str], logs: Path, name: str | None = None) -> ServiceProcess:
    """Start a service process on a free port and wait until it is ready."""
    port = free_port()
    prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
    process = ServiceProcess(name or service, service, {**env, f"{prefix}HTTP_PORT": str(port)}, port,
                             logs / f"{name or service}.log")
    process.start()
    process.wait_ready()
    return process


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found")


def rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


@asynccontextmanager
async def smtp_sink(folder: Path) -> AsyncIterator[int]:
    """The platform's SMTP sink in its own process (as `make up` runs it); yields its SMTP port."""
    smtp, http = free_port(), free_port()
    sink = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "teleservices.shared.cli", "mailbox", "--dir", str(folder), "--smtp-port", str(smtp),
        "--http-port", str(http), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", smtp)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        yield smtp
    finally:
        sink.terminate()
        await sink.wait()
