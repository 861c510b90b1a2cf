"""PostgreSQL access: one pool per service, opened in its lifespan; plain-SQL migrations per schema."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from teleservices.shared.settings import DatabaseSettings

log = logging.getLogger(__name__)
SHARED_MIGRATIONS = Path(__file__).parent / "migrations"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _jsonb_encode(value: object) -> bytes:
    return b"\x01" + json.dumps(value).encode()  # jsonb's binary form: a version byte, then the text


def _jsonb_decode(data: bytes) -> object:
    return json.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    """JSON columns as Python values, in binary format so that COPY works too."""
    await conn.set_type_codec("jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog",
                              format="binary")
    await conn.set_type_codec("json", encoder=lambda v: json.dumps(v).encode(), decoder=json.loads,
                              schema="pg_catalog", format="binary")


class Database:
    """A service's connection pool, bound to the service's own schema."""

    def __init__(self, settings: DatabaseSettings, schema: str, application_name: str = "teleservices"):
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        self.settings = settings
        self.schema = schema
        self.application_name = application_name
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        """Create the pool (called in the service's lifespan)."""
        self._pool = await asyncpg.create_pool(
            self.settings.url,
            min_size=self.settings.pool_min_size,
            max_size=self.settings.pool_max_size,
            init=_init_connection,
            server_settings={"search_path": self.schema, "application_name": self.application_name},
        )

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool."""
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, outside any transaction."""
        async with self.pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction, committed on success."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def ping(self) -> bool:
        """Whether the database answers."""
        try:
            async with self.connection() as conn:
                return bool(await conn.fetchval("SELECT 1"))
        except (OSError, asyncpg.PostgresError):
            return False

    async def migrate(self, directories: Sequence[Path]) -> list[str]:
        """Apply the shared then the service's plain-SQL migrations not yet applied; return their names."""
        applied: list[str] = []
        conn = await asyncpg.connect(self.settings.url)
        try:
            async with conn.transaction():
                # Replicas starting together: the lock comes first, or two of them race to create the schema.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{self.schema}")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                await conn.execute(f"SET LOCAL search_path TO {self.schema}")
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations"
                    " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
                for directory in [SHARED_MIGRATIONS, *directories]:
                    for path in sorted(directory.glob("*.sql")):
                        name = f"{directory.parent.name}/{path.name}"
                        if name in done:
                            continue
                        await conn.execute(path.read_text(encoding="utf-8"))
                        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                        applied.append(name)
        finally:
            await conn.close()
        if applied:
            log.info("migrations applied", extra={"schema": self.schema, "migrations": applied})
        return applied
