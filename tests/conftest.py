"""Session fixtures: real PostgreSQL, broker and SMTP server; markers and their time budgets enforced."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from teleservices.shared.embedded.mailbox import MailStore, SmtpSink
from tests.support.accounts import AccountsUnderTest, running_accounts
from tests.support.browser import chromium
from tests.support.infrastructure import (
    BrokerServer,
    PostgresServer,
    session_timeout_ms,
    start_broker,
    start_postgres,
    unique_name,
)
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import CANARIES
from tests.support.sync import SyncUnderTest, running_sync

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def personal_data_in_logs(folder: Path) -> list[str]:
    """Email addresses (Message-IDs at the platform's own domain aside) and the test families' names and INEs
    found in the services' log lines."""
    found: list[str] = []
    for log in sorted(folder.glob("*.log")) if folder.exists() else []:
        text = log.read_text(errors="replace")
        found += [m for m in _EMAIL.findall(text) if not m.endswith((".example", "@teleservices.example"))]
        found += sorted(canary for canary in CANARIES if canary in text)
    return found


MARKER_TIMEOUTS_S = {"unit": 30, "integration": 240, "e2e": 300}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is marked by its folder; each marker carries its per-test time budget."""
    for item in items:
        kind = Path(str(item.fspath)).parent.name
        if kind not in MARKER_TIMEOUTS_S:
            raise pytest.UsageError(f"{item.nodeid}: tests live in tests/unit, tests/integration or tests/e2e")
        item.add_marker(getattr(pytest.mark, kind))
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(MARKER_TIMEOUTS_S[kind]))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """The session's PostgreSQL server."""
    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerServer]:
    """The session's Kafka-protocol broker."""
    server = start_broker(tmp_path_factory.mktemp("broker"))
    yield server
    server.kill()  # its data dies with the session: no need for Kafka's own shutdown (which can take 30 s+)


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    """A fresh database for this test."""
    return postgres.create_database(unique_name("test"))


@pytest.fixture
def topic_prefix() -> str:
    """Topic and consumer-group names of this test only."""
    return unique_name("t") + "."


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    """A real SMTP server over TCP keeping this test's messages."""
    sink = SmtpSink(MailStore(tmp_path / "mailbox"))
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def platform(tmp_path: Path, database_url: str, broker: BrokerServer, topic_prefix: str,
             smtp_sink: SmtpSink) -> Iterator[PlatformUnderTest]:
    """Services started on demand as real processes; stopped after the test."""
    under_test = PlatformUnderTest(tmp_path, database_url, broker.bootstrap_servers, broker.name,
                                   topic_prefix, smtp_sink.port)
    yield under_test
    under_test.stop_all()
    leaked = personal_data_in_logs(tmp_path / "logs")  # names, INEs, addresses of the test families
    assert not leaked, f"personal data in the service logs: {leaked[:5]}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test item (fixtures print service logs when a test failed)."""
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
async def accounts(database_url: str, broker: BrokerServer, topic_prefix: str) -> AsyncIterator[AccountsUnderTest]:
    """The accounts service running in this process over the real servers."""
    async with running_accounts(database_url, broker.bootstrap_servers, topic_prefix, broker.name == "kafka",
                                session_timeout_ms()) as service:
        yield service


@pytest.fixture
async def sync(accounts: AccountsUnderTest, tmp_path: Path) -> AsyncIterator[SyncUnderTest]:
    """The sync service running in this process beside the accounts service."""
    async with running_sync(accounts, tmp_path / "sync") as service:
        yield service


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A real headless Chromium for this test."""
    async with chromium() as started:
        yield started
