"""SMTP delivery through a pool of connections kept open, one pool per notifier worker.

Each ``send`` borrows one idle connection (``asyncio.LifoQueue``: the most recently used first, so a light load
keeps reusing one warm connection), runs one SMTP transaction on it and gives it back. Connections open lazily,
are recycled (QUIT, then a fresh connection) after ``recycle_after`` transactions or ``max_idle_s`` of idleness,
and are reopened when the server dropped them. A token bucket limits the transactions per second of the pool.

Outcomes (``DeliveryOutcome``):

- accepted by the server (for at least one recipient): ``delivered``;
- 5xx on MAIL, RCPT (every recipient) or DATA, or a message that cannot be sent as it is (no valid recipient,
  non-ASCII address the server does not take): ``permanent``, never retried;
- 4xx and connection errors (refused, dropped, timed out): retried ``max_attempts`` times with exponential
  backoff, then ``delivered=False, permanent=False``: the caller raises its ``TransientError`` and the
  consumer tries again later;
- a configuration fault (authentication refused — 535 —, authentication required — 530 —, STARTTLS or AUTH not
  offered, TLS handshake or certificate failure): ``permanent=False`` and ``configuration_error=True``, not
  retried inside the send. Such a fault says nothing about the message: marking it permanent would settle every
  letter of the queue as failed for good because of a wrong password. Left transient, the letters wait until
  the operator fixes the settings. To keep a wrong password from hammering the server (and getting the worker
  banned), sends within ``auth_retry_after_s`` of an authentication refusal answer at once without connecting.

Personal data: addresses, names and contents are never logged, and the server's reply text (which often echoes
the address) is never kept: logs and reasons carry codes, counts and Message-IDs only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Literal

import aiosmtplib

log = logging.getLogger(__name__)

_Kind = Literal["permanent", "transient", "configuration"]


@dataclass(frozen=True)
class SmtpConfig:
    """How one worker reaches its SMTP server."""

    host: str
    port: int
    sender: str
    """Address (with an optional display name) of the From header when the message has none, and of the
    envelope sender (MAIL FROM, where bounces go) of every message."""
    message_id_domain: str
    """Right-hand side of the Message-IDs made for messages that have none."""
    starttls: bool = False
    """Upgrade with STARTTLS after connecting (required, not opportunistic)."""
    use_tls: bool = False
    """Implicit TLS from the first byte (port 465); exclusive with ``starttls``."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    """Per connection attempt and per SMTP command."""
    pool_size: int = 4
    """Connections per worker: at least the worker's number of concurrent sends."""
    recycle_after: int = 100
    """Transactions per connection before QUIT and a fresh connection."""
    max_idle_s: float = 30.0
    """A connection idle for longer is replaced rather than reused (servers drop idle sessions)."""
    rate_per_s: float | None = None
    """Maximum transactions per second of the pool (token bucket); None: unlimited."""
    rate_burst: int = 1
    """Token-bucket capacity: transactions that may start back to back after a quiet period."""
    max_attempts: int = 3
    """Attempts inside one send for 4xx and connection errors."""
    base_delay_s: float = 0.5
    """Backoff before the second attempt; doubled before each next one (with jitter), up to ``max_delay_s``."""
    max_delay_s: float = 5.0
    auth_retry_after_s: float = 60.0
    """After an authentication refusal, sends fail at once (no connection) for this long."""
    tls_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    """TLS context for STARTTLS / implicit TLS; None: the system's default (trusted CAs, host name checked)."""
    validate_certs: bool = True
    """Only used without ``tls_context``: False disables certificate and host-name checks (never in production)."""
    local_hostname: str | None = None
    """Name given in EHLO; None: this host's FQDN (looked up once per pool)."""

    def __post_init__(self) -> None:
        problems = []
        if self.starttls and self.use_tls:
            problems.append("starttls and use_tls are exclusive (STARTTLS upgrade or implicit TLS, not both)")
        if self.password is not None and self.username is None:
            problems.append("a password needs a username")
        if not parseaddr(self.sender)[1]:
            problems.append("sender must contain an email address")
        for name in ("pool_size", "recycle_after", "rate_burst", "max_attempts"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        for name in ("timeout_s", "max_idle_s"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        for name in ("base_delay_s", "max_delay_s", "auth_retry_after_s"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        if self.rate_per_s is not None and self.rate_per_s <= 0:
            problems.append("rate_per_s must be positive (or None for no limit)")
        if problems:
            raise ValueError("invalid SMTP configuration: " + "; ".join(problems))


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one message. ``reason`` is French, plain, without personal data, for staff to read."""

    delivered: bool
    permanent: bool = False
    code: int | None = None
    """The SMTP reply code behind a failure (None for connection errors), or the refusal code of a recipient
    that was refused while others accepted the message."""
    reason: str | None = None
    attempts: int = 0
    """SMTP transactions tried (0: not even tried, see ``configuration_error``)."""
    message_id: str | None = None
    refused_recipients: int = 0
    """Delivered messages: how many of the recipients the server refused (the others got the message)."""
    configuration_error: bool = False
    """The failure comes from the settings or the server's setup (credentials, TLS), not from the message."""


@dataclass
class PoolStats:
    """Counters of one pool, for metrics and tests (no personal data)."""

    connections_opened: int = 0
    connections_recycled: int = 0
    """Closed by the pool on purpose: after ``recycle_after`` transactions, or idle too long."""
    connections_lost: int = 0
    """Found closed by the server, or closed after an error."""
    transactions: int = 0
    delivered: int = 0
    permanent_failures: int = 0
    transient_failures: int = 0
    """Sends that ran out of attempts (not each failed attempt)."""


@dataclass(frozen=True)
class _Failure:
    kind: _Kind
    reason: str
    code: int | None = None


class _Slot:
    """One place in the pool: at most one connection, used by one send at a time."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.client: aiosmtplib.SMTP | None = None
        self.transactions = 0
        self.last_used = 0.0


class _TokenBucket:
    """``rate`` tokens a second, at most ``burst`` kept; waiters are served in turn."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)


_UNAVAILABLE = "serveur de messagerie indisponible"
_INTERRUPTED = "connexion au serveur de messagerie interrompue"


class SmtpPool:
    """SMTP connections of one worker: ``await start(concurrency)``, then ``send`` from any task, ``close``."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.stats = PoolStats()
        self._envelope_sender = parseaddr(config.sender)[1]
        self._slots = [_Slot(number) for number in range(config.pool_size)]
        self._idle: asyncio.LifoQueue[_Slot] | None = None
        self._bucket = _TokenBucket(config.rate_per_s, config.rate_burst) if config.rate_per_s else None
        self._local_hostname = config.local_hostname
        self._auth_refused_until = 0.0
        self._auth_refusal: _Failure | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self, concurrency: int) -> None:
        """Check the pool can serve ``concurrency`` simultaneous sends; connections open on first use."""
        if self._idle is not None or self._closed:
            raise RuntimeError("SMTP pool already started")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if self.config.pool_size < concurrency:
            raise ValueError(
                f"SMTP pool too small: pool_size={self.config.pool_size} < concurrency={concurrency}; "
                "each concurrent send needs its own connection (raise the SMTP pool size or lower the concurrency)")
        if self.config.tls_context is None and not self.config.validate_certs and (
                self.config.starttls or self.config.use_tls):
            log.warning("SMTP server certificates are not validated")
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        self._idle = asyncio.LifoQueue()
        for slot in self._slots:
            self._idle.put_nowait(slot)
        log.info("SMTP pool ready", extra={"pool_size": self.config.pool_size, "concurrency": concurrency,
                                           "recycle_after": self.config.recycle_after,
                                           "rate_per_s": self.config.rate_per_s})

    async def send(self, message: Message) -> DeliveryOutcome:
        """Deliver ``message`` to the recipients of its To, Cc and Bcc headers (Bcc is not transmitted).

        A missing From, Date or Message-ID header is added to ``message`` itself, so the caller can record the
        Message-ID. Never raises for SMTP or network failures: they are in the outcome.
        """
        if self._idle is None or self._closed:
            raise RuntimeError("SMTP pool not started, or closed")
        message_id = self._complete_headers(message)
        if self._auth_refusal is not None and time.monotonic() < self._auth_refused_until:
            return self._outcome(self._auth_refusal, 0, message_id)
        failure: _Failure | None = None
        attempt = 0
        for attempt in range(1, self.config.max_attempts + 1):
            if self._bucket is not None:
                await self._bucket.take()
            slot = await self._idle.get()
            try:
                result = await self._attempt(slot, message)
            finally:
                self._release(slot)
            if isinstance(result, DeliveryOutcome):
                self.stats.delivered += 1
                return DeliveryOutcome(True, code=result.code, attempts=attempt, message_id=message_id,
                                       refused_recipients=result.refused_recipients)
            failure = result
            if failure.kind != "transient":
                break
            log.warning("SMTP attempt failed, will retry" if attempt < self.config.max_attempts
                        else "SMTP attempts exhausted",
                        extra={"message_id": message_id, "attempt": attempt, "code": failure.code})
            if attempt < self.config.max_attempts:
                await asyncio.sleep(self._backoff(attempt))
        assert failure is not None
        if failure.kind == "permanent":
            self.stats.permanent_failures += 1
            log.warning("SMTP server refused the message", extra={"message_id": message_id, "code": failure.code})
        elif failure.kind == "transient":
            self.stats.transient_failures += 1
        else:
            log.error("SMTP configuration problem: check the SMTP settings",
                      extra={"message_id": message_id, "code": failure.code})
        return self._outcome(failure, attempt, message_id)

    async def close(self) -> None:
        """Wait (up to ``timeout_s``) for the sends under way, then QUIT every connection."""
        if self._closed:
            return
        self._closed = True
        if self._idle is not None:
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    for _ in self._slots:
                        await self._idle.get()
            except TimeoutError:
                log.warning("SMTP pool closed with sends under way")
        clients = [slot.client for slot in self._slots if slot.client is not None]
        for slot in self._slots:
            slot.client = None
        await asyncio.gather(*(self._quit(client) for client in clients), return_exceptions=True)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        log.info("SMTP pool closed", extra={"connections_opened": self.stats.connections_opened,
                                            "transactions": self.stats.transactions})

    # Internals

    def _complete_headers(self, message: Message) -> str:
        if message["From"] is None:
            message["From"] = self.config.sender
        if message["Date"] is None:
            message["Date"] = format_datetime(datetime.now(UTC))
        if message["Message-ID"] is None:
            message["Message-ID"] = make_msgid(domain=self.config.message_id_domain)
        return str(message["Message-ID"])

    def _backoff(self, attempt: int) -> float:
        delay = min(self.config.max_delay_s, self.config.base_delay_s * 2.0 ** (attempt - 1))
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 (jitter, not a secret)

    @staticmethod
    def _outcome(failure: _Failure, attempts: int, message_id: str) -> DeliveryOutcome:
        return DeliveryOutcome(False, permanent=failure.kind == "permanent", code=failure.code, reason=failure.reason,
                               attempts=attempts, message_id=message_id,
                               configuration_error=failure.kind == "configuration")

    def _release(self, slot: _Slot) -> None:
        slot.last_used = time.monotonic()
        if slot.client is not None and slot.transactions >= self.config.recycle_after:
            self._retire(slot)
        assert self._idle is not None
        self._idle.put_nowait(slot)

    def _retire(self, slot: _Slot) -> None:
        """Detach the slot's connection and QUIT it in the background (the slot reconnects when next used)."""
        client, slot.client, slot.transactions = slot.client, None, 0
        if client is None:
            return
        self.stats.connections_recycled += 1
        task = asyncio.create_task(self._quit(client), name="smtp-quit")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _quit(self, client: aiosmtplib.SMTP) -> None:
        try:
            if client.is_connected:
                await client.quit(timeout=min(self.config.timeout_s, 5.0))
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            client.close()

    def _drop(self, slot: _Slot) -> None:
        """Forget a connection that failed or that the server closed."""
        if slot.client is not None:
            slot.client.close()
            self.stats.connections_lost += 1
        slot.client, slot.transactions = None, 0

    async def _connect(self, slot: _Slot) -> bool:
        """Give the slot a usable connection; return whether it is one opened earlier (reused)."""
        if slot.client is not None:
            if not slot.client.is_connected:
                self._drop(slot)
            elif time.monotonic() - slot.last_used > self.config.max_idle_s:
                self._retire(slot)
            else:
                return True
        c = self.config
        client = aiosmtplib.SMTP(
            hostname=c.host, port=c.port, username=c.username, password=c.password,
            local_hostname=self._local_hostname, timeout=c.timeout_s, use_tls=c.use_tls, start_tls=c.starttls,
            validate_certs=c.validate_certs, tls_context=c.tls_context)
        await client.connect()  # closes itself on failure
        slot.client, slot.transactions = client, 0
        self.stats.connections_opened += 1
        log.debug("SMTP connection opened", extra={"slot": slot.number})
        return False

    async def _attempt(self, slot: _Slot, message: Message) -> DeliveryOutcome | _Failure:
        """One transaction on the slot's connection; a stale reused connection is replaced once, at no cost."""
        try:
            for _ in range(2):
                try:
                    reused = await self._connect(slot)
                except Exception as exc:
                    return self._connection_failure(exc)
                assert slot.client is not None
                try:
                    return await self._transaction(slot, slot.client, message)
                except aiosmtplib.SMTPServerDisconnected:
                    self._drop(slot)
                    if not reused:
                        return _Failure("transient", _INTERRUPTED)
                    log.debug("SMTP connection found closed, reconnecting", extra={"slot": slot.number})
            return _Failure("transient", _INTERRUPTED)
        except BaseException:  # cancelled mid-transaction: the connection's state is unknown
            self._drop(slot)
            raise

    async def _transaction(self, slot: _Slot, client: aiosmtplib.SMTP,
                           message: Message) -> DeliveryOutcome | _Failure:
        slot.transactions += 1
        self.stats.transactions += 1
        try:
            errors, _ = await client.send_message(message, sender=self._envelope_sender)
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except Exception as exc:
            failure = self._transaction_failure(exc)
            await self._reset(slot, client)
            return failure
        refused = [response.code for response in errors.values()]
        return DeliveryOutcome(True, code=refused[0] if refused else None, refused_recipients=len(refused))

    async def _reset(self, slot: _Slot, client: aiosmtplib.SMTP) -> None:
        """RSET after a failed transaction (aiosmtplib sends one too; this one checks the connection is usable)."""
        if not client.is_connected:
            self._drop(slot)
            return
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            self._drop(slot)

    def _connection_failure(self, exc: Exception) -> _Failure:
        """Connecting, STARTTLS or AUTH failed: a server or configuration problem, never the message's fault."""
        if _caused_by(exc, ssl.SSLError):
            return _Failure("configuration", "échec de la connexion chiffrée (TLS) au serveur de messagerie")
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError) and exc.code >= 500:
            self._auth_refusal = _Failure(
                "configuration", f"authentification refusée par le serveur de messagerie ({exc.code})", exc.code)
            self._auth_refused_until = time.monotonic() + self.config.auth_retry_after_s
            return self._auth_refusal
        if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500 \
                and not isinstance(exc, aiosmtplib.SMTPConnectResponseError):
            return _Failure("configuration",
                            f"ouverture de session refusée par le serveur de messagerie ({exc.code})", exc.code)
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return _Failure("transient", f"{_UNAVAILABLE} ({exc.code})", exc.code)
        if type(exc) in (aiosmtplib.SMTPException, aiosmtplib.SMTPNotSupported):  # STARTTLS/AUTH not offered
            return _Failure("configuration",
                            "le serveur de messagerie ne propose pas le chiffrement ou l'authentification attendus")
        if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
            return _Failure("transient", _UNAVAILABLE)
        raise exc

    @staticmethod
    def _transaction_failure(exc: Exception) -> _Failure:
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            codes = [refusal.code for refusal in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                return _Failure("permanent", f"adresse refusée par le serveur de messagerie ({codes[0]})", codes[0])
            code = next((code for code in codes if code < 500), None)
            return _Failure("transient", f"adresse temporairement refusée par le serveur de messagerie ({code})",
                            code)
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            if exc.code == 530:
                return _Failure("configuration", "authentification exigée par le serveur de messagerie (530)", 530)
            if exc.code >= 500:
                return _Failure("permanent", f"expéditeur refusé par le serveur de messagerie ({exc.code})", exc.code)
            return _Failure("transient", f"{_UNAVAILABLE} ({exc.code})", exc.code)
        if isinstance(exc, aiosmtplib.SMTPDataError):
            if exc.code >= 500:
                return _Failure("permanent", f"message refusé par le serveur de messagerie ({exc.code})", exc.code)
            return _Failure("transient", f"message temporairement refusé par le serveur de messagerie ({exc.code})",
                            exc.code)
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            if exc.code >= 500:
                return _Failure("permanent", f"refus du serveur de messagerie ({exc.code})", exc.code)
            return _Failure("transient", f"{_UNAVAILABLE} ({exc.code})", exc.code)
        if isinstance(exc, aiosmtplib.SMTPNotSupported):  # a non-ASCII address and no SMTPUTF8
            return _Failure("permanent", "adresse non prise en charge par le serveur de messagerie")
        if isinstance(exc, ValueError):  # no recipient, an address that cannot be written in SMTP
            return _Failure("permanent", "adresse de messagerie absente ou invalide")
        if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
            return _Failure("transient", _INTERRUPTED)
        raise exc


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


__all__ = ["DeliveryOutcome", "PoolStats", "SmtpConfig", "SmtpPool"]
