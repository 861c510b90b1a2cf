"""SMTP sink (aiosmtpd) into a MailStore, with fault injection, optional STARTTLS/AUTH, and web mailbox."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
import ssl
import threading
import warnings
import weakref
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Literal

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from teleservices.shared.embedded.mailbox_store import (
    Attachment,
    MailStore,
    MessageNotFound,
    MessageSummary,
    ParsedMessage,
)
from teleservices.shared.embedded.mailbox_web import create_mailbox_app

log = logging.getLogger(__name__)

Stage = Literal["MAIL", "RCPT", "DATA"]
_STAGES: tuple[Stage, ...] = ("MAIL", "RCPT", "DATA")
SMTP_HOSTNAME = "mailbox.localhost"  # aiosmtpd would otherwise call socket.getfqdn() (DNS) per connection


def _quiet_aiosmtpd() -> None:
    """aiosmtpd logs each command line (addresses: personal data) at INFO on "mail.log": keep WARNING+."""
    aiosmtpd_log = logging.getLogger("mail.log")
    if aiosmtpd_log.level == logging.NOTSET or aiosmtpd_log.level < logging.WARNING:
        aiosmtpd_log.setLevel(logging.WARNING)


def _reply(code: int, message: str) -> str:
    if not 400 <= code <= 599:
        raise ValueError(f"refusal code must be 4xx or 5xx, not {code}")
    return f"{code} {' '.join(message.split())}"


class _Faults:
    """Thread-safe refusal settings shared by the handler (SMTP thread) and the test code."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._everything: tuple[int, str] | None = None  # (first refused stage index, reply)
        self._recipients: dict[str, str] = {}

    def refuse(self, stage: Stage, reply: str) -> None:
        with self._lock:
            self._everything = (_STAGES.index(stage), reply)

    def refuse_recipient(self, address: str, reply: str) -> None:
        with self._lock:
            self._recipients[address.strip().lower()] = reply

    def reset(self) -> None:
        with self._lock:
            self._everything = None
            self._recipients.clear()

    def refusal(self, stage: Stage, address: str | None = None) -> str | None:
        with self._lock:
            if self._everything is not None and _STAGES.index(stage) >= self._everything[0]:
                return self._everything[1]
            if address is not None:
                return self._recipients.get(address.strip().lower())
            return None


