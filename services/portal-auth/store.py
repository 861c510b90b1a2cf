"""The portal's SQL: credentials, sessions, one-time links, throttling counters, connection log."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from teleservices.portal_auth.domain import NON_NOTIFIE, NOTIFIE, ThrottlePolicy
from teleservices.shared.kafka.outbox import enqueue
from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.messages.topics import Topic


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def publish(conn: asyncpg.Connection, topic: Topic, key: str, payload: Message, uai: str | None) -> None:
    """Emit through the outbox, in the caller's transaction."""
    await enqueue(conn, topic, key, Envelope.wrap(payload, uai=uai))


# --- credentials (fed by accounts.events) -------------------------------------------------------------------

async def account_created(conn: asyncpg.Connection, account_id: uuid.UUID, identifiant: str, population: str,
                          uai: str) -> None:
    """A pre-created account (Non notifié)."""
    await conn.execute(
        "INSERT INTO credentials (account_id, identifiant, population, uai) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (account_id) DO UPDATE SET identifiant = $2, population = $3, uai = $4",
        account_id, identifiant, population, uai)


async def state_changed(conn: asyncpg.Connection, account_id: uuid.UUID, population: str, uai: str, state: str,
                        at: datetime) -> None:
    """The accounts service moved an account; older news than the portal's own change is ignored."""
    applied = await conn.fetchval(
        "INSERT INTO credentials (account_id, population, uai, state, state_changed_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (account_id) DO UPDATE SET population = $2, uai = $3, state = $4, state_changed_at = $5"
        " WHERE credentials.state_changed_at <= $5 RETURNING true", account_id, population, uai, state, at)
    if applied and state in (NON_NOTIFIE, NOTIFIE):  # closed, expired, or reset by staff: the chosen password goes
        await conn.execute("UPDATE credentials SET password_hash = NULL WHERE account_id = $1", account_id)
        await end_sessions(conn, account_id)


async def identifier_changed(conn: asyncpg.Connection, account_id: uuid.UUID, identifiant: str, uai: str) -> None:
    """A new account with a new identifier."""
    await conn.execute(
        "INSERT INTO credentials (account_id, identifiant, uai) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id) DO UPDATE SET identifiant = $2, uai = $3", account_id, identifiant, uai)


async def temporary_password_issued(conn: asyncpg.Connection, account_id: uuid.UUID, identifiant: str,
                                    password_hash: str) -> None:
    """The argon2id hash of the temporary password now in force."""
    await conn.execute(
        "INSERT INTO credentials (account_id, identifiant, temp_password_hash) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id) DO UPDATE SET identifiant = $2, temp_password_hash = $3",
        account_id, identifiant, password_hash)


async def by_identifiant(conn: asyncpg.Connection, identifiant: str) -> asyncpg.Record | None:
    """The credential of an identifier (case-insensitive, as families type it)."""
    return await conn.fetchrow("SELECT * FROM credentials WHERE identifiant = lower($1)", identifiant.strip())


async def by_account(conn: asyncpg.Connection, account_id: uuid.UUID, lock: bool = False) -> asyncpg.Record | None:
    """The credential of an account."""
    return await conn.fetchrow("SELECT * FROM credentials WHERE account_id = $1" + (" FOR UPDATE" if lock else ""),
                               account_id)


async def by_validated_email(conn: asyncpg.Connection, email: str) -> list[asyncpg.Record]:
    """The accounts in use whose validated address this is."""
    return list(await conn.fetch("SELECT * FROM credentials WHERE lower(email) = lower($1) AND email_validated"
                                 " AND state = 'Utilisé' ORDER BY identifiant", email))


async def set_state(conn: asyncpg.Connection, account_id: uuid.UUID, state: str, at: datetime) -> None:
    """The portal's own state change (first connection, activation), ahead of the accounts service's event."""
    await conn.execute("UPDATE credentials SET state = $2, state_changed_at = $3 WHERE account_id = $1",
                       account_id, state, at)


async def set_password(conn: asyncpg.Connection, account_id: uuid.UUID, password_hash: str) -> None:
    """The chosen password; the temporary one stops working."""
    await conn.execute("UPDATE credentials SET password_hash = $2, temp_password_hash = NULL WHERE account_id = $1",
                       account_id, password_hash)


async def set_email(conn: asyncpg.Connection, account_id: uuid.UUID, email: str | None, validated: bool) -> None:
    """The account's address, validated or awaiting its link."""
    await conn.execute("UPDATE credentials SET email = $2, email_validated = $3 WHERE account_id = $1",
                       account_id, email, validated)


# --- sessions ---------------------------------------------------------------------------------------------------

