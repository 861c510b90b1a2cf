"""The notifier's SMTP pool against a real aiosmtpd server over TCP: reuse, recycling, TLS, AUTH, faults, rate."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from teleservices.notifier.mailer import DeliveryOutcome, SmtpConfig, SmtpPool
from teleservices.shared.embedded.mailbox import MailStore, SmtpSink
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration

SENDER = "Scolarité services <ne-pas-repondre@teleservices.example>"
PARENT = "elodie.dupre@example.org"
OTHER_PARENT = "marc.lefevre@example.org"


def _config(port: int, **options: Any) -> SmtpConfig:
    settings: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "sender": SENDER, "message_id_domain": "teleservices.example",
        "local_hostname": "notifier.localhost", "timeout_s": 5.0, "pool_size": 4, "max_attempts": 3,
        "base_delay_s": 0.05, "max_delay_s": 0.5,
    }
    settings.update(options)
    return SmtpConfig(**settings)


@asynccontextmanager
async def _pool(config: SmtpConfig, concurrency: int = 1) -> AsyncIterator[SmtpPool]:
    pool = SmtpPool(config)
    await pool.start(concurrency)
    try:
        yield pool
    finally:
        await pool.close()


def _message(number: int = 0, to: str = PARENT, *, cc: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = f"Accès aux services en ligne de Zoé ({number})"
    message["Message-ID"] = f"<test.{number}.{time.monotonic_ns()}@teleservices.example>"
    message["Date"] = "Mon, 08 Sep 2025 09:30:00 +0200"
    message.set_content(f"Madame, Monsieur,\n\nvoici les codes d'accès de Zoé, élève de 6e (n° {number}).\n")
    return message


class _CountingProxy:
    """A TCP relay in front of the sink that records, per client connection, the SMTP verbs sent (plain text)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sessions: list[list[str]] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> _CountingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        verbs: list[str] = []
        self.sessions.append(verbs)
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {client_writer, server_writer}

        async def upstream() -> None:
            in_data = False
            while line := await client_reader.readline():
                if in_data:
                    in_data = line != b".\r\n"
                else:
                    verbs.append(line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper().decode("ascii"))
                    in_data = verbs[-1] == "DATA"
                server_writer.write(line)
                await server_writer.drain()
            server_writer.close()

        async def downstream() -> None:
            while data := await server_reader.read(65536):
                client_writer.write(data)
                await client_writer.drain()
            client_writer.close()

        await asyncio.gather(upstream(), downstream(), return_exceptions=True)
        self._writers -= {client_writer, server_writer}




def _no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        rendered = f"{record.getMessage()} {vars(record)}"
        for personal in (PARENT, OTHER_PARENT, "elodie", "Zoé"):
            assert personal not in rendered, record


# Reuse and recycling


async def test_fifty_concurrent_messages_through_four_reused_connections(smtp_sink: SmtpSink) -> None:
    async with _CountingProxy(smtp_sink.port) as proxy, \
            _pool(_config(proxy.port, pool_size=4, recycle_after=1000), concurrency=4) as pool:
        sent = [_message(n) for n in range(50)]
        outcomes = await asyncio.gather(*(pool.send(message) for message in sent))

    assert all(outcome.delivered and outcome.attempts == 1 for outcome in outcomes)
    stored = [str(summary.message_id) for summary in smtp_sink.store.list()]
    assert sorted(stored) == sorted(message["Message-ID"] for message in sent)  # each exactly once
    assert 1 <= len(proxy.sessions) <= 4  # at most one connection per slot, none per message
    assert sum(verbs.count("MAIL") for verbs in proxy.sessions) == 50
    assert sum(verbs.count("EHLO") for verbs in proxy.sessions) == len(proxy.sessions)
    assert pool.stats.connections_opened == len(proxy.sessions)
    assert pool.stats.connections_recycled == 0 and pool.stats.delivered == 50


async def test_connections_are_recycled_after_recycle_after_messages(smtp_sink: SmtpSink) -> None:
    async with _CountingProxy(smtp_sink.port) as proxy, \
            _pool(_config(proxy.port, pool_size=4, recycle_after=5), concurrency=4) as pool:
        outcomes = await asyncio.gather(*(pool.send(_message(n)) for n in range(50)))

    assert all(outcome.delivered for outcome in outcomes)
    assert smtp_sink.store.count() == 50
    mails = [verbs.count("MAIL") for verbs in proxy.sessions]
    assert sum(mails) == 50 and max(mails) == 5
    # 50 messages, 5 per connection, 4 slots: between 10 and 13 connections, still far fewer than 50.
    assert 10 <= len(proxy.sessions) <= 13
    for verbs in proxy.sessions:  # every connection ends with QUIT: the recycled ones and those closed at the end
        assert verbs[-1] == "QUIT", verbs
    assert pool.stats.connections_opened == len(proxy.sessions)
    assert pool.stats.connections_recycled >= 10 - 4