class _SinkHandler:
    """aiosmtpd handler. Beware: aiosmtpd treats every attribute named handle_* or auth_* as a hook."""

    def __init__(self, store: MailStore, faults: _Faults, users: dict[str, str] | None) -> None:
        self._store = store
        self._faults = faults
        self._users = users

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        refusal = self._faults.refusal("MAIL")
        if refusal is not None:
            log.info("MAIL refused by fault injection (%s)", refusal[:3])
            return refusal
        # Returning a status means aiosmtpd no longer fills the envelope itself.
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self._faults.refusal("RCPT", address)
        if refusal is not None:
            log.info("RCPT refused by fault injection (%s)", refusal[:3])
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self._faults.refusal("DATA")
        if refusal is not None:
            log.info("DATA refused by fault injection (%s)", refusal[:3])
            return refusal
        data = envelope.original_content
        if data is None:
            data = envelope.content.encode("utf-8", "surrogateescape") if isinstance(envelope.content, str) \
                else envelope.content or b""
        message_id = await asyncio.to_thread(
            self._store.add, envelope.mail_from or "", list(envelope.rcpt_tos), data)
        log.info("message %s stored (%d recipient(s), %d bytes)",
                 message_id, len(envelope.rcpt_tos), len(data))
        return f"250 2.0.0 OK queued as {message_id}"

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session error: %s", type(error).__name__)
        return "451 4.3.0 Mailbox error, try again later"

    def check_credentials(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                          auth_data: object) -> AuthResult:
        """aiosmtpd ``authenticator``: any if no users were given, else login/password must match."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if self._users is None:
            return AuthResult(success=True, auth_data=auth_data)
        expected = self._users.get(auth_data.login.decode("utf-8", "replace"))
        ok = expected is not None and hmac.compare_digest(expected.encode("utf-8"), auth_data.password)
        log.info("AUTH %s %s", mechanism, "accepted" if ok else "refused")
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class _SmtpFactory:
    """Builds one aiosmtpd SMTP protocol per connection, all sharing a handler."""

    def __init__(self, handler: _SinkHandler, *, tls_context: ssl.SSLContext | None, require_auth: bool,
                 require_starttls: bool, data_size_limit: int) -> None:
        self._handler = handler
        self._tls_context = tls_context
        self._require_auth = require_auth
        self._require_starttls = require_starttls
        self._data_size_limit = data_size_limit
        self.connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def __call__(self) -> SMTP:
        with warnings.catch_warnings():  # "Requiring AUTH while not requiring TLS": fine on loopback
            warnings.simplefilter("ignore")
            server = SMTP(
                self._handler,
                hostname=SMTP_HOSTNAME,
                enable_SMTPUTF8=True,
                data_size_limit=self._data_size_limit,
                tls_context=self._tls_context,
                require_starttls=self._require_starttls and self._tls_context is not None,
                auth_required=self._require_auth,
                auth_require_tls=self._tls_context is not None,
                authenticator=self._handler.check_credentials,
                loop=asyncio.get_running_loop(),
            )
        self.connections.add(server)
        return server


class SmtpSink:
    """An SMTP server on 127.0.0.1 (own thread and event loop) that stores every accepted message."""

    def __init__(self, store: MailStore, port: int = 0, *, host: str = "127.0.0.1",
                 tls_context: ssl.SSLContext | None = None, require_auth: dict[str, str] | None = None,
                 require_starttls: bool = True, data_size_limit: int = 32 * 1024 * 1024) -> None:
        self.store = store
        self.host = host
        self._port = port
        self._faults = _Faults()
        self._factory = _SmtpFactory(
            _SinkHandler(store, self._faults, dict(require_auth) if require_auth is not None else None),
            tls_context=tls_context, require_auth=require_auth is not None,
            require_starttls=require_starttls, data_size_limit=data_size_limit,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the one chosen by the OS when constructed with 0, once started)."""
        return self._port

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._thread is not None

    def refuse(self, code: int = 451, message: str = "4.3.0 Try again later", *, at: Stage = "RCPT") -> None:
        """Answer ``code message`` to every command from stage ``at`` on, until accept()."""
        self._faults.refuse(at, _reply(code, message))

    def refuse_recipient(self, address: str, code: int = 550,
                         message: str = "5.1.1 Mailbox unavailable") -> None:
        """Refuse RCPT for this address (case-insensitive) until accept()."""
        self._faults.refuse_recipient(address, _reply(code, message))

    def accept(self) -> None:
        """Stop every injected refusal (global and per recipient)."""
        self._faults.reset()

    def start(self) -> None:
        """Bind and serve in a background thread; a restart after stop() reuses the same port."""
        if self._thread is not None:
            raise RuntimeError("SMTP sink already running")
        _quiet_aiosmtpd()
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(loop.create_server(self._factory, self.host, self._port))
            except BaseException as error:  # reported to start()
                failure.append(error)
                loop.close()
                ready.set()
                return
            self._port = server.sockets[0].getsockname()[1]
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                server.close()
                for connection in list(self._factory.connections):
                    if connection.transport is not None:
                        connection.transport.close()
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(server.wait_closed())
                loop.close()

        thread = threading.Thread(target=run, name=f"smtp-sink-{self._port}", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise TimeoutError("SMTP sink did not start within 10 s")
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        log.info("SMTP sink listening on %s:%d", self.host, self._port)

    def stop(self) -> None:
        """Close the listener and every open SMTP connection, then join the thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread, self._loop = None, None
        log.info("SMTP sink on port %d stopped", self._port)

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _EmbeddedServer(uvicorn.Server):
    """uvicorn server that leaves signal handling to whoever runs the event loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def serve_mailbox(
    directory: Path, smtp_port: int = 1025, http_port: int = 8025, host: str = "127.0.0.1",
    *, on_ready: Callable[[int, int], None] | None = None,
) -> None:
    """Run the SMTP sink and the web mailbox on the current event loop until cancelled."""
    _quiet_aiosmtpd()
    store = MailStore(directory)
    factory = _SmtpFactory(_SinkHandler(store, _Faults(), None), tls_context=None, require_auth=False,
                           require_starttls=False, data_size_limit=32 * 1024 * 1024)
    loop = asyncio.get_running_loop()
    smtp_server = await loop.create_server(factory, host, smtp_port)
    try:
        http_socket = _listen(host, http_port)
    except OSError:
        smtp_server.close()
        raise
    smtp_port = smtp_server.sockets[0].getsockname()[1]
    http_port = http_socket.getsockname()[1]
    config = uvicorn.Config(create_mailbox_app(store), log_level="warning", lifespan="off", access_log=False)
    web = _EmbeddedServer(config)
    web_task = asyncio.create_task(web.serve(sockets=[http_socket]), name="mailbox-web")
    log.info("mailbox ready: SMTP on %s:%d, web on http://%s:%d/ (%d message(s) kept in %s)",
             host, smtp_port, host, http_port, store.count(), directory)
    if on_ready is not None:
        on_ready(smtp_port, http_port)
    try:
        await asyncio.wait([web_task])  # returns only if uvicorn stops by itself
        web_task.result()
    finally:
        smtp_server.close()
        for connection in list(factory.connections):
            if connection.transport is not None:
                connection.transport.close()
        web.should_exit = True
        if not web_task.done():
            await asyncio.wait([web_task], timeout=5)
        if not web_task.done():
            web_task.cancel()
        http_socket.close()
        log.info("mailbox stopped")


__all__ = [
    "Attachment",
    "MailStore",
    "MessageNotFound",
    "MessageSummary",
    "ParsedMessage",
    "SmtpSink",
    "create_mailbox_app",
    "serve_mailbox",
]