async def open_session(conn: asyncpg.Connection, account_id: uuid.UUID, kind: str, ttl_s: int) -> str:
    """A new session; returns the cookie's random token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    await conn.execute("INSERT INTO sessions (token_hash, account_id, kind, expires_at)"
                       " VALUES ($1, $2, $3, now() + $4::interval)", _digest(token), account_id, kind,
                       timedelta(seconds=ttl_s))
    return token


async def session(conn: asyncpg.Connection, token: str, ttl_s: int) -> asyncpg.Record | None:
    """A live session, its expiry pushed back (simulations keep their fixed end)."""
    return await conn.fetchrow(
        "UPDATE sessions SET expires_at = CASE WHEN kind = 'simulation' THEN expires_at"
        " ELSE now() + $2::interval END WHERE token_hash = $1 AND expires_at > now() RETURNING *",
        _digest(token), timedelta(seconds=ttl_s))


async def end_session(conn: asyncpg.Connection, token: str) -> None:
    """Logout: the session is gone server-side."""
    await conn.execute("DELETE FROM sessions WHERE token_hash = $1", _digest(token))


async def end_sessions(conn: asyncpg.Connection, account_id: uuid.UUID, keep: str | None = None) -> None:
    """Every session of an account (but `keep`) ends."""
    await conn.execute("DELETE FROM sessions WHERE account_id = $1 AND token_hash IS DISTINCT FROM $2",
                       account_id, _digest(keep) if keep else None)


async def purge(conn: asyncpg.Connection, hard_limit: int = 100, connection_log_days: int = 365,
                now: datetime | None = None) -> None:
    """Drop expired sessions, counters idle for a day (not a blocked identifier's), links past any TTL, and
    connections older than the retention period (CNIL 2021-122)."""
    await conn.execute("DELETE FROM connection_log WHERE at < $1",
                       (now or datetime.now(UTC)) - timedelta(days=connection_log_days))
    await conn.execute("DELETE FROM sessions WHERE expires_at < now()")
    await conn.execute("DELETE FROM throttle WHERE last_failure < now() - interval '1 day'"
                       " AND (key NOT LIKE 'id:%' OR failures < $1)", hard_limit)
    await conn.execute("DELETE FROM links WHERE issued_at < now() - interval '100 days'")


# --- one-time links ---------------------------------------------------------------------------------------------

async def link_issued(conn: asyncpg.Connection, link_id: str, account_id: uuid.UUID, purpose: str,
                      email: str | None) -> None:
    """A link the portal emailed (with the address it validates); the account's earlier ones of that purpose end."""
    await conn.execute("UPDATE links SET replaced_at = now() WHERE account_id = $1 AND purpose = $2"
                       " AND used_at IS NULL AND replaced_at IS NULL", account_id, purpose)
    await conn.execute("INSERT INTO links (link_id, account_id, purpose, email) VALUES ($1, $2, $3, $4)",
                       link_id, account_id, purpose, email)


async def issued_link(conn: asyncpg.Connection, link_id: str) -> asyncpg.Record | None:
    """A link as recorded (issued here, or used)."""
    return await conn.fetchrow("SELECT * FROM links WHERE link_id = $1", link_id)


async def use_link(conn: asyncpg.Connection, link_id: str, account_id: uuid.UUID, purpose: str) -> bool:
    """Record a link's single use; False when it was used (or replaced) already."""
    used = await conn.fetchval(
        "INSERT INTO links (link_id, account_id, purpose, used_at) VALUES ($1, $2, $3, now())"
        " ON CONFLICT (link_id) DO UPDATE SET used_at = now()"
        " WHERE links.used_at IS NULL AND links.replaced_at IS NULL RETURNING link_id",
        link_id, account_id, purpose)
    return used is not None


# --- throttling ---------------------------------------------------------------------------------------------

async def throttle_wait(conn: asyncpg.Connection, policy: ThrottlePolicy, identifier_key: str | None,
                        address_key: str, now: datetime) -> float | None:
    """Seconds to wait before trying (inf: blocked until a password reset), or None."""
    rows = {r["key"]: r for r in await conn.fetch("SELECT * FROM throttle WHERE key = ANY($1)",
                                                   [k for k in (identifier_key, address_key) if k])}
    waits = []
    if identifier_key and (row := rows.get(identifier_key)):
        waits.append(policy.identifier_wait(row["failures"], row["last_failure"], row["locked_until"], now))
    if row := rows.get(address_key):
        waits.append(policy.address_wait(row["failures"], row["window_start"], now))
    found = [w for w in waits if w is not None]
    return max(found) if found else None


async def throttle_failure(conn: asyncpg.Connection, policy: ThrottlePolicy, identifier_key: str | None,
                           address_key: str, now: datetime) -> None:
    """Count a failed attempt against the identifier and the client address."""
    if identifier_key:
        failures = await conn.fetchval(
            "INSERT INTO throttle (key, failures, last_failure) VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE"
            " SET failures = throttle.failures + 1, last_failure = $2 RETURNING failures", identifier_key, now)
        lock = policy.lock_after(failures, now)
        if lock is not None:
            await conn.execute("UPDATE throttle SET locked_until = $2 WHERE key = $1", identifier_key, lock)
    await conn.execute(
        "INSERT INTO throttle (key, failures, window_start, last_failure) VALUES ($1, 1, $2, $2)"
        " ON CONFLICT (key) DO UPDATE SET"
        " failures = CASE WHEN throttle.window_start < $2 - $3::interval THEN 1 ELSE throttle.failures + 1 END,"
        " window_start = CASE WHEN throttle.window_start < $2 - $3::interval THEN $2 ELSE throttle.window_start END,"
        " last_failure = $2", address_key, now, timedelta(seconds=policy.address_window_s))


async def throttle_clear(conn: asyncpg.Connection, identifier_key: str) -> None:
    """A success (or a password reset) forgets an identifier's failures."""
    await conn.execute("DELETE FROM throttle WHERE key = $1", identifier_key)


# --- connection log -----------------------------------------------------------------------------------------

async def log_connection(conn: asyncpg.Connection, account_id: uuid.UUID, kind: str, at: datetime) -> None:
    """Record a connection (real, first connection or simulation)."""
    await conn.execute("INSERT INTO connection_log (account_id, kind, at) VALUES ($1, $2, $3)", account_id, kind, at)


async def previous_login(conn: asyncpg.Connection, account_id: uuid.UUID, current_is_real: bool = True
                         ) -> datetime | None:
    """The real connection before the current one (« Dernière connexion le … »); a simulation shows the last."""
    value: datetime | None = await conn.fetchval(
        "SELECT at FROM connection_log WHERE account_id = $1 AND kind <> 'simulation' ORDER BY at DESC"
        " OFFSET $2 LIMIT 1", account_id, 1 if current_is_real else 0)
    return value