async def test_missing_headers_are_filled_from_the_settings(smtp_sink: SmtpSink) -> None:
    message = EmailMessage()
    message["To"] = PARENT
    message["Subject"] = "Activation"
    message.set_content("Bonjour")
    async with _pool(_config(smtp_sink.port)) as pool:
        outcome = await pool.send(message)

    assert outcome.delivered and outcome.message_id == message["Message-ID"]
    assert outcome.message_id is not None and outcome.message_id.endswith("@teleservices.example>")
    (summary,) = smtp_sink.store.list()
    assert summary.message_id == outcome.message_id
    assert summary.sender == SENDER
    assert summary.envelope_from == "ne-pas-repondre@teleservices.example"
    assert summary.date is not None and abs((dt.datetime.now(dt.UTC) - summary.date).total_seconds()) < 60


# STARTTLS and AUTH


@pytest.fixture
def tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = self_signed(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def secure_sink(tmp_path: Path, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[SmtpSink]:
    with SmtpSink(MailStore(tmp_path / "secure"), tls_context=tls_contexts[0],
                  require_auth={"teleservices": "s3cret"}) as sink:
        yield sink


async def test_starttls_and_auth_once_per_connection(secure_sink: SmtpSink,
                                                     tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    config = _config(secure_sink.port, starttls=True, tls_context=tls_contexts[1], username="teleservices",
                     password="s3cret", pool_size=1)
    assert "s3cret" not in repr(config)
    async with _pool(config) as pool:
        outcomes = [await pool.send(_message(n)) for n in range(3)]
    assert all(outcome.delivered for outcome in outcomes)
    assert secure_sink.store.count() == 3
    assert pool.stats.connections_opened == 1


async def test_wrong_password_is_a_configuration_error_not_retried(
        secure_sink: SmtpSink, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = _config(secure_sink.port, starttls=True, tls_context=tls_contexts[1], username="teleservices",
                     password="wrong", max_attempts=5, base_delay_s=1.0)
    async with _pool(config) as pool:
        started = time.monotonic()
        refused = await pool.send(_message())
        elapsed = time.monotonic() - started
        again = await pool.send(_message(1))  # within auth_retry_after_s: answered without connecting

    # Not permanent: the message is not at fault; the caller raises TransientError and the letter waits
    # (instead of every letter of the queue being settled as failed because of a wrong password).
    assert refused == DeliveryOutcome(
        delivered=False, permanent=False, code=535, configuration_error=True, attempts=1,
        reason="authentification refusée par le serveur de messagerie (535)", message_id=refused.message_id)
    assert elapsed < 1.0  # no retry with backoff
    assert again.code == 535 and again.configuration_error and again.attempts == 0
    assert pool.stats.connections_opened == 0 and secure_sink.store.count() == 0
    assert "wrong" not in caplog.text
    _no_personal_data(caplog)


async def test_credentials_without_starttls_or_untrusted_certificate_are_configuration_errors(
        secure_sink: SmtpSink) -> None:
    async with _pool(_config(secure_sink.port, username="teleservices", password="s3cret")) as pool:
        no_tls = await pool.send(_message())
    assert not no_tls.delivered and no_tls.configuration_error and not no_tls.permanent and no_tls.attempts == 1

    async with _pool(_config(secure_sink.port, starttls=True, username="teleservices", password="s3cret")) as pool:
        untrusted = await pool.send(_message())  # default context: the self-signed certificate is not trusted
    assert not untrusted.delivered and untrusted.configuration_error and untrusted.attempts == 1
    assert untrusted.reason is not None and "TLS" in untrusted.reason
    assert secure_sink.store.count() == 0


# Refusals, retries and reconnections


async def test_temporary_refusal_is_retried_with_backoff_until_accepted(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse(451)
    asyncio.get_running_loop().call_later(0.5, smtp_sink.accept)
    async with _pool(_config(smtp_sink.port, max_attempts=8, base_delay_s=0.1, max_delay_s=1.0)) as pool:
        started = time.monotonic()
        outcome = await pool.send(_message())
        elapsed = time.monotonic() - started

    assert outcome.delivered and outcome.attempts >= 2
    assert elapsed >= 0.45
    assert smtp_sink.store.count() == 1
    assert pool.stats.connections_opened == 1  # RSET after each refusal: the same connection served every attempt


async def test_refused_recipient_is_permanent_and_not_retried(smtp_sink: SmtpSink,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    smtp_sink.refuse_recipient(PARENT, 550)
    async with _pool(_config(smtp_sink.port, max_attempts=5, base_delay_s=1.0)) as pool:
        started = time.monotonic()
        refused = await pool.send(_message())
        elapsed = time.monotonic() - started
        other = await pool.send(_message(1, to=OTHER_PARENT))

    assert not refused.delivered and refused.permanent and refused.code == 550 and refused.attempts == 1
    assert refused.reason == "adresse refusée par le serveur de messagerie (550)"
    assert elapsed < 0.5
    assert other.delivered  # the connection stays usable after the failed transaction
    assert pool.stats.connections_opened == 1 and pool.stats.permanent_failures == 1
    (stored,) = smtp_sink.store.list()
    assert stored.recipients == (OTHER_PARENT,)
    _no_personal_data(caplog)


async def test_one_refused_recipient_among_two_is_reported_on_a_delivered_message(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse_recipient(OTHER_PARENT, 550)
    async with _pool(_config(smtp_sink.port)) as pool:
        outcome = await pool.send(_message(to=PARENT, cc=OTHER_PARENT))
    assert outcome.delivered and outcome.refused_recipients == 1 and outcome.code == 550
    (stored,) = smtp_sink.store.list()
    assert stored.recipients == (PARENT,)


async def test_refusal_at_data_is_permanent(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse(554, "5.6.0 Message content rejected", at="DATA")
    async with _pool(_config(smtp_sink.port, base_delay_s=1.0)) as pool:
        outcome = await pool.send(_message())
    assert outcome.permanent and outcome.code == 554 and outcome.attempts == 1
    assert outcome.reason == "message refusé par le serveur de messagerie (554)"


async def test_service_closing_421_drops_the_connection_and_the_retry_reconnects(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse(421, "4.3.2 Service shutting down", at="MAIL")
    asyncio.get_running_loop().call_later(0.2, smtp_sink.accept)
    async with _pool(_config(smtp_sink.port, max_attempts=8, base_delay_s=0.1)) as pool:
        outcome = await pool.send(_message())
    assert outcome.delivered and outcome.attempts >= 2
    assert pool.stats.connections_opened >= 2  # aiosmtplib closes on 421: every retry opened a new connection


async def test_server_down_is_transient_then_the_pool_reconnects(smtp_sink: SmtpSink) -> None:
    async with _pool(_config(smtp_sink.port, max_attempts=3, base_delay_s=0.05)) as pool:
        assert (await pool.send(_message(0))).delivered
        port = smtp_sink.port
        await asyncio.to_thread(smtp_sink.stop)

        down = await pool.send(_message(1))
        assert not down.delivered and not down.permanent and not down.configuration_error
        assert down.attempts == 3 and down.code is None
        assert down.reason == "serveur de messagerie indisponible"
        assert pool.stats.transient_failures == 1

        smtp_sink.start()
        assert smtp_sink.port == port
        assert (await pool.send(_message(2))).delivered

        # Restarted behind the pool's back, with no pause: the stale connection is replaced within the attempt.
        smtp_sink.stop()
        smtp_sink.start()
        again = await pool.send(_message(3))
        assert again.delivered and again.attempts == 1

    assert smtp_sink.store.count() == 3
    assert pool.stats.connections_opened == 3


async def test_a_cancelled_send_gives_its_connection_back(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse(451)
    async with _pool(_config(smtp_sink.port, pool_size=1, max_attempts=50, base_delay_s=0.05)) as pool:
        stuck = asyncio.create_task(pool.send(_message(0)))
        await asyncio.sleep(0.2)
        stuck.cancel()
        with suppress(asyncio.CancelledError):
            await stuck
        smtp_sink.accept()
        outcome = await asyncio.wait_for(pool.send(_message(1)), 5)
    assert outcome.delivered


# Rate limit and sizing


async def test_rate_limit_spaces_the_transactions_of_the_pool(smtp_sink: SmtpSink) -> None:
    async with _pool(_config(smtp_sink.port, pool_size=4, rate_per_s=20.0), concurrency=4) as pool:
        started = time.monotonic()
        outcomes = await asyncio.gather(*(pool.send(_message(n)) for n in range(10)))
        elapsed = time.monotonic() - started
    assert all(outcome.delivered for outcome in outcomes)
    assert 0.44 <= elapsed < 3.0  # 1 at once, then 9 more at 20/s: 0.45 s
    assert smtp_sink.store.count() == 10


async def test_pool_smaller_than_concurrency_is_refused_at_start() -> None:
    pool = SmtpPool(_config(1025, pool_size=2))
    with pytest.raises(ValueError, match=r"pool_size=2 < concurrency=4"):
        await pool.start(4)
    with pytest.raises(RuntimeError):
        await pool.send(_message())


def test_inconsistent_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="exclusive"):
        _config(465, starttls=True, use_tls=True)
    with pytest.raises(ValueError, match="recycle_after"):
        _config(25, recycle_after=0)
